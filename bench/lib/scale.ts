/**
 * Idle sessions on one switch process: as many as the open-file limit allows (hard
 * limit 20,000 per process here, so about 19,000), opened by two client processes from
 * several loopback source addresses. Reported: switch RSS per session, setups per
 * second while connecting (and per second of switch CPU, i.e. per core), and switch
 * CPU while the sessions idle with keepalives.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { makeFixture } from './fixture.js';
import { startSwitchProcess } from './micro.js';
import { sleep } from './proc.js';

function rssBytes(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
}

function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

export interface ScaleResult {
  sessionsWanted: number;
  sessionsUp: number;
  failed: number;
  lastError?: string;
  rssBaselineMiB: number;
  rssLoadedMiB: number;
  rssPerSessionKiB: number;
  setupSeconds: number;
  setupsPerSecond: number;
  setupsPerSwitchCpuSecond: number;
  idleSeconds: number;
  idleSwitchCpuPercent: number;
  keepaliveIntervalSeconds: number;
  openFileLimit: string;
}

/** `profileDir`: the switch runs under `node --cpu-prof` (the profile is written when it stops). */
export async function scaleBenchmark(o: { sessions: number; idleSeconds?: number; profileDir?: string }): Promise<ScaleResult> {
  const fx = await makeFixture();
  const sw = startSwitchProcess(fx, { maxSessions: 20_000 }, o.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${o.profileDir}`] : []);
  const clients: ReturnType<typeof spawn>[] = [];
  try {
    const port = await sw.port;
    const pid = sw.child.pid!;
    await sleep(500);
    const rss0 = rssBytes(pid);
    const cpu0 = cpuSeconds(pid);
    const t0 = Date.now();
    const perClient = Math.ceil(o.sessions / 2);
    const status = [{ up: 0, failed: 0, done: false, lastError: '' }, { up: 0, failed: 0, done: false, lastError: '' }];
    for (let c = 0; c < 2; c++) {
      const count = Math.min(perClient, o.sessions - c * perClient);
      const child = spawn(process.execPath, [fileURLToPath(new URL('./idle-clients.js', import.meta.url))], {
        stdio: ['ignore', 'pipe', 'inherit'],
        env: {
          ...process.env,
          EL_BENCH_CLIENTS: JSON.stringify({ port, caPem: fx.caPem, ticketPrivatePem: fx.ticketPrivatePem, count, first: c * perClient, sources: ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5'], concurrency: 64 }),
        },
      });
      let rest = '';
      child.stdout!.on('data', (d: Buffer) => {
        rest += d.toString();
        const lines = rest.split('\n');
        rest = lines.pop()!;
        for (const l of lines) Object.assign(status[c], JSON.parse(l));
      });
      clients.push(child);
    }
    // Bounded: a generous ceiling of 5 ms per session.
    const deadline = Date.now() + 30_000 + o.sessions * 5;
    while (!status.every((s) => s.done) && Date.now() < deadline) await sleep(200);
    const setupSeconds = (Date.now() - t0) / 1000;
    const setupCpu = cpuSeconds(pid) - cpu0;
    const up = status[0].up + status[1].up;
    const failed = status[0].failed + status[1].failed;
    // Let the heap settle, then idle with keepalives (segment default: a ping every 15 s).
    await sleep(3000);
    const idleSeconds = o.idleSeconds ?? 30;
    const c1 = cpuSeconds(pid);
    await sleep(idleSeconds * 1000);
    const idleCpu = cpuSeconds(pid) - c1;
    const rss1 = rssBytes(pid);
    const limit = readFileSync(`/proc/${pid}/limits`, 'utf8').match(/Max open files\s+(\d+)\s+(\d+)/);
    return {
      sessionsWanted: o.sessions,
      sessionsUp: up,
      failed,
      ...(failed ? { lastError: status[0].lastError || status[1].lastError } : {}),
      rssBaselineMiB: rss0 / 2 ** 20,
      rssLoadedMiB: rss1 / 2 ** 20,
      rssPerSessionKiB: up ? (rss1 - rss0) / up / 1024 : 0,
      setupSeconds,
      setupsPerSecond: up / setupSeconds,
      setupsPerSwitchCpuSecond: setupCpu ? up / setupCpu : 0,
      idleSeconds,
      idleSwitchCpuPercent: (idleCpu / idleSeconds) * 100,
      keepaliveIntervalSeconds: 15,
      openFileLimit: limit ? `soft ${limit[1]}, hard ${limit[2]}` : '?',
    };
  } finally {
    for (const c of clients) c.kill('SIGKILL');
    await sw.stop();
  }
}
