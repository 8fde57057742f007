import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect, createServer, type ConnectionOptions, type Server, type TLSSocket } from 'node:tls';
import { createCertificateAuthority, issueServerCertificate } from '@elink/pki';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readIntoSharedBuffer, sharedReadOption } from './shared-read-buffer.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('TLS sockets reading into the shared buffer (real TLS on loopback)', () => {
  let key = '';
  let cert = '';
  let server: Server | undefined;
  const sockets: TLSSocket[] = [];
  beforeAll(async () => {
    const ca = await createCertificateAuthority('shared read buffer test CA');
    ({ keyPem: key, certPem: cert } = await issueServerCertificate(ca, ['127.0.0.1']));
  });
  afterEach(() => {
    for (const s of sockets) s.destroy();
    sockets.length = 0;
    server?.close();
    server = undefined;
  });

  async function listen(onSecure: (s: TLSSocket) => void): Promise<number> {
    server = createServer({ key, cert }, (s) => {
      sockets.push(s);
      onSecure(s);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return (server.address() as { port: number }).port;
  }

  it('server side: this Node has the internals, every chunk is a view of one buffer, and 4 MiB arrive intact, including what came before the switch-over', async () => {
    const data = randomBytes(4 << 20);
    const got: Buffer[] = [];
    const buffers = new Set<ArrayBufferLike>();
    let attached: boolean | undefined;
    let sawData = false;
    const done = new Promise<void>((resolve) => {
      void listen((s) => {
        s.on('data', () => (sawData = true)); // must stay silent once attached
        s.removeAllListeners('data');
        s.pause();
        // Attach a little later, so the first bytes wait in the stream's own buffer.
        setTimeout(() => {
          attached = readIntoSharedBuffer(s, (chunk) => {
            buffers.add(chunk.buffer);
            got.push(Buffer.from(chunk)); // copy: the chunk is reused after the callback
            if (got.reduce((n, c) => n + c.length, 0) >= data.length) resolve();
          });
        }, 100);
      }).then((port) => {
        const c = connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
          c.write(data.subarray(0, 1000));
          setTimeout(() => c.write(data.subarray(1000)), 200);
        });
        sockets.push(c);
      });
    });
    await Promise.race([done, new Promise((_, reject) => setTimeout(() => reject(new Error(`only ${got.length} chunks in 10 s`)), 10_000))]);
    expect(attached).toBe(true);
    expect(sawData).toBe(false);
    expect(sha(Buffer.concat(got))).toBe(sha(data));
    // The first chunk (buffered before the switch-over) is the stream's own; all others share one buffer.
    expect(buffers.size).toBeLessThanOrEqual(2);
    expect(got.length).toBeGreaterThan(100);
  });

  it('client side: the onread option delivers 4 MiB intact, every chunk a view of one buffer', async () => {
    const data = randomBytes(4 << 20);
    const port = await listen((s) => s.end(data));
    const got: Buffer[] = [];
    const buffers = new Set<ArrayBufferLike>();
    const c = connect(<ConnectionOptions>{
      host: '127.0.0.1',
      port,
      rejectUnauthorized: false,
      onread: sharedReadOption((chunk) => {
        buffers.add(chunk.buffer);
        got.push(Buffer.from(chunk));
      }),
    });
    sockets.push(c);
    await once(c, 'end');
    expect(sha(Buffer.concat(got))).toBe(sha(data));
    expect(buffers.size).toBe(1);
  });
});
