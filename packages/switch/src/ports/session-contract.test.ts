// The session contract: what a client sees of a switch session, run unchanged over the
// in-memory RecordConn pair (SwitchNode.acceptConn) and over real TLS (the node's listener):
// hello → welcome, a bad hello → its error code, the hello timeout, keepalive ping/pong and
// its timeout, supersede of the same user and device, drain → redirect, bye.
import { ALPN, ElError, encodeControl, encodeRecord, formatMac, generateTicketKeyPair, MAX_CONTROL_PAYLOAD, MAX_RECORD_PAYLOAD, parseControl, RecordType, type ControlMessage } from '@elink/protocol';
import { memoryRecordConnPair, TlsRecordConn, type RecordConn } from '@elink/transport';
import { afterEach, describe, expect, it } from 'vitest';
import type { SwitchNode } from '../node/switch-node.js';
import { waitUntil, type Fixture } from '../testing/test-client.js';
import { BROADCAST, ethFrame, mac } from '../testing/test-frames.js';
import { segment, useSwitchHarness } from '../testing/test-node.js';

/** The client's side of one EL connection, over any RecordConn. */
class Peer {
  readonly controls: ControlMessage[] = [];
  readonly errors: ElError[] = [];
  readonly frames: Buffer[] = [];
  closed = false;
  constructor(readonly conn: RecordConn) {
    conn.accept(RecordType.CONTROL, MAX_CONTROL_PAYLOAD);
    conn.accept(RecordType.FRAME, MAX_RECORD_PAYLOAD);
    conn.start({
      onRecord: (type, payload) => {
        if (type === RecordType.CONTROL) this.controls.push(parseControl(payload));
        else if (type === RecordType.FRAME) this.frames.push(Buffer.from(payload));
      },
      onError: (err) => this.errors.push(err),
      onClose: () => (this.closed = true),
    });
  }
  send(msg: ControlMessage): void {
    this.conn.write(encodeControl(msg));
  }
  frame(frame: Buffer): void {
    this.conn.write(encodeRecord(RecordType.FRAME, frame));
  }
  hello(ticket: string, mac?: number): void {
    this.send(mac === undefined ? { type: 'hello', version: 1, ticket } : { type: 'hello', version: 1, ticket, mac: formatMac(mac) });
  }
  async next<T extends ControlMessage['type']>(type: T, timeoutMs = 5000): Promise<Extract<ControlMessage, { type: T }>> {
    await waitUntil(() => this.controls.some((m) => m.type === type), `a "${type}" message (have ${this.controls.map((m) => m.type).join(', ') || 'none'})`, timeoutMs);
    return this.controls.find((m) => m.type === type) as Extract<ControlMessage, { type: T }>;
  }
  async closing(timeoutMs = 5000): Promise<void> {
    await waitUntil(() => this.closed, 'the connection to close', timeoutMs);
  }
}

type Connect = (node: SwitchNode, fx: Fixture) => Promise<Peer>;

function describeSessionContract(name: string, connect: Connect): void {
  describe(`session contract: ${name}`, () => {
    const h = useSwitchHarness();
    const peers: Peer[] = [];
    const open = async (node: SwitchNode): Promise<Peer> => {
      const p = await connect(node, h.fx);
      peers.push(p);
      return p;
    };
    afterEach(() => {
      for (const p of peers.splice(0)) p.conn.destroy();
    });
    const keepaliveSegment = segment({ name: 'lan', keepalive: { interval: 1, timeout: 3 } });

    it('hello → welcome with the session, node, segment, mode and MTU; then frames flow between sessions', async () => {
      const t = await h.node();
      const p = await open(t.node);
      p.hello(h.fx.ticket(), mac(1));
      const w = await p.next('welcome');
      expect(w).toMatchObject({ node: 'sw-test', segment: 'lan', mode: 'l2', mtu: 1500 });
      expect(w.session).toMatch(/^s-/);
      const q = await open(t.node);
      q.hello(h.fx.ticket(), mac(2));
      await q.next('welcome');
      await waitUntil(() => t.node.stats.established === 2, 'both sessions established');
      p.frame(ethFrame(BROADCAST, mac(1), 'hi'));
      await waitUntil(() => q.frames.length === 1, 'the frame at the other session');
      expect(q.frames[0]!.subarray(14).toString()).toBe('hi');
    });

    it('a bad hello ends the session with its error code: a ticket from an unknown key, then a replayed one', async () => {
      const t = await h.node();
      const bad = await open(t.node);
      bad.hello(h.fx.ticket({}, generateTicketKeyPair().privateKey));
      expect((await bad.next('error')).code).toBe('EL_ERR_BAD_TICKET');
      await bad.closing();
      const ticket = h.fx.ticket();
      const first = await open(t.node);
      first.hello(ticket);
      await first.next('welcome');
      const again = await open(t.node);
      again.hello(ticket);
      expect((await again.next('error')).code).toBe('EL_ERR_TICKET_REPLAYED');
      await again.closing();
    });

    it('a message other than hello first is EL_ERR_PROTOCOL', async () => {
      const t = await h.node();
      const p = await open(t.node);
      p.send({ type: 'ping', id: 1 });
      expect((await p.next('error')).code).toBe('EL_ERR_PROTOCOL');
      await p.closing();
    });

    it('no hello within helloTimeoutMs → EL_ERR_HELLO_TIMEOUT', async () => {
      const t = await h.node({ helloTimeoutMs: 200 });
      const p = await open(t.node);
      expect((await p.next('error')).code).toBe('EL_ERR_HELLO_TIMEOUT');
      await p.closing();
    });

    it('keepalive: a ping is answered with a pong of its id; the switch pings, and ends a silent session with EL_ERR_KEEPALIVE_TIMEOUT', async () => {
      const t = await h.node({ segments: [keepaliveSegment] });
      const p = await open(t.node);
      p.hello(h.fx.ticket());
      await p.next('welcome');
      p.send({ type: 'ping', id: 42 });
      expect(await p.next('pong')).toEqual({ type: 'pong', id: 42 });
      expect((await p.next('ping', 3000)).id).toBeGreaterThan(0);
      // The peer answers nothing from here on: after the keepalive timeout it is closed.
      expect((await p.next('error', 5000)).code).toBe('EL_ERR_KEEPALIVE_TIMEOUT');
      await p.closing();
    }, 15_000);

    it('the same user and device connecting again supersedes the old session (bye "superseded"); another device with the MAC is refused', async () => {
      const t = await h.node();
      const mac = formatMac(0x02e100000007);
      const old = await open(t.node);
      old.hello(h.fx.ticket({ dev: 'laptop', mac }));
      await old.next('welcome');
      const other = await open(t.node);
      other.hello(h.fx.ticket({ dev: 'phone', mac }));
      expect((await other.next('error')).code).toBe('EL_ERR_MAC_IN_USE');
      const again = await open(t.node);
      again.hello(h.fx.ticket({ dev: 'laptop', mac }));
      await again.next('welcome');
      expect(await old.next('bye')).toEqual({ type: 'bye', reason: 'superseded' });
      await old.closing();
      expect(again.closed).toBe(false);
    });

    it('drain → every session gets redirect and closes; a new connection is refused with EL_ERR_UNAVAILABLE', async () => {
      const t = await h.node();
      const a = await open(t.node);
      a.hello(h.fx.ticket());
      await a.next('welcome');
      await t.node.drain('rollout', { timeoutMs: 3000 });
      expect(await a.next('redirect')).toEqual({ type: 'redirect', reason: 'rollout' });
      await a.closing();
      const late = await open(t.node);
      expect((await late.next('error')).code).toBe('EL_ERR_UNAVAILABLE');
    });

    it('bye from the client closes the session (counted as client_bye)', async () => {
      const t = await h.node();
      const p = await open(t.node);
      p.hello(h.fx.ticket());
      await p.next('welcome');
      p.send({ type: 'bye', reason: 'done' });
      await p.closing();
      await waitUntil(() => t.node.stats.closed.client_bye === 1, 'the session closed as client_bye');
      expect(t.node.stats.sessions).toBe(0);
    });
  });
}

describeSessionContract('over the in-memory RecordConn pair', async (node) => {
  const [client, server] = memoryRecordConnPair();
  node.acceptConn(server);
  return new Peer(client);
});

describeSessionContract('over TLS', async (node, fx) => {
  const { port } = node.address();
  const conn = TlsRecordConn.connect({ host: '127.0.0.1', port, ca: fx.caPem, servername: 'localhost', ALPNProtocols: [ALPN] });
  const peer = new Peer(conn);
  await new Promise<void>((resolve, reject) => {
    conn.socket.once('secureConnect', () => resolve());
    conn.socket.once('error', reject);
  });
  return peer;
});
