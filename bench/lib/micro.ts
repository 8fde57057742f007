/**
 * The switch alone, for 64, 512 and 1400-byte frames:
 *  - in process: an L2Segment between two synthetic ports (the forwarding core, the
 *    bounded queues and the per-tick flush; no TLS, no sockets);
 *  - over TLS: a SwitchNode in its own process, one session sending to another as fast
 *    as TCP flow control lets it; frames/s and Gbit/s received, and the switch's CPU
 *    per frame (read from /proc).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { encodeRecord, macBytes, RecordType, segmentSchema } from '@elink/protocol';
import { allocatePortId, L2Segment, type Port } from '@elink/switch';
import { OutputQueue, RecordWriter, type QueueOptions, type RecordConn } from '@elink/transport';
import { openSession } from './el-client.js';
import { makeFixture, ticketFor } from './fixture.js';
import { sleep } from './proc.js';

const SIZES = [64, 512, 1400];
const MAC_A = 0x02e1b0000001;
const MAC_B = 0x02e1b0000002;

/** A conn that counts the batches written to it: done with each when write returns, like
 * a socket with nothing in flight. */
class CountingConn implements Pick<RecordConn, 'write' | 'writesThrough' | 'backlog' | 'destroyed'> {
  bytes = 0;
  readonly destroyed = false;
  write(batch: Buffer): void {
    this.bytes += batch.length;
  }
  writesThrough(): boolean {
    return true;
  }
  backlog(): number {
    return 0;
  }
}

/** A session's port without the session: OutputQueue + RecordWriter over a counting conn. */
class CountingPort implements Port {
  readonly id = allocatePortId();
  readonly kind = 'memory' as const;
  readonly conn = new CountingConn();
  readonly output: OutputQueue;
  constructor(
    readonly name: string,
    opts: QueueOptions,
  ) {
    this.output = new OutputQueue(new RecordWriter(this.conn as unknown as RecordConn), opts);
  }
  enqueue(frame: Buffer): void {
    this.output.push(RecordType.FRAME, frame);
  }
  get bytes(): number {
    return this.conn.bytes;
  }
}

function frame(size: number, dst: number, src: number): Buffer {
  const f = Buffer.alloc(size);
  macBytes(dst).copy(f, 0);
  macBytes(src).copy(f, 6);
  f.writeUInt16BE(0x0800, 12);
  return f;
}

export interface MicroRow {
  bytes: number;
  framesPerSecond: number;
  gbps: number;
  /** Switch process CPU per frame forwarded (TLS runs only). */
  switchCpuMicrosPerFrame?: number;
}

async function inProcess(size: number, seconds: number): Promise<MicroRow> {
  const def = segmentSchema.parse({ name: 'lan', ipv4: { pool: '198.19.0.0/16' }, ipv6: { pool: 'fd00:e1::/64' } });
  if (def.mode !== 'l2') throw new Error('the microbenchmark needs an L2 segment');
  const seg = new L2Segment(def);
  const a = new CountingPort('a', { maxFrames: 4096, maxBytes: 8 << 20 });
  const b = new CountingPort('b', { maxFrames: 4096, maxBytes: 8 << 20 });
  // As the switch attaches sessions: with their ticket's addresses (ARP/ND inspection, flood limit on).
  seg.attach(a, { ownMac: MAC_A, macLimit: 1, claims: { ipv4: '198.19.0.2/16', ipv6: 'fd00:e1::2/64' } });
  seg.attach(b, { ownMac: MAC_B, macLimit: 1, claims: { ipv4: '198.19.0.3/16', ipv6: 'fd00:e1::3/64' } });
  const f = frame(size, MAC_B, MAC_A);
  const start = process.hrtime.bigint();
  const end = start + BigInt(Math.round(seconds * 1e9));
  let frames = 0;
  while (process.hrtime.bigint() < end) {
    for (let i = 0; i < 256; i++) seg.forward(f, a);
    frames += 256;
    await new Promise((r) => setImmediate(r)); // the flush runs once per tick
  }
  const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  const delivered = b.bytes / (size + 3);
  return { bytes: size, framesPerSecond: delivered / elapsed, gbps: (delivered * size * 8) / elapsed / 1e9 };
}

function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

async function overTls(port: number, pid: number, fx: Awaited<ReturnType<typeof makeFixture>>, size: number, seconds: number, n: number): Promise<MicroRow> {
  const macA = MAC_A + 0x100 * n;
  const macB = MAC_B + 0x100 * n;
  const b = await openSession({ port, ca: fx.caPem, ticket: ticketFor(fx.ticketPrivatePem, `rx${n}`, macB) });
  const a = await openSession({ port, ca: fx.caPem, ticket: ticketFor(fx.ticketPrivatePem, `tx${n}`, macA) });
  const batch = Buffer.concat(Array.from({ length: Math.max(1, Math.floor(65536 / (size + 3))) }, () => encodeRecord(RecordType.FRAME, frame(size, macB, macA))));
  let sending = true;
  const pump = async () => {
    while (sending) {
      if (!a.socket.write(batch)) await new Promise((r) => a.socket.once('drain', r));
    }
  };
  const pumping = pump();
  await sleep(300); // warm up
  const f0 = b.framesIn;
  const c0 = cpuSeconds(pid);
  const t0 = process.hrtime.bigint();
  await sleep(seconds * 1000);
  const frames = b.framesIn - f0;
  const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = cpuSeconds(pid) - c0;
  sending = false;
  a.socket.emit('drain');
  await pumping;
  a.socket.destroy();
  b.socket.destroy();
  return { bytes: size, framesPerSecond: frames / elapsed, gbps: (frames * size * 8) / elapsed / 1e9, switchCpuMicrosPerFrame: frames ? (cpu * 1e6) / frames : undefined };
}

export function startSwitchProcess(fx: { certPem: string; keyPem: string; ticketPublicPem: string }, extra: Record<string, unknown> = {}, nodeArgs: string[] = []) {
  return startPortProcess('switch', [...nodeArgs, fileURLToPath(new URL('./switch-process.js', import.meta.url))], { EL_BENCH_SWITCH: JSON.stringify({ ...fx, ...extra }) });
}

/** A node process (`args` after node) that prints one line {"port": n} when it listens
 * and runs until stopped (SIGTERM, then SIGKILL after 5 s); `what` names it in errors. */
export function startPortProcess(what: string, args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
  const port = new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /"port":(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`${what} process exited (${code})`)));
    setTimeout(() => reject(new Error(`${what} process did not start in 15 s`)), 15_000).unref();
  });
  const stop = () => new Promise<void>((r) => (child.exitCode !== null ? r() : (child.once('exit', () => r()), child.kill('SIGTERM'), setTimeout(() => child.kill('SIGKILL'), 5000).unref())));
  return { child, port, stop };
}

export async function microBenchmark(o: { seconds: number }): Promise<{ inProcess: MicroRow[]; tls: MicroRow[] }> {
  const inProc: MicroRow[] = [];
  for (const size of SIZES) inProc.push(await inProcess(size, o.seconds));
  const fx = await makeFixture();
  const sw = startSwitchProcess(fx);
  try {
    const port = await sw.port;
    const tls: MicroRow[] = [];
    for (const [i, size] of SIZES.entries()) tls.push(await overTls(port, sw.child.pid!, fx, size, o.seconds, i));
    return { inProcess: inProc, tls };
  } finally {
    await sw.stop();
  }
}
