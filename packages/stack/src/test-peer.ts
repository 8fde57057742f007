/**
 * A process that joins a segment with the user-mode stack and does what the end-to-end
 * tests and the benchmark ask, one JSON command per stdin line, one JSON reply per
 * stdout line (logs go to stderr). Not part of the package (dist/test-* is not shipped).
 *
 *   node dist/test-peer.js --broker URL --ca FILE --user U --password-file F --device D
 *                          [--impair LOSS_PERCENT,DELAY_MS]
 *
 * Commands: http-serve {port}; fetch {url, post?}; udp-echo {port};
 * udp-ping {host, port, text}; tcp-sink {port}; tcp-source {host, port, bytes};
 * idle-sockets {host, port, count}; memory; stop.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, request } from 'node:http';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { SegmentStack, type SegmentStackOptions } from './segment-stack.js';
import type { StackSocket } from './tcp-socket.js';

/** The bytes both sides of a transfer test agree on: n bytes of a fixed pattern. */
export function pattern(n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 131 + (i >>> 12)) & 0xff;
  return b;
}

/** Loss, delay and reordering on the path, both ways, in user space (no netem here). */
class ImpairedStack extends SegmentStack {
  private rand = 12345;
  /** Frames this link dropped (both ways): the test checks the loss really happened. */
  dropped = 0;

  constructor(
    opts: SegmentStackOptions,
    private readonly lossPercent: number,
    private readonly delayMs: number,
  ) {
    super(opts);
  }

  /** A fixed-seed generator: the same run loses the same frames. */
  private next(): number {
    this.rand = (Math.imul(this.rand, 1103515245) + 12345) >>> 0;
    return this.rand / 0x100000000;
  }

  /** Delay plus up to 2 ms of jitter, so some frames overtake others. */
  private wait(): number {
    return this.delayMs + this.next() * 2;
  }

  protected override toSwitch(frames: Buffer[]): void {
    for (const f of frames) {
      if (this.next() * 100 < this.lossPercent) {
        this.dropped++;
        continue;
      }
      setTimeout(() => super.toSwitch([f]), this.wait());
    }
  }

  protected override fromSwitch(frame: Buffer): void {
    if (this.next() * 100 < this.lossPercent) {
      this.dropped++;
      return;
    }
    const copy = Buffer.from(frame);
    setTimeout(() => super.fromSwitch(copy), this.wait());
  }
}

const { values } = parseArgs({
  options: {
    broker: { type: 'string' },
    ca: { type: 'string' },
    user: { type: 'string' },
    'password-file': { type: 'string' },
    device: { type: 'string' },
    impair: { type: 'string' },
  },
});

const logger = pino({ level: 'warn' }, pino.destination(2));
const opts: SegmentStackOptions = {
  broker: values.broker!,
  ca: readFileSync(values.ca!),
  credentials: { user: values.user!, password: readFileSync(values['password-file']!, 'utf8').trim(), device: values.device },
  logger,
};
const [loss, delay] = (values.impair ?? '0,0').split(',').map(Number);
const stack = await SegmentStack.started(values.impair ? new ImpairedStack(opts, loss, delay) : new SegmentStack(opts));
const reply = (o: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(o)}\n`);
let sessions = 1;
stack.on('up', () => sessions++);
reply({ event: 'up', ...stack.addresses, mode: stack.welcome?.mode, mtu: stack.welcome?.mtu, uid: process.getuid?.() });

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const hostOf = (u: URL) => u.hostname.replace(/^\[|\]$/g, '');
const held: StackSocket[] = [];

type Cmd = { id: number; cmd: string; [k: string]: unknown };

async function run(c: Cmd): Promise<Record<string, unknown>> {
  switch (c.cmd) {
    case 'http-serve': {
      // node:http on the stack: the server takes the stack's connections as its own.
      const http = createHttpServer((req, res) => {
        const m = /^\/bytes\/(\d+)$/.exec(req.url ?? '');
        if (req.method === 'GET' && m) {
          res.setHeader('content-type', 'application/octet-stream');
          res.end(pattern(Number(m[1])));
          return;
        }
        const h = createHash('sha256');
        let n = 0;
        req.on('data', (d: Buffer) => {
          h.update(d);
          n += d.length;
        });
        req.on('end', () => res.end(JSON.stringify({ sha: h.digest('hex'), length: n })));
      });
      const server = stack.createServer((s) => http.emit('connection', s));
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(Number(c.port), () => resolve());
      });
      return { port: Number(c.port) };
    }
    case 'fetch': {
      // node:http's client with the stack's connection (an agent's createConnection works the same).
      const u = new URL(String(c.url));
      const body = c.post !== undefined ? pattern(Number(c.post)) : undefined;
      return new Promise((resolve, reject) => {
        const req = request(
          {
            method: body ? 'POST' : 'GET',
            host: hostOf(u),
            port: Number(u.port),
            path: u.pathname,
            createConnection: () => stack.connect({ host: hostOf(u), port: Number(u.port) }),
            headers: body ? { 'content-length': String(body.length) } : {},
          },
          (res) => {
            const parts: Buffer[] = [];
            res.on('data', (d: Buffer) => parts.push(d));
            res.on('end', () => {
              const all = Buffer.concat(parts);
              resolve({ status: res.statusCode, length: all.length, sha: sha(all), text: all.length < 1024 ? all.toString() : undefined });
            });
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    }
    case 'udp-echo': {
      const u = stack.createSocket('udp6', (msg, rinfo) => u.send(msg, rinfo.port, rinfo.address));
      await new Promise<void>((r) => u.bind(Number(c.port), () => r()));
      return { port: Number(c.port) };
    }
    case 'udp-ping': {
      const host = String(c.host);
      const u = stack.createSocket(host.includes(':') ? 'udp6' : 'udp4');
      try {
        for (let i = 0; i < 5; i++) {
          const got = new Promise<string | undefined>((r) => {
            const t = setTimeout(() => r(undefined), 1000);
            u.once('message', (m: Buffer) => {
              clearTimeout(t);
              r(m.toString());
            });
          });
          u.send(String(c.text), Number(c.port), host);
          const text = await got;
          if (text !== undefined) return { text };
        }
        return { text: null };
      } finally {
        u.close();
      }
    }
    case 'tcp-sink': {
      const server = stack.createServer((s) => {
        let n = 0;
        s.on('data', (d: Buffer) => (n += d.length));
        s.on('end', () => s.end(String(n)));
        s.on('error', () => undefined);
      });
      await new Promise<void>((r) => server.listen(Number(c.port), () => r()));
      return { port: Number(c.port) };
    }
    case 'tcp-source': {
      // `bytes` to host:port as fast as the path takes them; the peer answers with the count.
      const total = Number(c.bytes);
      const chunk = pattern(65536);
      const s = stack.connect({ host: String(c.host), port: Number(c.port) });
      const start = performance.now();
      await new Promise<void>((r, j) => {
        s.once('connect', () => r());
        s.once('error', j);
      });
      let sent = 0;
      while (sent < total) {
        const n = Math.min(chunk.length, total - sent);
        if (!s.write(n === chunk.length ? chunk : chunk.subarray(0, n))) await new Promise((r) => s.once('drain', r));
        sent += n;
      }
      s.end();
      const answer = await new Promise<string>((r, j) => {
        let t = '';
        s.on('data', (d: Buffer) => (t += d.toString()));
        s.on('end', () => r(t));
        s.on('error', j);
      });
      const seconds = (performance.now() - start) / 1000;
      return { sent, received: Number(answer), seconds, mbps: (sent * 8) / seconds / 1e6 };
    }
    case 'idle-sockets': {
      // `count` connections held open and idle (the memory benchmark).
      for (let i = 0; i < Number(c.count); i++) {
        const s = stack.connect({ host: String(c.host), port: Number(c.port) });
        s.on('error', () => undefined);
        await new Promise<void>((r, j) => {
          s.once('connect', () => r());
          s.once('error', j);
        });
        held.push(s);
      }
      return { open: held.filter((s) => !s.destroyed).length };
    }
    case 'memory': {
      const gc = (globalThis as { gc?: () => void }).gc;
      for (let i = 0; i < 3; i++) {
        gc?.();
        await new Promise((r) => setImmediate(r));
      }
      const m = process.memoryUsage();
      return { rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers, stats: stack.stats, sessions, impairedDrops: stack instanceof ImpairedStack ? stack.dropped : 0 };
    }
    case 'stop':
      await stack.stop();
      setTimeout(() => process.exit(0), 50);
      return {};
    default:
      throw new Error(`unknown command ${c.cmd}`);
  }
}

for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  const c = JSON.parse(line) as Cmd;
  run(c).then(
    (r) => reply({ id: c.id, ok: true, ...r }),
    (e: NodeJS.ErrnoException) => reply({ id: c.id, ok: false, error: e.message, code: e.code }),
  );
}

// stdin closed (the test that drives us is gone): leave the segment and exit.
await stack.stop('test peer done');
process.exit(0);
