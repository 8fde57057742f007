/**
 * Test helpers: the real curl binary, small servers on 127.0.0.1/::1, raw sockets that
 * read exactly what they are sent. Not part of the package's API.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as net from 'node:net';
import { once } from 'node:events';

export interface CurlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs curl (bounded to 20 s); resolves with its exit code, never rejects for a non-zero one. */
export function curl(args: string[]): Promise<CurlResult> {
  return new Promise((resolve) => {
    execFile('curl', ['--silent', '--show-error', '--max-time', '15', ...args], { timeout: 20_000, maxBuffer: 64 << 20, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

export const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

export async function listening<T extends net.Server>(server: T, host = '127.0.0.1'): Promise<T & { port: number }> {
  server.listen(0, host);
  await once(server, 'listening');
  return Object.assign(server, { port: (server.address() as net.AddressInfo).port });
}

/** A port on 127.0.0.1 that nothing listens on (bound, then closed). */
export async function closedPort(): Promise<number> {
  const s = await listening(net.createServer());
  await new Promise<void>((r) => s.close(() => r()));
  return s.port;
}

/** Echoes every byte back and half-closes when the client does. */
export function echoServer(): net.Server {
  return net.createServer({ allowHalfOpen: true }, (s) => {
    s.on('error', () => undefined);
    s.pipe(s);
  });
}

/** Connects, sends (then half-closes if `end`), and collects everything until the peer closes (bounded by `ms`). */
export async function exchange(port: number, send: Uint8Array | undefined, ms = 10_000, end = false, host = '127.0.0.1'): Promise<{ data: Buffer; ended: boolean }> {
  const s = net.connect({ port, host });
  s.on('error', () => undefined);
  const chunks: Buffer[] = [];
  s.on('data', (c: Buffer) => chunks.push(c));
  await once(s, 'connect');
  if (send) s.write(send);
  if (end) s.end();
  let ended = false;
  s.on('end', () => (ended = true));
  await Promise.race([once(s, 'close'), new Promise((r) => setTimeout(r, ms))]);
  s.destroy();
  return { data: Buffer.concat(chunks), ended };
}

/** A socket that reads into a buffer; `until(n)` waits for n bytes (bounded). */
export async function rawClient(port: number, host = '127.0.0.1') {
  const s = net.connect({ port, host });
  s.on('error', () => undefined);
  let buf = Buffer.alloc(0);
  let closed = false;
  s.on('data', (c: Buffer) => (buf = Buffer.concat([buf, c])));
  s.on('close', () => (closed = true));
  await once(s, 'connect');
  return {
    socket: s,
    get data() {
      return buf;
    },
    get closed() {
      return closed;
    },
    /** Waits until `pred` holds or the socket closes or 5 s pass. */
    async until(pred: (b: Buffer) => boolean, ms = 5000): Promise<Buffer> {
      const end = Date.now() + ms;
      while (!pred(buf) && !closed && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
      return buf;
    },
  };
}
