/**
 * The user-mode stack (@elink/stack) beside the kernel client, in one run on the bench
 * topology: `elink up` in the server's namespace, kernel clients (TAP) in both client
 * namespaces (elinkSystem('l2')), and a stack process (packages/stack/dist/test-peer.js)
 * in client 1's namespace as user 65534, with no device. Measured:
 * - TCP, one stream: N bytes from the library to a sink on client 2 over the segment,
 *   and the same N bytes from client 1's kernel (the same Node source and sink code);
 * - ping from client 2 to the library's address (lwIP answers) and to client 1's kernel;
 * - memory per idle library socket: the stack process's memory before and after opening
 *   `idle` connections to the sink and leaving them idle.
 */
import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { elinkSystem } from './elink.js';
import { pingStats } from './measure.js';
import { daemon, sleep } from './proc.js';
import type { Topology } from './topology.js';

const PEER = fileURLToPath(new URL('../../../packages/stack/dist/test-peer.js', import.meta.url));

/** Counts each connection's bytes and answers the count when the sender ends; idle ones stay. */
const SINK = `
const net = require('node:net');
net.createServer((s) => { let n = 0; s.on('data', (d) => { n += d.length; }); s.on('end', () => s.end(String(n))); s.on('error', () => {}); })
  .listen(5301, '::', () => console.log('sink listening'));`;

/** Sends N bytes (64 KiB writes, as test-peer's tcp-source) and prints the seconds it took to the sink's answer. */
const SOURCE = `
const net = require('node:net');
const [host, total] = [process.argv[1], Number(process.argv[2])];
const chunk = Buffer.alloc(65536, 7);
const t0 = performance.now();
const s = net.connect(5301, host, async () => {
  let sent = 0;
  while (sent < total) { if (!s.write(chunk)) await new Promise((r) => s.once('drain', r)); sent += chunk.length; }
  s.end();
});
let a = '';
s.on('data', (d) => { a += d; });
s.on('end', () => console.log(JSON.stringify({ received: Number(a), seconds: (performance.now() - t0) / 1000 })));`;

export interface StackBenchResult {
  bytes: number;
  kernelTcp1Mbps: number;
  libraryTcp1Mbps: number;
  /** Library throughput ÷ kernel throughput (goal: at least 0.5). */
  throughputRatio: number;
  kernelPing: { avg: number; p99: number; loss: number };
  libraryPing: { avg: number; p99: number; loss: number };
  idleSockets: number;
  /** JS heap + external memory per idle socket (bytes), after a GC. */
  bytesPerIdleSocket: number;
  /** Resident memory per idle socket (bytes): includes allocator slack, coarser. */
  rssPerIdleSocket: number;
  /** The stack process at rest before the sockets: RSS (bytes), of which lwIP's fixed wasm memory is 16 MiB. */
  baseRss: number;
}

interface Peer {
  cmd(cmd: string, args?: Record<string, unknown>, timeoutMs?: number): Promise<Record<string, unknown>>;
  up: Record<string, unknown>;
  stop(): Promise<void>;
}

async function startPeer(ns: string, args: string[]): Promise<Peer> {
  const child = spawn('ip', ['netns', 'exec', ns, 'setpriv', '--reuid', '65534', '--regid', '65534', '--clear-groups', process.execPath, '--expose-gc', PEER, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-3000)));
  const waiting = new Map<number, (o: Record<string, unknown>) => void>();
  let onUp: ((o: Record<string, unknown>) => void) | undefined;
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      const o = JSON.parse(line) as Record<string, unknown>;
      if (o.event === 'up') onUp?.(o);
      else if (typeof o.id === 'number') waiting.get(o.id)?.(o);
    } catch {
      // not ours
    }
  });
  const up = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`stack peer not up in 30 s: ${err}`)), 30_000);
    onUp = (o) => {
      clearTimeout(t);
      resolve(o);
    };
    child.once('exit', () => reject(new Error(`stack peer exited: ${err}`)));
  });
  let next = 1;
  return {
    up,
    cmd(cmd, a = {}, timeoutMs = 120_000) {
      const id = next++;
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`stack peer: ${cmd} timed out: ${err}`)), timeoutMs);
        waiting.set(id, (o) => {
          clearTimeout(t);
          if (o.ok) resolve(o);
          else reject(new Error(`stack peer: ${cmd}: ${String(o.error)}`));
        });
        child.stdin!.write(`${JSON.stringify({ id, cmd, ...a })}\n`);
      });
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.stdin!.end();
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}

export async function stackBenchmark(topo: Topology, work: string, opts: { bytes: number; pings: number; idle: number }): Promise<StackBenchResult> {
  const sys = await elinkSystem('l2').start(topo, work);
  const [c1, c2] = topo.clients;
  let peer: Peer | undefined;
  // The CA and password where user 65534 can read them (the state directory is root's).
  const files = mkdtempSync(join(tmpdir(), 'elink-stackbench-'));
  try {
    chmodSync(files, 0o755);
    for (const f of ['ca.pem', 'pw']) {
      copyFileSync(join(work, f), join(files, f));
      chmodSync(join(files, f), 0o644);
    }
    peer = await startPeer(c1.ns, ['--broker', `https://${topo.server.address}:8443`, '--ca', join(files, 'ca.pem'), '--user', 'bench1', '--password-file', join(files, 'pw'), '--device', 'stackbench']);
    const sink = daemon(process.execPath, ['-e', SINK], { ns: c2.ns });
    await sink.waitFor(/sink listening/, 10_000, 'sink');
    const target = sys.addresses[1];
    // Memory first, while the process has moved nothing but the idle sockets' handshakes
    // (a bulk transfer leaves garbage that a later GC would subtract from the figure).
    await peer.cmd('tcp-source', { host: target, port: 5301, bytes: 65536 });
    await sleep(500);
    const before = await peer.cmd('memory');
    await peer.cmd('idle-sockets', { host: target, port: 5301, count: opts.idle });
    await sleep(1000);
    const after = await peer.cmd('memory');
    // Warm-up (JIT), then the figures.
    await peer.cmd('tcp-source', { host: target, port: 5301, bytes: 1 << 20 });
    const kernelRun = () => {
      const src = daemon(process.execPath, ['-e', SOURCE, target, String(opts.bytes)], { ns: c1.ns });
      return src.waitFor(/\{"received".*\}/, 120_000, 'kernel source').then((m) => JSON.parse(m[0]) as { received: number; seconds: number });
    };
    await kernelRun();
    const kernel = await kernelRun();
    const lib = await peer.cmd('tcp-source', { host: target, port: 5301, bytes: opts.bytes });
    if (kernel.received !== opts.bytes || Number(lib.received) !== opts.bytes) throw new Error(`short transfer: kernel ${kernel.received}, library ${String(lib.received)} of ${opts.bytes}`);
    const kernelMbps = (opts.bytes * 8) / kernel.seconds / 1e6;
    const libMbps = Number(lib.mbps);
    const libraryPing = pingStats(c2.ns, String(peer.up.ipv4), opts.pings);
    const kernelPing = pingStats(c2.ns, sys.addresses[0], opts.pings);
    const js = (m: Record<string, unknown>) => Number(m.heapUsed) + Number(m.external);
    return {
      bytes: opts.bytes,
      kernelTcp1Mbps: kernelMbps,
      libraryTcp1Mbps: libMbps,
      throughputRatio: libMbps / kernelMbps,
      kernelPing,
      libraryPing,
      idleSockets: opts.idle,
      bytesPerIdleSocket: (js(after) - js(before)) / opts.idle,
      rssPerIdleSocket: (Number(after.rss) - Number(before.rss)) / opts.idle,
      baseRss: Number(before.rss),
    };
  } finally {
    await peer?.stop();
    await sys.stop();
    rmSync(files, { recursive: true, force: true });
  }
}
