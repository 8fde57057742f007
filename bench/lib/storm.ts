/**
 * The reconnect storm (issue 10): a cluster on this machine, all real processes started
 * as an operator would (`elink broker` ×2 over one redis-server, `elink switch` ×3
 * heartbeating to them), `sessions` lightweight EL sessions on node A (storm-clients.ts,
 * 2 processes), then SIGKILL of node A. Measured from the kill: when the first session is
 * welcomed again on a surviving node, when half, 90 % and all are; the CPU seconds the
 * surviving switches, the brokers and Redis spent meanwhile, and so the session setups
 * per switch core-second and logins per broker core-second.
 *
 * How a session gets admitted again is the `mode` (storm-clients.ts): `reuse` (its
 * device-key-bound ticket still lasts: hello with a fresh proof, no broker), `device` (a
 * device login at a broker: one signature check, then hello with a proof) or `password`
 * (a password login: scrypt); in each, the client's order after a loss and its TLS
 * resumption at the next node (`order`, `resume`). `bare` is the peer, run the same way:
 * the three nodes are bare Node TLS servers (tls-peer.ts: the handshake with the same
 * certificate and shared ticket keys, one record each way, nothing of EL), so a switch's
 * setups per core-second can be read as a ratio to what Node's TLS alone does in the same
 * storm on the same machine. Reported besides: the sessions back
 * per node, a timeline of welcomes, the connections the survivors refused at accept by
 * reason, the backoff turns the sessions needed, and the generator's own CPU (on the same
 * cores: when it is larger than the switches', the generator bounds the wall clock).
 * For `device`, the sessions' keys are registered in Redis
 * beforehand, as their first password logins would have done. The 4 loopback source addresses stand in for thousands of client addresses, so the
 * per-source limits of the listeners and the brokers' per-address and per-user login
 * limits are raised out of the way; the listener-wide limits stay at their defaults.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import { openStore } from '@elink/broker';
import { rawDeviceKey } from '@elink/protocol';
import { summarizeProfile, type ProfileSummary } from './cpu-profile.js';
import { CLI } from './elink.js';
import { daemon, must, sleep, type Daemon } from './proc.js';
import type { StormMode } from './storm-clients.js';
import type { PeerServerConfig } from './tls-peer.js';
import { stormDeviceKey, stormUser } from './storm-keys.js';

const CLUSTER_SECRET = 'storm-bench-cluster-secret-0123456789';
const ADMIN_TOKEN = 'storm-bench-admin-token-0123456789';
const PASSWORD = 'storm horse battery staple';
/** Sessions per user: the store keeps at most 64 device keys per user. */
const SESSIONS_PER_USER = 50;
const SOURCES = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5'];
/** Attempts to come back running at once in each of the 2 client processes (storm-clients.ts). */
const IN_FLIGHT = 128;

export interface StormResult {
  mode: StormMode;
  /** Attempts running at once, all client processes together. */
  clientAttemptsInFlight: number;
  sessionsWanted: number;
  sessionsUp: number;
  admission: string;
  firstBackSeconds: number | null;
  p50BackSeconds: number | null;
  p90BackSeconds: number | null;
  allBackSeconds: number | null;
  backAtEnd: number;
  deadlineSeconds: number;
  logins: number;
  loginErrors: Record<string, number>;
  connectErrors: number;
  survivingSwitchCpuSeconds: number;
  brokerCpuSeconds: number;
  redisCpuSeconds: number;
  setupsPerSwitchCpuSecond: number;
  /** CPU seconds of the client processes (the generator: TLS handshakes, proofs) from the kill on; on the same cores. */
  generatorCpuSeconds: number;
  /** Sessions back per surviving node. */
  backByNode: Record<string, number>;
  /** Sessions whose TLS session (from node A, the cluster's shared ticket keys) was resumed. */
  tlsResumed: number;
  /** Sessions back whose hello carried the resume proof of their fill ticket (the secret node A's welcome gave). */
  resumeProofs: number;
  /** Connections the surviving nodes' switch listeners refused at accept, by reason (el_listener_connections_refused_total). */
  refusedAtAccept: Record<string, number>;
  /** The survivors' el_switch_session_errors_total during the storm, by code: attempts that got through TLS and were refused after. */
  survivorSessionErrors: Record<string, number>;
  /** The surviving switches' garbage collection from the kill on, seconds by kind (nodejs_gc_duration_seconds), both together:
   * the main thread's pauses only; concurrent marking and sweeping on V8's helper threads are in the CPU seconds, not here. */
  survivorGcSeconds: Record<string, number>;
  /** How many collections of each kind, both together. */
  survivorGcCount: Record<string, number>;
  /** V8 or Node flags every switch node ran with (--storm-node-flags), beside the ones `elink switch` sets itself. */
  nodeFlags: string[];
  /** Each surviving switch's V8 heap in use once the storm is over (MiB). */
  survivorHeapUsedMiB: number[];
  /** Each surviving node's resident memory once the storm is over (MiB, VmRSS). */
  survivorRssMiB: number[];
  /** The client processes' garbage collection from the first loss on, seconds by kind, all together. */
  generatorGcSeconds: Record<string, number>;
  /** Failed hellos as the clients saw them, by kind. */
  clientErrors: Record<string, number>;
  /** How many backoff turns the sessions back needed: 1, 2, 3, 4, 5 or more. */
  attemptsNeeded: number[];
  /** Sessions welcomed in each second after the kill. */
  timeline: number[];
  /** With `profileDir`: the surviving switches' and the client processes' top functions by self time (`node --cpu-prof`). */
  profiles?: ProfileSummary[];
  /** Sessions back per broker CPU-second; null when the way back needs no broker. */
  loginsPerBrokerCpuSecond: number | null;
  lastError?: string;
}

function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return 0;
  }
}

function rssMiB(pid: number): number {
  try {
    const kb = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Math.round(Number(kb) / 1024) : 0;
  } catch {
    return 0;
  }
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

function adminNodes(brokerPort: number, ca: Buffer): Promise<Array<{ node: string; healthy: boolean }>> {
  return new Promise((resolve, reject) => {
    const req = httpsGet(`https://127.0.0.1:${brokerPort}/v1/admin/nodes`, { ca, timeout: 5000, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d));
      res.on('end', () => (res.statusCode === 200 ? resolve((JSON.parse(text) as { nodes: Array<{ node: string; healthy: boolean }> }).nodes) : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
  });
}

interface ClientStatus {
  up: number;
  filled: boolean;
  back: number;
  down: number;
  logins: number;
  loginErrors: Record<string, number>;
  connectErrors: number;
  lastError: string;
  firstBackAt: number;
  lastBackAt: number;
  p50At: number;
  p90At: number;
  firstDownAt: number;
  timeline: number[];
  backByPort: Record<string, number>;
  resumed: number;
  resumeProofs: number;
  errorKinds: Record<string, number>;
  attempts: number[];
  gcSeconds?: Record<string, number>;
  done?: boolean;
}

interface NodeMetrics {
  /** el_listener_connections_refused_total{listener="switch"}, by reason. */
  refused: Record<string, number>;
  /** nodejs_gc_duration_seconds_sum, by kind (minor, major, incremental, weakcb). */
  gcSeconds: Record<string, number>;
  /** nodejs_gc_duration_seconds_count, by kind. */
  gcCount: Record<string, number>;
  /** nodejs_heap_size_used_bytes. */
  heapUsed: number;
  /** el_switch_session_errors_total, by code. */
  sessionErrors: Record<string, number>;
}

/** What the storm reads of a node's /metrics (its admin port). */
function nodeMetrics(adminPort: number): Promise<NodeMetrics> {
  return new Promise((resolve) => {
    const out: NodeMetrics = { refused: {}, gcSeconds: {}, gcCount: {}, heapUsed: 0, sessionErrors: {} };
    const req = httpGet(`http://127.0.0.1:${adminPort}/metrics`, { timeout: 5000 }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d));
      res.on('end', () => {
        for (const m of text.matchAll(/^el_listener_connections_refused_total\{listener="switch",reason="([a-z_]+)"\} (\d+)/gm)) out.refused[m[1]!] = Number(m[2]);
        for (const m of text.matchAll(/^nodejs_gc_duration_seconds_sum\{kind="([a-z]+)"\} ([\d.e+-]+)/gm)) out.gcSeconds[m[1]!] = Number(m[2]);
        for (const m of text.matchAll(/^nodejs_gc_duration_seconds_count\{kind="([a-z]+)"\} (\d+)/gm)) out.gcCount[m[1]!] = Number(m[2]);
        for (const m of text.matchAll(/^el_switch_session_errors_total\{code="([A-Z_]+)"\} (\d+)/gm)) out.sessionErrors[m[1]!] = Number(m[2]);
        out.heapUsed = Number(/^nodejs_heap_size_used_bytes ([\d.e+-]+)/m.exec(text)?.[1] ?? 0);
        resolve(out);
      });
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(out));
  });
}

const ADMISSION: Record<StormMode, string> = {
  reuse: 'the device-key-bound ticket again, hello with a fresh proof over the TLS channel binding (no broker)',
  device: 'a device login at a broker (Ed25519 signature, POST /v1/login/device), then hello with the new ticket and a proof',
  password: 'a password login at a broker (scrypt), then hello with the new ticket',
  bare: 'the peer: the nodes are bare Node TLS servers (tls-peer.ts), no EL at all; the TLS session resumed as in reuse, then one record each way of the sizes of a hello and a welcome',
};

export async function stormBenchmark(o: { sessions: number; mode: StormMode; deadlineSeconds?: number; resume?: boolean; order?: 'spread' | 'listed'; profileDir?: string; nodeFlags?: string[] }): Promise<StormResult> {
  const users = Math.ceil(o.sessions / SESSIONS_PER_USER);
  const work = mkdtempSync(join(tmpdir(), 'elink-storm-'));
  const procs: Daemon[] = [];
  const clients: ChildProcess[] = [];
  try {
    const redisPort = await freePort();
    const redis = daemon('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', work]);
    procs.push(redis);
    await redis.waitFor(/Ready to accept connections/, 10_000, 'redis-server');

    const brokers = [{ port: await freePort(), admin: await freePort() }, { port: await freePort(), admin: await freePort() }];
    const state = join(work, 'state');
    must(process.execPath, [CLI, 'init', '--state', state]);
    const file = join(state, 'elink.yaml');
    const doc = parseDocument(readFileSync(file, 'utf8'));
    doc.setIn(['admin', 'host'], '127.0.0.1');
    doc.setIn(['broker', 'clusterSecret'], CLUSTER_SECRET);
    doc.setIn(['broker', 'adminToken'], ADMIN_TOKEN);
    doc.setIn(['broker', 'maxDevicesPerUser'], SESSIONS_PER_USER + 1);
    doc.setIn(['broker', 'rateLimit'], doc.createNode({ perUser: 1_000_000, perAddress: 1_000_000, perUserTotal: 1_000_000 }));
    doc.setIn(['limits'], doc.createNode({ pendingPerSource: 1024, acceptRatePerSource: 500 }));
    doc.setIn(['switch', 'maxSessions'], 20_000);
    doc.setIn(['switch', 'replayCacheSize'], Math.max(100_000, o.sessions * 4));
    doc.setIn(['switch', 'advertise'], '127.0.0.1');
    doc.setIn(['switch', 'drainSeconds'], 0);
    doc.setIn(['switch', 'broker'], doc.createNode({ urls: brokers.map((b) => `https://127.0.0.1:${b.port}`), clusterSecret: CLUSTER_SECRET, interval: 1 }));
    writeFileSync(file, doc.toString());
    writeFileSync(join(state, 'pw'), `${PASSWORD}\n`);
    // One `elink user add` for the hash; the other users (hundreds) share it, written at once.
    must(process.execPath, [CLI, 'user', 'add', 'storm0', '--segment', 'lab', '--password-file', join(state, 'pw'), '--state', state]);
    const withUser = parseDocument(readFileSync(file, 'utf8'));
    const first = (withUser.toJS() as { users: Array<{ name: string; password: string }> }).users.find((u) => u.name === 'storm0')!;
    for (let i = 1; i < users; i++) (withUser.get('users') as { add(v: unknown): void }).add(withUser.createNode({ name: `storm${i}`, password: first.password, segments: ['lab'] }));
    // The store last: with Redis set, `elink user add` writes there, not into the file.
    withUser.setIn(['broker', 'store'], withUser.createNode({ type: 'redis', url: `redis://127.0.0.1:${redisPort}` }));
    writeFileSync(file, withUser.toString());
    if (o.mode === 'device') {
      // What each session's first password login did: its device key registered for its user and device.
      const store = await openStore({ type: 'redis', url: `redis://127.0.0.1:${redisPort}` });
      try {
        for (let n = 0; n < o.sessions; n++) await store.putDeviceKey(stormUser(n, users), `storm-${n}`, rawDeviceKey(stormDeviceKey(n)), 3600);
      } finally {
        await store.close();
      }
    }
    const ca = readFileSync(join(state, 'ca.pem'));

    const brokerProcs = brokers.map((b) => daemon(process.execPath, [CLI, 'broker', '--state', state, '--broker-port', String(b.port), '--admin-port', String(b.admin), '--listen-host', '127.0.0.1']));
    procs.push(...brokerProcs);
    await Promise.all(brokerProcs.map((p, i) => p.waitFor(/"emotion link started"/, 30_000, `broker ${i}`)));

    const nodes: Array<{ id: string; port: number; admin: number; proc?: Daemon }> = [];
    const nodePorts = [await freePort(), await freePort(), await freePort()];
    const startNode = async (id: string): Promise<Daemon> => {
      const dir = join(work, id);
      cpSync(state, dir, { recursive: true });
      const port = nodePorts[nodes.length]!;
      const admin = await freePort();
      // Profiled: the surviving nodes (they start after the fill), written when they stop.
      const prof = o.profileDir && id !== 'storm-a' ? ['--cpu-prof', `--cpu-prof-dir=${join(o.profileDir, id)}`] : [];
      if (prof.length) mkdirSync(join(o.profileDir!, id), { recursive: true });
      if (o.mode === 'bare') {
        // The peer: what a switch's TLS listener does, and nothing of EL (tls-peer.ts).
        const peer: PeerServerConfig = { certPem: readFileSync(join(dir, 'server.pem'), 'utf8'), keyPem: readFileSync(join(dir, 'server.key'), 'utf8'), clusterSecret: CLUSTER_SECRET, port };
        const p = daemon(process.execPath, [...(o.nodeFlags ?? []), ...prof, fileURLToPath(new URL('./tls-peer.js', import.meta.url)), 'server'], { env: { EL_BENCH_PEER: JSON.stringify(peer) } });
        procs.push(p);
        nodes.push({ id, port, admin, proc: p });
        await p.waitFor(/"port"/, 30_000, `TLS peer ${id}`);
        return p;
      }
      const p = daemon(process.execPath, [...(o.nodeFlags ?? []), ...prof, CLI, 'switch', '--state', dir, '--switch-port', String(port), '--admin-port', String(admin), '--listen-host', '127.0.0.1', '--node-id', id]);
      procs.push(p);
      nodes.push({ id, port, admin, proc: p });
      await p.waitFor(/"emotion link started"/, 30_000, `switch ${id}`);
      const deadline = Date.now() + 20_000;
      while (!(await adminNodes(brokers[0]!.port, ca).catch(() => [])).some((n) => n.node === id && n.healthy)) {
        if (Date.now() > deadline) throw new Error(`${id} never became healthy at the broker`);
        await sleep(200);
      }
      return p;
    };

    const a = await startNode('storm-a');
    const signing = readFileSync(join(state, 'ticket-signing.key'), 'utf8');
    const live: ClientStatus[] = [];
    const per = Math.ceil(o.sessions / 2);
    for (let c = 0; c < 2; c++) {
      const count = Math.min(per, o.sessions - c * per);
      // Profiled too (the generator): written when the process exits on SIGTERM.
      const clientProf = o.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${join(o.profileDir, `clients-${c}`)}`] : [];
      const child = spawn(process.execPath, [...clientProf, fileURLToPath(new URL('./storm-clients.js', import.meta.url))], {
        stdio: ['ignore', 'pipe', 'inherit'],
        env: {
          ...process.env,
          EL_BENCH_STORM: JSON.stringify({ mode: o.mode, switchPort: nodes[0]!.port, serverPorts: nodePorts, nodeIds: ['storm-a', 'storm-b', 'storm-c'], order: o.order ?? 'spread', brokerPorts: brokers.map((b) => b.port), caPem: ca.toString(), ticketPrivatePem: signing, count, first: c * per, sources: SOURCES, users, password: PASSWORD, segment: 'lab', concurrency: 64, inFlight: IN_FLIGHT, macBase: 0x02e1d0000000, resume: o.resume ?? true }),
        },
      });
      live[c] = { up: 0, filled: false, back: 0, down: 0, logins: 0, loginErrors: {}, connectErrors: 0, lastError: '', firstBackAt: 0, lastBackAt: 0, p50At: 0, p90At: 0, firstDownAt: 0, timeline: [], backByPort: {}, resumed: 0, resumeProofs: 0, errorKinds: {}, attempts: [] };
      let rest = '';
      child.stdout!.on('data', (d: Buffer) => {
        rest += d.toString();
        const lines = rest.split('\n');
        rest = lines.pop()!;
        for (const l of lines) Object.assign(live[c]!, JSON.parse(l));
      });
      clients.push(child);
    }
    // Generous: on a loaded machine (other work on the same cores) the fill alone ran out at 5 ms a session.
    const fillDeadline = Date.now() + 60_000 + o.sessions * 20;
    while (!live.every((s) => s.filled) && Date.now() < fillDeadline) await sleep(200);
    const up = live.reduce((n, s) => n + s.up, 0);
    if (up === 0) throw new Error(`no session came up on node A: ${live.map((s) => s.lastError).join('; ')}`);

    await startNode('storm-b');
    await startNode('storm-c');
    // Node A's heartbeats have told the brokers it carries the sessions (affinity).
    await sleep(2000);

    const watched = [...nodes.slice(1).map((n) => n.proc!.child.pid!), ...brokerProcs.map((p) => p.child.pid!), redis.child.pid!, ...clients.map((c) => c.pid!)];
    const metrics0 = await Promise.all(nodes.slice(1).map((n) => nodeMetrics(n.admin)));
    const cpu0 = watched.map(cpuSeconds);
    const killedAt = Date.now();
    a.child.kill('SIGKILL');
    const deadlineSeconds = o.deadlineSeconds ?? 120;
    const deadline = killedAt + deadlineSeconds * 1000;
    let cpu1 = cpu0;
    while (Date.now() < deadline) {
      await sleep(250);
      const back = live.reduce((n, s) => n + s.back, 0);
      cpu1 = watched.map(cpuSeconds);
      if (back >= up) break;
    }
    // One snapshot for every figure below: the clients keep reporting meanwhile.
    const status = structuredClone(live);
    const back = status.reduce((n, s) => n + s.back, 0);
    const cpu = cpu1.map((v, i) => v - cpu0[i]!);
    const switchCpu = cpu[0]! + cpu[1]!;
    const brokerCpu = cpu[2]! + cpu[3]!;
    const metrics1 = await Promise.all(nodes.slice(1).map((n) => nodeMetrics(n.admin)));
    const refusedAtAccept: Record<string, number> = {};
    const survivorSessionErrors: Record<string, number> = {};
    const survivorGcSeconds: Record<string, number> = {};
    const survivorGcCount: Record<string, number> = {};
    metrics1.forEach((m, i) => {
      const before = metrics0[i]!;
      for (const [k, v] of Object.entries(m.refused)) if (v - (before.refused[k] ?? 0) > 0) refusedAtAccept[k] = (refusedAtAccept[k] ?? 0) + v - (before.refused[k] ?? 0);
      for (const [k, v] of Object.entries(m.sessionErrors)) if (v - (before.sessionErrors[k] ?? 0) > 0) survivorSessionErrors[k] = (survivorSessionErrors[k] ?? 0) + v - (before.sessionErrors[k] ?? 0);
      for (const [k, v] of Object.entries(m.gcSeconds)) survivorGcSeconds[k] = (survivorGcSeconds[k] ?? 0) + v - (before.gcSeconds[k] ?? 0);
      for (const [k, v] of Object.entries(m.gcCount)) survivorGcCount[k] = (survivorGcCount[k] ?? 0) + v - (before.gcCount[k] ?? 0);
    });
    const survivorHeapUsedMiB = metrics1.map((m) => Math.round(m.heapUsed / 2 ** 20));
    const survivorRssMiB = nodes.slice(1).map((n) => rssMiB(n.proc!.child.pid!));
    const backByNode: Record<string, number> = {};
    const clientErrors: Record<string, number> = {};
    const attemptsNeeded = [0, 0, 0, 0, 0];
    const timeline: number[] = [];
    for (const s of status) {
      for (const [port, v] of Object.entries(s.backByPort)) {
        const id = nodes.find((n) => String(n.port) === port)?.id ?? port;
        backByNode[id] = (backByNode[id] ?? 0) + v;
      }
      for (const [k, v] of Object.entries(s.errorKinds)) clientErrors[k] = (clientErrors[k] ?? 0) + v;
      s.attempts.forEach((v, i) => (attemptsNeeded[i]! += v));
      // Each process's timeline starts at its first loss; shift it to the kill.
      const shift = s.firstDownAt ? Math.max(0, Math.round((s.firstDownAt - killedAt) / 1000)) : 0;
      s.timeline.forEach((v, i) => (timeline[i + shift] = (timeline[i + shift] ?? 0) + v));
    }
    const at = (pick: (s: ClientStatus) => number, combine: (xs: number[]) => number) => {
      const xs = status.map(pick).filter((x) => x > 0);
      return xs.length ? (combine(xs) - killedAt) / 1000 : null;
    };
    const generatorGcSeconds: Record<string, number> = {};
    for (const s of status) for (const [k, v] of Object.entries(s.gcSeconds ?? {})) generatorGcSeconds[k] = (generatorGcSeconds[k] ?? 0) + v;
    const loginErrors: Record<string, number> = {};
    for (const s of status) for (const [k, v] of Object.entries(s.loginErrors)) loginErrors[k] = (loginErrors[k] ?? 0) + v;
    const lastError = status.map((s) => s.lastError).find(Boolean);
    let profiles: ProfileSummary[] | undefined;
    if (o.profileDir) {
      await Promise.all(clients.map((c) => new Promise<void>((resolve) => {
        const t = setTimeout(() => (c.kill('SIGKILL'), resolve()), 30_000);
        c.once('exit', () => (clearTimeout(t), resolve()));
        c.kill('SIGTERM');
      })));
      await Promise.all(nodes.slice(1).map((n) => n.proc!.stop(30_000)));
      const dirs = [...nodes.slice(1).map((n) => n.id), ...clients.map((_, c) => `clients-${c}`)];
      profiles = dirs.flatMap((d) => readdirSync(join(o.profileDir!, d)).map((f) => summarizeProfile(join(o.profileDir!, d, f), 25)));
    }
    return {
      mode: o.mode,
      clientAttemptsInFlight: IN_FLIGHT * 2,
      sessionsWanted: o.sessions,
      sessionsUp: up,
      admission: ADMISSION[o.mode],
      firstBackSeconds: at((s) => s.firstBackAt, (xs) => Math.min(...xs)),
      // Per client process (half of the sessions each): the slower one, once both got there.
      p50BackSeconds: status.every((s) => s.p50At > 0) ? at((s) => s.p50At, (xs) => Math.max(...xs)) : null,
      p90BackSeconds: status.every((s) => s.p90At > 0) ? at((s) => s.p90At, (xs) => Math.max(...xs)) : null,
      allBackSeconds: back >= up ? at((s) => s.lastBackAt, (xs) => Math.max(...xs)) : null,
      backAtEnd: back,
      deadlineSeconds,
      logins: status.reduce((n, s) => n + s.logins, 0),
      loginErrors,
      connectErrors: status.reduce((n, s) => n + s.connectErrors, 0),
      survivingSwitchCpuSeconds: switchCpu,
      brokerCpuSeconds: brokerCpu,
      redisCpuSeconds: cpu[4]!,
      setupsPerSwitchCpuSecond: switchCpu ? back / switchCpu : 0,
      generatorCpuSeconds: cpu.slice(5).reduce((a, b) => a + b, 0),
      backByNode,
      tlsResumed: status.reduce((n, s) => n + s.resumed, 0),
      resumeProofs: status.reduce((n, s) => n + s.resumeProofs, 0),
      refusedAtAccept,
      survivorSessionErrors,
      survivorGcSeconds,
      survivorGcCount,
      nodeFlags: o.nodeFlags ?? [],
      survivorHeapUsedMiB,
      survivorRssMiB,
      generatorGcSeconds,
      clientErrors,
      attemptsNeeded,
      timeline: Array.from(timeline, (x) => x ?? 0),
      ...(profiles ? { profiles } : {}),
      loginsPerBrokerCpuSecond: (o.mode === 'device' || o.mode === 'password') && brokerCpu ? back / brokerCpu : null,
      ...(lastError ? { lastError } : {}),
    };
  } finally {
    for (const c of clients) c.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.stop()));
    rmSync(work, { recursive: true, force: true });
  }
}
