/**
 * `npm run soak` (not in CI; needs root for network namespaces): a real `elink up` in
 * its own namespace for --minutes (default 10) under
 *  - 1,000 idle sessions (--idle), answering keepalives (lib/idle-clients.ts);
 *  - mixed traffic between two real kernel clients (`elink connect`): ping all along,
 *    an iperf3 burst every 30 s;
 *  - connect/disconnect churn through the broker: login, session, a few frames to idle
 *    sessions, bye or a dropped connection (lib/churn-clients.ts), plus a stranger's
 *    wrong passwords and challenge requests;
 * sampling the server's RSS and open fds (/proc) and its heap, libuv handles, sessions,
 * MAC table and leases (/metrics) every --interval seconds. Writes soak.json, soak.csv
 * and soak.svg to --out (default docs/benchmarks) with the verdict: flat at the end
 * when no series drifts beyond its tolerance over the last --window seconds (default 60).
 * --replot FILE re-renders the outputs and the verdict from an earlier soak.json.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { CLI, elinkSystem, PASSWORD } from './lib/elink.js';
import { IDLE_MAC_BASE } from './lib/fixture.js';
import { daemon, sleep, stopAll, type Daemon } from './lib/proc.js';
import { SAMPLE_COLUMNS, soakSvg, toCsv, verdict, type SoakSample } from './lib/soak-report.js';
import { createTopology } from './lib/topology.js';

const exec = promisify(execFile);

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    idle: { type: 'string', default: '1000' },
    interval: { type: 'string', default: '5' },
    window: { type: 'string', default: '60' },
    churn: { type: 'string', default: '4' },
    out: { type: 'string' },
    // Re-renders soak.svg, soak.csv and the verdict from a soak.json (no run).
    replot: { type: 'string' },
  },
});
const minutes = Number(args.minutes);
const idleCount = Number(args.idle);
const intervalMs = Number(args.interval) * 1000;
const windowSeconds = Math.min(Number(args.window), (minutes * 60) / 2);
const outDir = args.out ?? fileURLToPath(new URL('../../docs/benchmarks/', import.meta.url));
const lib = (f: string) => fileURLToPath(new URL(`./lib/${f}`, import.meta.url));
if (!(minutes > 0) || !(idleCount >= 0) || !(intervalMs >= 1000)) throw new Error('--minutes > 0, --idle >= 0, --interval >= 1');

/** Sums every sample of each metric in a Prometheus text exposition, by name (and name{result="ok"}). */
function parseMetrics(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const value = Number(match[3]);
    m.set(match[1], (m.get(match[1]) ?? 0) + value);
    if (match[2]?.includes('result="ok"')) m.set(`${match[1]}{ok}`, value);
  }
  return m;
}

/** The `elink up` process in namespace `ns`. */
async function serverPid(ns: string): Promise<number> {
  const { stdout } = await exec('ip', ['netns', 'pids', ns]);
  for (const pid of stdout.split('\n').filter(Boolean)) {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (argv.includes(CLI) && argv.includes('up')) return Number(pid);
    } catch {
      // exited meanwhile
    }
  }
  throw new Error(`no elink up process in ${ns}`);
}

interface SoakRun {
  date: string;
  machine: { cpus: number; model: string; kernel: string; node: string };
  options: { minutes: number; idle: number; intervalSeconds: number; windowSeconds: number; churnWorkers: number };
  ping: { sent: number; received: number; lossPercent: number; avgMs: number; maxMs: number };
  iperfBurstsMbps: number[];
  churn: Record<string, unknown>;
  marks: { t: number; label: string }[];
  samples: SoakSample[];
}

async function run(): Promise<SoakRun> {
  if (process.getuid?.() !== 0) throw new Error('the soak test needs root (network namespaces)');
  const topo = createTopology();
  const work = mkdtempSync(join(tmpdir(), 'elink-soak-'));
  const procs: Daemon[] = [];
  let stopSystem: (() => Promise<void>) | undefined;
  const samples: SoakSample[] = [];
  const marks: { t: number; label: string }[] = [];
  const ping = { sent: 0, received: 0, avgMs: [] as number[], maxMs: 0 };
  const bursts: number[] = [];
  let churnStatus: Record<string, unknown> = {};

  try {
    const sys = await elinkSystem('l2').start(topo, work);
    stopSystem = sys.stop;
    const t0 = Date.now();
    const deadline = t0 + minutes * 60_000;
    const since = () => (Date.now() - t0) / 1000;
    const pid = await serverPid(topo.server.ns);
    const caPem = readFileSync(join(work, 'ca.pem'), 'utf8');
    const srv = topo.server.ns;
    const [c1, c2] = topo.clients;
    process.stdout.write(`elink up (pid ${pid}) in ${srv}; clients ${sys.addresses.join(', ')}; soak for ${minutes} min\n`);

    const sample = async (): Promise<void> => {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const rss = Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
      const fds = readdirSync(`/proc/${pid}/fd`).length;
      const { stdout } = await exec('ip', ['netns', 'exec', srv, 'curl', '-s', '--max-time', '3', 'http://127.0.0.1:9100/metrics'], { timeout: 5000, maxBuffer: 16 << 20 });
      const m = parseMetrics(stdout);
      samples.push({
        t: since(),
        rssMiB: rss,
        heapUsedMiB: (m.get('nodejs_heap_size_used_bytes') ?? 0) / 2 ** 20,
        heapTotalMiB: (m.get('nodejs_heap_size_total_bytes') ?? 0) / 2 ** 20,
        handles: m.get('nodejs_active_handles_total') ?? 0,
        fds,
        sessions: m.get('el_switch_sessions') ?? 0,
        macEntries: m.get('el_switch_mac_table_entries') ?? 0,
        leases: m.get('el_broker_leases') ?? 0,
        sessionsOpened: m.get('el_switch_sessions_opened_total') ?? 0,
        loginsOk: m.get('el_broker_logins_total{ok}') ?? 0,
      });
    };
    const sampling = (async () => {
      while (Date.now() < deadline) {
        const next = Date.now() + intervalMs;
        try {
          await sample();
          const s = samples[samples.length - 1];
          process.stdout.write(`${s.t.toFixed(0).padStart(4)} s  rss ${s.rssMiB.toFixed(1)} MiB  heap ${s.heapUsedMiB.toFixed(1)} MiB  handles ${s.handles}  fds ${s.fds}  sessions ${s.sessions}  leases ${s.leases}  opened ${s.sessionsOpened}\n`);
        } catch (err) {
          process.stdout.write(`sample failed: ${(err as Error).message}\n`);
        }
        await sleep(Math.max(0, next - Date.now()));
      }
    })();

    // 1. The idle sessions, from four loopback source addresses of the server's namespace.
    if (idleCount > 0) {
      const signingKey = readFileSync(join(work, 'ticket-signing.key'), 'utf8');
      const idle = daemon(process.execPath, [lib('idle-clients.js')], {
        ns: srv,
        env: { EL_BENCH_CLIENTS: JSON.stringify({ port: 4443, caPem, ticketPrivatePem: signingKey, count: idleCount, first: 0, sources: ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5'], concurrency: 32, segment: 'lab' }) },
      });
      procs.push(idle);
      const done = await idle.waitFor(/\{"done":true,"up":(\d+),"failed":(\d+)\}/, 30_000 + idleCount * 50, 'the idle sessions');
      marks.push({ t: since(), label: `${done[1]} idle sessions up` });
      process.stdout.write(`idle sessions: ${done[1]} up, ${done[2]} failed\n`);
    }

    // 2. Mixed traffic between the kernel clients, and the churn.
    const iperf = daemon('iperf3', ['-s', '-B', sys.addresses[1]], { ns: c2.ns });
    procs.push(iperf);
    const pinging = (async () => {
      while (Date.now() < deadline - 6000) {
        try {
          const { stdout } = await exec('ip', ['netns', 'exec', c1.ns, 'ping', '-q', '-c', '25', '-i', '0.2', '-W', '1', sys.addresses[1]], { timeout: 20_000 }).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }));
          const counts = /(\d+) packets transmitted, (\d+) received/.exec(stdout);
          const rtt = /= [\d.]+\/([\d.]+)\/([\d.]+)\//.exec(stdout);
          if (counts) {
            ping.sent += Number(counts[1]);
            ping.received += Number(counts[2]);
          }
          if (rtt) {
            ping.avgMs.push(Number(rtt[1]));
            ping.maxMs = Math.max(ping.maxMs, Number(rtt[2]));
          }
        } catch {
          await sleep(1000);
        }
      }
    })();
    const bursting = (async () => {
      await sleep(5000);
      while (Date.now() < deadline - 15_000) {
        const started = Date.now();
        try {
          const { stdout } = await exec('ip', ['netns', 'exec', c1.ns, 'iperf3', '-c', sys.addresses[1], '-t', '5', '-b', '200M', '-J'], { timeout: 30_000, maxBuffer: 16 << 20 });
          bursts.push((JSON.parse(stdout) as { end: { sum_received: { bits_per_second: number } } }).end.sum_received.bits_per_second / 1e6);
        } catch {
          bursts.push(0);
        }
        await sleep(Math.max(0, started + 30_000 - Date.now()));
      }
    })();
    const churn = daemon(process.execPath, [lib('churn-clients.js')], {
      ns: srv,
      env: {
        EL_BENCH_CHURN: JSON.stringify({ brokerPort: 8443, switchPort: 4443, caPem, users: ['bench1', 'bench2'], password: PASSWORD, devicesPerUser: 4, concurrency: Number(args.churn), holdMs: [500, 3000], idleMacs: [IDLE_MAC_BASE, Math.max(1, idleCount)], deadline: deadline - 2000 }),
      },
    });
    procs.push(churn);
    marks.push({ t: since(), label: 'traffic + churn' });

    await Promise.all([sampling, pinging, bursting]);
    const lines = churn.output().trim().split('\n').filter((l) => l.startsWith('{"logins"'));
    churnStatus = lines.length ? (JSON.parse(lines[lines.length - 1]) as Record<string, unknown>) : {};
  } finally {
    for (const p of procs.reverse()) await p.stop();
    await stopSystem?.();
    await stopAll();
    topo.destroy();
    rmSync(work, { recursive: true, force: true });
  }

  const avg = (a: number[]) => (a.length ? a.reduce((x, y) => x + y, 0) / a.length : 0);
  return {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model ?? '', kernel: release(), node: process.version },
    options: { minutes, idle: idleCount, intervalSeconds: intervalMs / 1000, windowSeconds, churnWorkers: Number(args.churn) },
    ping: { sent: ping.sent, received: ping.received, lossPercent: ping.sent ? (100 * (ping.sent - ping.received)) / ping.sent : 100, avgMs: avg(ping.avgMs), maxMs: ping.maxMs },
    iperfBurstsMbps: bursts,
    churn: churnStatus,
    marks,
    samples,
  };
}

const r: SoakRun = args.replot ? (JSON.parse(readFileSync(args.replot, 'utf8')) as SoakRun) : await run();
if (args.replot && args.window !== undefined) r.options.windowSeconds = Math.min(Number(args.window), (r.options.minutes * 60) / 2);
const { samples, marks } = r;
const bursts = r.iperfBurstsMbps;
const v = verdict(samples, r.options.windowSeconds);
const result = { ...r, verdict: v, columns: SAMPLE_COLUMNS, samples };
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'soak.json'), JSON.stringify(result, null, 2) + '\n');
writeFileSync(join(outDir, 'soak.csv'), toCsv(samples));
writeFileSync(join(outDir, 'soak.svg'), soakSvg(samples, v, { title: `elink up soak: ${r.options.minutes} min, ${r.options.idle} idle sessions, traffic and churn (sampled every ${r.options.intervalSeconds} s)`, marks }));
const first = samples.find((s) => s.t >= (marks[1]?.t ?? 0) + 60) ?? samples[0];
const last = samples[samples.length - 1];
process.stdout.write(
  [
    '',
    `verdict: ${v.flat ? 'FLAT at the end' : 'NOT flat at the end'} (last ${v.windowSeconds} s)`,
    ...v.series.map((s) => `  ${s.series.padEnd(12)} mean ${s.mean.toFixed(1).padStart(8)}  slope ${s.slopePerMinute.toFixed(2).padStart(7)}/min  drift ${s.drift.toFixed(2).padStart(7)} (tolerance ${s.tolerance.toFixed(1)})  ${s.flat ? 'flat' : 'RISING/FALLING'}`),
    `rss ${first?.rssMiB.toFixed(1)} MiB one minute into the traffic → ${last?.rssMiB.toFixed(1)} MiB at the end; heap used ${first?.heapUsedMiB.toFixed(1)} → ${last?.heapUsedMiB.toFixed(1)} MiB`,
    `ping ${result.ping.received}/${result.ping.sent} (loss ${result.ping.lossPercent.toFixed(2)} %), avg ${result.ping.avgMs.toFixed(2)} ms, max ${result.ping.maxMs.toFixed(1)} ms; iperf3 bursts ${bursts.map((b) => b.toFixed(0)).join(' ')} Mbit/s`,
    `churn: ${JSON.stringify(r.churn)}`,
    `wrote ${join(outDir, 'soak.json')}, soak.csv, soak.svg`,
    '',
  ].join('\n'),
);
process.exit(v.flat ? 0 : 1);
