/**
 * TLS session resumption across nodes (real TLS, real SwitchNodes): ticket keys derived
 * from one cluster secret let a session made at one node resume at another; nodes with
 * other keys (another secret, or none) make a full handshake.
 */
import { connect, createServer, type TLSSocket } from 'node:tls';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { ALPN } from '@elink/protocol';
import { useSwitchHarness } from '../testing/test-node.js';
import { SESSION_TICKET_KEYS_LENGTH, sessionTicketKeys, SWITCH_SESSION_ID_CONTEXT } from './session-ticket-keys.js';

const h = useSwitchHarness();

/** A TLS 1.3 connection to `port`, offering `session`; whether it resumed, and (a full handshake) the session the node sent. */
async function handshake(port: number, session?: Buffer): Promise<{ resumed: boolean; next?: Buffer }> {
  const socket: TLSSocket = connect({ host: '127.0.0.1', port, ca: h.fx.caPem, ALPNProtocols: [ALPN], ...(session ? { session } : {}) });
  const next = once(socket, 'session', { signal: AbortSignal.timeout(5000) }) as Promise<[Buffer]>;
  next.catch(() => {});
  socket.resume(); // TLS 1.3 tickets arrive after the handshake: read to see them
  await once(socket, 'secureConnect');
  const resumed = socket.isSessionReused();
  // A resumed handshake may come without a new ticket; a full one brings one.
  const s = resumed ? undefined : (await next)[0];
  socket.destroy();
  return { resumed, ...(s ? { next: s } : {}) };
}

describe('session ticket keys', () => {
  it('are 48 bytes, the same for one secret and different for another', () => {
    expect(sessionTicketKeys('a-cluster-secret-0123')).toHaveLength(SESSION_TICKET_KEYS_LENGTH);
    expect(sessionTicketKeys('a-cluster-secret-0123')).toEqual(sessionTicketKeys('a-cluster-secret-0123'));
    expect(sessionTicketKeys('b-cluster-secret-0123')).not.toEqual(sessionTicketKeys('a-cluster-secret-0123'));
  });

  it('let a client resume at another node of the cluster, and not at a node with other keys', async () => {
    const keys = sessionTicketKeys('cluster-secret-0123456789abcdef');
    const a = await h.node({ tls: { cert: h.fx.certPem, key: h.fx.keyPem, ticketKeys: keys } });
    const b = await h.node({ tls: { cert: h.fx.certPem, key: h.fx.keyPem, ticketKeys: keys } });
    const other = await h.node({ tls: { cert: h.fx.certPem, key: h.fx.keyPem, ticketKeys: sessionTicketKeys('another-secret-0123456789') } });
    const plain = await h.node();
    const first = await handshake(a.node.address().port);
    expect(first.resumed).toBe(false);
    expect((await handshake(b.node.address().port, first.next!)).resumed).toBe(true);
    expect((await handshake(other.node.address().port, first.next!)).resumed).toBe(false);
    expect((await handshake(plain.node.address().port, first.next!)).resumed).toBe(false);
    // Keys survive a certificate reload.
    a.node.setSecureContext({ cert: h.fx.certPem, key: h.fx.keyPem });
    expect((await handshake(a.node.address().port, first.next!)).resumed).toBe(true);
  });

  it('resume in another process too: the session id context is the same at every node, not node:tls’s hash of the command line', async () => {
    const keys = sessionTicketKeys('cluster-secret-0123456789abcdef');
    const a = await h.node({ tls: { cert: h.fx.certPem, key: h.fx.keyPem, ticketKeys: keys } });
    // Plain TLS servers with the node's keys stand for a node in another process (whose
    // command line differs): one in the switches' context, one in node:tls's default.
    const serve = async (sessionIdContext?: string) => {
      const srv = createServer({ cert: h.fx.certPem, key: h.fx.keyPem, ticketKeys: keys, ALPNProtocols: [ALPN], ...(sessionIdContext ? { sessionIdContext } : {}) }, (s) => s.on('error', () => {}));
      await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
      return srv;
    };
    const same = await serve(SWITCH_SESSION_ID_CONTEXT);
    const other = await serve('another command line');
    try {
      const first = await handshake(a.node.address().port);
      expect((await handshake((same.address() as { port: number }).port, first.next!)).resumed).toBe(true);
      expect((await handshake((other.address() as { port: number }).port, first.next!)).resumed).toBe(false);
      // And after a certificate reload.
      a.node.setSecureContext({ cert: h.fx.certPem, key: h.fx.keyPem });
      const again = await handshake(a.node.address().port);
      expect((await handshake((same.address() as { port: number }).port, again.next!)).resumed).toBe(true);
    } finally {
      same.close();
      other.close();
    }
  });
});
