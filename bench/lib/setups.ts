/**
 * Session setups per switch core-second, by how a session is admitted, in one run on one
 * switch process (as `elink switch` runs it: TLS 1.3, the replay journal on disk):
 *
 *   password ticket     a fresh single-use ticket per session (what a password login gives):
 *                       TLS handshake, ticket signature, the jti journaled and remembered
 *   device key          a ticket bound to the client's device key (what a device login gives,
 *                       or the same ticket again): TLS handshake, ticket signature, the key's
 *                       proof over the channel binding; no replay cache, no journal
 *   device key+resume   the same over a resumed TLS session (a returning client keeps the
 *                       node's session ticket): no certificate signature, no key exchange
 *                       certificate check
 *   device key+resume+proof  the same with the resume proof beside the device proof (a
 *                       returning client keeps the resume secret of its ticket): two HMACs
 *                       instead of the ticket's and the proof's Ed25519 verifications. The
 *                       clients derive each ticket's secret with the node's resume key (one
 *                       cluster secret) rather than opening a first session per ticket, and
 *                       check each welcome gives that same secret back
 *
 *   bare Node TLS       the peer (tls-peer.ts): a Node TLS server in a process of its own
 *                       that only does what a resumed setup needs from Node (the handshake,
 *                       one record each way of a hello's and a welcome's size) and keeps the
 *                       connection open; what a switch spends beyond it is EL's
 *
 * Each phase opens `sessions` sessions from two client processes, measures the server's CPU
 * time while they connect, then closes them before the next phase. The five phases run
 * twice, interleaved (P D R X T P D R X T), and each reports the sum of its two rounds: a
 * later phase also pays for collecting what the earlier ones left, and interleaving
 * spreads that over all of them. Ratios are against the password-ticket phases and against
 * the bare Node TLS phases of the same run.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeFixture } from './fixture.js';
import { startPortProcess, startSwitchProcess } from './micro.js';
import { sleep } from './proc.js';
import type { PeerClientsConfig, PeerServerConfig } from './tls-peer.js';

function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

export interface SetupPhase {
  admission: 'password ticket' | 'device key' | 'device key+resume' | 'device key+resume+proof' | 'bare Node TLS';
  sessionsUp: number;
  failed: number;
  lastError?: string;
  switchCpuSeconds: number;
  setupsPerSwitchCpuSecond: number;
  /** This phase's setups per core-second over the password-ticket phase's. */
  ratio: number;
  /** Over the bare Node TLS phase's (0 without it). */
  perPeer: number;
}

export interface SetupResult {
  sessionsPerPhase: number;
  rounds: number;
  phases: SetupPhase[];
}

const ROUNDS = 2;

const PHASES: { admission: SetupPhase['admission']; deviceKey: boolean; resume: boolean; proof?: boolean; peer?: boolean }[] = [
  { admission: 'password ticket', deviceKey: false, resume: false },
  { admission: 'device key', deviceKey: true, resume: false },
  { admission: 'device key+resume', deviceKey: true, resume: true },
  { admission: 'device key+resume+proof', deviceKey: true, resume: true, proof: true },
  { admission: 'bare Node TLS', deviceKey: false, resume: true, peer: true },
];

const SOURCES = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5'];

/** The peer's server process (tls-peer.ts), started like the switch's. */
function startPeerProcess(cfg: PeerServerConfig) {
  return startPortProcess('peer', [fileURLToPath(new URL('./tls-peer.js', import.meta.url)), 'server'], { EL_BENCH_PEER: JSON.stringify(cfg) });
}

/** The switch's cluster secret (TLS ticket keys, resume key), known to the clients of the resume-proof phase. */
const CLUSTER_SECRET = 'setups-bench-cluster-secret-0123456789';

/** `profileDir`: the switch runs under `node --cpu-prof` (the profile is written when it stops);
 * `admissions`: only these phases (a profile of one admission; ratios then 0 without the password ticket's). */
export async function setupBenchmark(o: { sessions: number; profileDir?: string; admissions?: SetupPhase['admission'][] }): Promise<SetupResult> {
  const chosen = o.admissions ? PHASES.filter((p) => o.admissions!.includes(p.admission)) : PHASES;
  if (chosen.length === 0) throw new Error(`no such admission: ${o.admissions!.join(', ')} (known: ${PHASES.map((p) => p.admission).join(', ')})`);
  const fx = await makeFixture();
  const dir = mkdtempSync(join(tmpdir(), 'elink-bench-setups-'));
  const sw = startSwitchProcess(fx, { maxSessions: 20_000, replayJournal: join(dir, 'replay.journal'), clusterSecret: CLUSTER_SECRET }, o.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${o.profileDir}`] : []);
  const peer = chosen.some((p) => p.peer) ? startPeerProcess({ certPem: fx.certPem, keyPem: fx.keyPem, clusterSecret: CLUSTER_SECRET }) : undefined;
  const phases: SetupPhase[] = [];
  try {
    const port = await sw.port;
    const peerPort = await peer?.port;
    await sleep(500);
    const totals = chosen.map(() => ({ up: 0, failed: 0, cpu: 0, lastError: '' }));
    let batch = 0;
    for (let round = 0; round < ROUNDS; round++) {
      for (const [p, phase] of chosen.entries()) {
        const clients: ReturnType<typeof spawn>[] = [];
        const perClient = Math.ceil(o.sessions / 2);
        const status = [{ up: 0, failed: 0, done: false, lastError: '' }, { up: 0, failed: 0, done: false, lastError: '' }];
        const pid = phase.peer ? peer!.child.pid! : sw.child.pid!;
        const cpu0 = cpuSeconds(pid);
        for (let c = 0; c < 2; c++) {
          const count = Math.min(perClient, o.sessions - c * perClient);
          const config = phase.peer
            ? ({ port: peerPort!, caPem: fx.caPem, count, sources: SOURCES, concurrency: 64 } satisfies PeerClientsConfig)
            : // Each batch its own MACs and users (first), so no session supersedes another.
              { port, caPem: fx.caPem, ticketPrivatePem: fx.ticketPrivatePem, count, first: batch * o.sessions + c * perClient, sources: SOURCES, concurrency: 64, deviceKey: phase.deviceKey, resume: phase.resume, ...(phase.proof ? { resumeProofSecret: CLUSTER_SECRET } : {}) };
          const script = phase.peer ? ['./tls-peer.js', 'clients'] : ['./idle-clients.js'];
          const child = spawn(process.execPath, [fileURLToPath(new URL(script[0]!, import.meta.url)), ...script.slice(1)], {
            stdio: ['ignore', 'pipe', 'inherit'],
            env: { ...process.env, EL_BENCH_CLIENTS: JSON.stringify(config) },
          });
          let rest = '';
          child.stdout!.on('data', (d: Buffer) => {
            rest += d.toString();
            const lines = rest.split('\n');
            rest = lines.pop()!;
            for (const l of lines) Object.assign(status[c]!, JSON.parse(l));
          });
          clients.push(child);
        }
        batch++;
        // Bounded: a generous ceiling of 5 ms per session.
        const deadline = Date.now() + 30_000 + o.sessions * 5;
        while (!status.every((s) => s.done) && Date.now() < deadline) await sleep(100);
        const t = totals[p]!;
        t.cpu += cpuSeconds(pid) - cpu0;
        t.up += status[0]!.up + status[1]!.up;
        t.failed += status[0]!.failed + status[1]!.failed;
        t.lastError ||= status[0]!.lastError || status[1]!.lastError;
        for (const c of clients) c.kill('SIGKILL');
        // Let the servers notice the closed sessions before the next phase measures.
        await sleep(2000);
      }
    }
    const rate = (i: number) => (i >= 0 && totals[i]!.cpu ? totals[i]!.up / totals[i]!.cpu : 0);
    const base = rate(chosen.findIndex((p) => p.admission === 'password ticket'));
    const floor = rate(chosen.findIndex((p) => p.peer));
    for (const [p, phase] of chosen.entries()) {
      const t = totals[p]!;
      phases.push({ admission: phase.admission, sessionsUp: t.up, failed: t.failed, ...(t.failed ? { lastError: t.lastError } : {}), switchCpuSeconds: t.cpu, setupsPerSwitchCpuSecond: rate(p), ratio: base ? rate(p) / base : 0, perPeer: floor ? rate(p) / floor : 0 });
    }
    return { sessionsPerPhase: o.sessions, rounds: ROUNDS, phases };
  } finally {
    await Promise.all([sw.stop(), peer?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  }
}
