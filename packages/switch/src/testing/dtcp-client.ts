/**
 * Test helpers for the DTCP listener (only for tests): a line client over real TCP, and a
 * plane that records what the control plane opens and closes (the real 6in4 plane is
 * exercised in the netns end-to-end tests).
 */
import { createHash } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import type { SixInFourPlane, SixInFourTunnel, SixInFourTunnelSpec } from '../dtcp/six-in-four.js';

export class RecordingPlane implements SixInFourPlane {
  readonly events: string[] = [];
  readonly live = new Map<string, SixInFourTunnelSpec>();
  #n = 0;

  open(spec: SixInFourTunnelSpec): SixInFourTunnel {
    const id = `t${++this.#n}`;
    this.live.set(id, spec);
    this.events.push(`open ${id} ${spec.user} ${spec.clientV4}>${spec.serverV4} [${spec.sources.join(',')}]`);
    return {
      id,
      close: (reason) => {
        if (this.live.delete(id)) this.events.push(`close ${id} ${reason}`);
      },
    };
  }

  get size(): number {
    return this.live.size;
  }

  async close(): Promise<void> {
    this.live.clear();
  }
}

/** hex(MD5(user ‖ challenge ‖ secret)), as DTCP clients compute it. */
export function dtcpDigest(user: string, challenge: string, secret: string): string {
  return createHash('md5').update(`${user}${challenge}${secret}`).digest('hex');
}

/** A DTCP client speaking lines: `next()` is the next reply line (without CR LF). */
export class LineClient {
  readonly lines: string[] = [];
  #waiters: (() => void)[] = [];
  #buf = '';
  closed = false;
  readonly gone: Promise<void>;
  /** The greeting's challenge. */
  challenge = '';

  private constructor(readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      this.#buf += d;
      for (let i = this.#buf.indexOf('\r\n'); i !== -1; i = this.#buf.indexOf('\r\n')) {
        this.lines.push(this.#buf.slice(0, i));
        this.#buf = this.#buf.slice(i + 2);
      }
      this.#wake();
    });
    socket.on('error', () => {});
    this.gone = new Promise((resolve) =>
      socket.on('close', () => {
        this.closed = true;
        this.#wake();
        resolve();
      }),
    );
  }

  /** Connects and reads the greeting (unless `greeting: false`, e.g. before a PROXY header). */
  static async connect(port: number, opts: { localAddress?: string; greeting?: boolean; host?: string } = {}): Promise<LineClient> {
    const socket = connect({ host: opts.host ?? '127.0.0.1', port, ...(opts.localAddress ? { localAddress: opts.localAddress } : {}) });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const c = new LineClient(socket);
    if (opts.greeting !== false) await c.greet();
    return c;
  }

  async greet(): Promise<string> {
    const g = await this.next();
    this.challenge = g.split(' ')[1] ?? '';
    return g;
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  send(line: string, eol = '\r\n'): void {
    this.socket.write(line + eol);
  }

  /** The next line; rejects when the connection closes first or after `ms`. */
  async next(ms = 5000): Promise<string> {
    const deadline = Date.now() + ms;
    while (this.lines.length === 0) {
      if (this.closed) throw new Error('connection closed');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no line within ${ms} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.lines.shift()!;
  }

  /** Sends `line` and returns the reply line. */
  async ask(line: string): Promise<string> {
    this.send(line);
    return this.next();
  }

  /** `tunnel user digest type` with the digest of this connection's challenge; `upper` sends it in upper case. */
  async tunnel(user: string, secret: string, type: string, opts: { upper?: boolean } = {}): Promise<string> {
    const d = dtcpDigest(user, this.challenge, secret);
    return this.ask(`tunnel ${user} ${opts.upper ? d.toUpperCase() : d} ${type}`);
  }

  /** Resolves once the server closed the connection (rejects after `ms`). */
  async closedWithin(ms = 5000): Promise<void> {
    await Promise.race([this.gone, new Promise((_, reject) => setTimeout(() => reject(new Error(`still open after ${ms} ms`)), ms).unref())]);
  }

  destroy(): void {
    this.socket.destroy();
  }
}
