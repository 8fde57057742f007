/**
 * The measurements, the same for every system: iperf3 TCP (1 and 4 streams) and
 * 64-byte UDP from client 1 to client 2, ping from client 1 to client 2, and the CPU
 * time of every process of the system (server and both clients) while TCP runs.
 */
import { readFileSync } from 'node:fs';
import { daemon, must, run, sleep } from './proc.js';

export interface Durations {
  /** Seconds per iperf3 run. */
  seconds: number;
  pings: number;
}

export interface Measured {
  tcp1Gbps: number;
  tcp4Gbps: number;
  udp64Pps: number;
  /** Share of the 64-byte UDP datagrams sent that were lost. */
  udp64Loss: number;
  pingAvgMs: number;
  pingP99Ms: number;
  pingLoss: number;
  /** CPU seconds per gigabit moved in the 1-stream TCP run, per role. */
  cpuSecondsPerGbit: Record<string, number>;
}

export interface Side {
  /** Role → network namespace whose processes (other than the load tools) are the system's. */
  roles: Record<string, string>;
  /** Namespace and overlay address of the sender and the receiver. */
  from: { ns: string };
  to: { ns: string; address: string };
}

const TOOLS = new Set(['iperf3', 'ping', 'ip', 'sh', 'timeout', 'vpncmd']);
const TICK = 100; // USER_HZ on Linux

/** utime + stime (clock ticks) of every process in `ns` except the load tools. */
export function cpuTicks(ns: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const line of must('ip', ['netns', 'pids', ns]).split('\n')) {
    const pid = Number(line.trim());
    if (!pid) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (TOOLS.has(comm)) continue;
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(pid, Number(f[11]) + Number(f[12]));
    } catch {
      // the process ended meanwhile
    }
  }
  return out;
}

export function cpuDelta(before: Map<number, number>, after: Map<number, number>): number {
  let ticks = 0;
  for (const [pid, t] of after) ticks += t - (before.get(pid) ?? 0);
  return ticks / TICK;
}

export interface IperfJson {
  error?: string;
  end: {
    sum_received?: { bits_per_second: number; bytes: number };
    sum?: { packets: number; lost_packets: number; seconds: number; lost_percent: number };
  };
}

/** One iperf3 client run; retried a few times while the path comes up. */
export function iperf(side: Side, args: string[], seconds: number): IperfJson {
  let last = '';
  for (let attempt = 0; attempt < 8; attempt++) {
    const r = run('iperf3', ['-c', side.to.address, '-t', String(seconds), '-J', '--connect-timeout', '3000', ...args], { ns: side.from.ns, timeoutMs: (seconds + 20) * 1000 });
    // iperf3 3.12 with -J exits 0 even when it could not connect: the JSON's "error" says so.
    const json = r.status === 0 ? (JSON.parse(r.stdout) as IperfJson) : undefined;
    if (json && !json.error) return json;
    last = (json?.error ?? r.stdout.match(/"error":\s*"([^"]*)"/)?.[1] ?? '') + r.stderr;
    must('sleep', ['0.5']);
  }
  throw new Error(`iperf3 ${args.join(' ')} from ${side.from.ns} to ${side.to.address} failed: ${last}`);
}

/** 64-byte UDP at full rate. iperf3 sometimes ends such a run without its summary (the
 * control connection starves under the flood): retry a few times, then say what it said. */
function udpRun(side: Side, seconds: number): NonNullable<IperfJson['end']['sum']> {
  let last: IperfJson | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    last = iperf(side, ['-u', '-l', '64', '-b', '0'], seconds);
    if (last.end?.sum) return last.end.sum;
  }
  throw new Error(`iperf3 64-byte UDP from ${side.from.ns} gave no summary: ${last?.error ?? JSON.stringify(last?.end ?? {}).slice(0, 300)}`);
}

export function pingStats(ns: string, address: string, count: number): { avg: number; p99: number; loss: number } {
  const r = run('ping', ['-c', String(count), '-i', '0.01', '-W', '1', address], { ns, timeoutMs: count * 50 + 10_000 });
  const times = [...r.stdout.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1])).sort((a, b) => a - b);
  if (times.length === 0) throw new Error(`ping from ${ns} to ${address} got no replies: ${r.stdout.slice(-500)} ${r.stderr}`);
  const avg = times.reduce((a, b) => a + b, 0) / times.length;
  const p99 = times[Math.min(times.length - 1, Math.ceil(times.length * 0.99) - 1)];
  return { avg, p99, loss: 1 - times.length / count };
}

/** Waits (bounded) until client 1 can ping client 2 through the system. */
export async function waitReachable(side: Side, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (run('ping', ['-c', '1', '-W', '1', side.to.address], { ns: side.from.ns }).status === 0) return;
    await sleep(200);
  }
  throw new Error(`${side.to.address} not reachable from ${side.from.ns} within ${timeoutMs} ms`);
}

export async function measure(side: Side, d: Durations): Promise<Measured> {
  await waitReachable(side);
  const server = daemon('iperf3', ['-s', '-B', side.to.address, '--forceflush'], { ns: side.to.ns });
  try {
    await server.waitFor(/Server listening/, 10_000, 'iperf3 server');
    const ping = pingStats(side.from.ns, side.to.address, d.pings);

    const before = Object.fromEntries(Object.entries(side.roles).map(([role, ns]) => [role, cpuTicks(ns)]));
    const tcp1 = iperf(side, [], d.seconds);
    const gbit = (tcp1.end.sum_received!.bytes * 8) / 1e9;
    const cpuSecondsPerGbit: Record<string, number> = {};
    for (const [role, ns] of Object.entries(side.roles)) cpuSecondsPerGbit[role] = cpuDelta(before[role], cpuTicks(ns)) / gbit;

    const tcp4 = iperf(side, ['-P', '4'], d.seconds);
    const udp = udpRun(side, d.seconds);
    return {
      tcp1Gbps: tcp1.end.sum_received!.bits_per_second / 1e9,
      tcp4Gbps: tcp4.end.sum_received!.bits_per_second / 1e9,
      udp64Pps: (udp.packets - udp.lost_packets) / udp.seconds,
      udp64Loss: udp.packets ? udp.lost_packets / udp.packets : 0,
      pingAvgMs: ping.avg,
      pingP99Ms: ping.p99,
      pingLoss: ping.loss,
      cpuSecondsPerGbit,
    };
  } finally {
    await server.stop();
  }
}

/** For `--profile`: runs only one figure (the processes under test are being profiled). */
export async function runFigure(side: Side, figure: 'tcp1' | 'ping' | 'udp64', d: Durations): Promise<string> {
  await waitReachable(side);
  if (figure === 'ping') {
    const p = pingStats(side.from.ns, side.to.address, d.pings);
    return `ping avg ${p.avg.toFixed(3)} ms, p99 ${p.p99.toFixed(2)} ms`;
  }
  const server = daemon('iperf3', ['-s', '-B', side.to.address, '--forceflush'], { ns: side.to.ns });
  try {
    await server.waitFor(/Server listening/, 10_000, 'iperf3 server');
    if (figure === 'udp64') {
      const udp = udpRun(side, d.seconds);
      return `64-byte UDP ${((udp.packets - udp.lost_packets) / udp.seconds / 1000).toFixed(1)} k packets/s received`;
    }
    const tcp1 = iperf(side, [], d.seconds);
    return `TCP 1 stream ${(tcp1.end.sum_received!.bits_per_second / 1e9).toFixed(2)} Gbit/s`;
  } finally {
    await server.stop();
  }
}
