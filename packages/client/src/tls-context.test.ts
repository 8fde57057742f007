/**
 * ClientTlsContexts against real TLS servers on loopback: one context per CA and cipher
 * list, reused; a shared context still checks the server's certificate against its own CA
 * only, and still resumes a session; the cache stays bounded.
 */
import { once } from 'node:events';
import { connect, createServer, type ConnectionOptions, type Server, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCertificateAuthority, issueServerCertificate } from '@elink/pki';
import { ClientTlsContexts, clientTlsContext } from './tls-context.js';

interface TestServer {
  server: Server;
  port: number;
  caPem: string;
}

async function startServer(name: string): Promise<TestServer> {
  const ca = await createCertificateAuthority(name);
  const { keyPem: key, certPem: cert } = await issueServerCertificate(ca, ['127.0.0.1']);
  const server = createServer({ key, cert }, (s) => s.end('hi'));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as { port: number }).port, caPem: ca.certPem };
}

/** Connects with `opts`; resolves with the socket once secure, rejects on a TLS error. */
function open(port: number, opts: ConnectionOptions): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, ...opts }, () => resolve(socket));
    socket.once('error', reject);
  });
}

describe('ClientTlsContexts', () => {
  let a: TestServer;
  let b: TestServer;

  beforeAll(async () => {
    a = await startServer('tls context test CA a');
    b = await startServer('tls context test CA b');
  });

  afterAll(async () => {
    for (const s of [a, b]) await new Promise<void>((r) => s.server.close(() => r()));
  });

  it('gives one context per CA and cipher list, the same object each time', () => {
    const contexts = new ClientTlsContexts();
    const first = contexts.get({ ca: a.caPem });
    expect(contexts.get({ ca: a.caPem })).toBe(first);
    expect(contexts.get({ ca: Buffer.from(a.caPem) })).toBe(first);
    expect(contexts.get({ ca: b.caPem })).not.toBe(first);
    expect(contexts.get({ ca: a.caPem, ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' })).not.toBe(first);
    expect(contexts.get({})).not.toBe(first);
    expect(contexts.count).toBe(4);
  });

  it('keeps at most its size, dropping the least recently used', () => {
    const contexts = new ClientTlsContexts(2);
    const ctxA = contexts.get({ ca: a.caPem });
    contexts.get({ ca: b.caPem });
    expect(contexts.get({ ca: a.caPem })).toBe(ctxA); // a is now the most recently used
    contexts.get({}); // drops b
    expect(contexts.count).toBe(2);
    expect(contexts.get({ ca: a.caPem })).toBe(ctxA);
  });

  it('a shared context trusts its own CA only, for every connection', async () => {
    const ctx = clientTlsContext({ ca: a.caPem });
    const one = await open(a.port, { secureContext: ctx });
    const two = await open(a.port, { secureContext: ctx });
    expect(one.authorized && two.authorized).toBe(true);
    one.destroy();
    two.destroy();
    // Server b's certificate is signed by another CA: refused with the context of a's.
    await expect(open(b.port, { secureContext: ctx })).rejects.toMatchObject({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
  });

  it('a connection over a shared context resumes a session another one got', async () => {
    const ctx = clientTlsContext({ ca: a.caPem });
    const first = connect({ host: '127.0.0.1', port: a.port, secureContext: ctx });
    const [session] = (await once(first, 'session')) as [Buffer];
    expect(first.isSessionReused()).toBe(false);
    first.destroy();
    const second = await open(a.port, { secureContext: ctx, session });
    expect(second.isSessionReused()).toBe(true);
    second.destroy();
  });
});
