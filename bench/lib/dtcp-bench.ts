/**
 * DTCP against EL in one run, on the bench topology: `elink up` in the server namespace
 * with a DTCP listener on an L3 segment; client 2 is an EL kernel client (the receiver);
 * client 1 is first an EL kernel client, then (after it stopped) a DTCP `host` tunnel
 * client (test/lib/dtcp-client.ts: TUN + raw protocol-41 socket, no sit here). TCP 1
 * stream and ping over IPv6 from client 1 to client 2, both ways of reaching it, and their
 * ratio (DTCP ÷ EL). Then idle tunnels: as many DTCP `host` tunnels as the node's
 * descriptors allow, each from its own client IPv4, held by one node process: KiB per
 * tunnel of the node's RSS.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import { ElinkProcesses, initState } from './elink-cli.js';
import { cpuDelta, cpuTicks, iperf, pingStats, waitReachable, type Durations, type Side } from './measure.js';
import { daemon, must, sleep } from './proc.js';
import { createTopology } from './topology.js';

const DTCP_CLIENT = fileURLToPath(new URL('../../../test/lib/dtcp-client.ts', import.meta.url));
const DTCP_PORT = 20200;
const SECRET = 'bench dtcp secret';
const INSPECT_PORT = 9229;

/** Run in the node's namespace: a full GC through the inspector, then its memory (JSON). */
const GC_PROBE = `
const list = await (await fetch('http://127.0.0.1:${INSPECT_PORT}/json/list')).json();
const ws = new WebSocket(list[0].webSocketDebuggerUrl);
await new Promise((r, j) => { ws.onopen = r; ws.onerror = j; });
let id = 0;
const call = (method, params = {}) => new Promise((r) => { const my = ++id; ws.addEventListener('message', function on(e) { const m = JSON.parse(e.data); if (m.id === my) { ws.removeEventListener('message', on); r(m.result); } }); ws.send(JSON.stringify({ id: my, method, params })); });
await call('HeapProfiler.collectGarbage');
await call('HeapProfiler.collectGarbage');
const r = await call('Runtime.evaluate', { expression: 'JSON.stringify(process.memoryUsage())', returnByValue: true });
console.log(r.result.value);
ws.close();
`;

export interface DtcpFigures {
  tcp1Gbps: number;
  /** CPU seconds per Gbit carried by the TCP stream: the node (server namespace) and the sending client (client 1's processes). */
  cpuSecondsPerGbit: { server: number; client1: number };
  pingAvgMs: number;
  pingP99Ms: number;
}

export interface DtcpBenchResult {
  el: DtcpFigures;
  dtcp: DtcpFigures;
  /** DTCP ÷ EL (TCP: higher is better; ping: lower is better). */
  ratio: { tcp1: number; pingAvg: number };
  idle?: IdleTunnels;
  notes: string[];
}

export interface IdleTunnels {
  wanted: number;
  up: number;
  failed: number;
  lastError?: string;
  rssBaselineMiB: number;
  rssLoadedMiB: number;
  rssPerTunnelKiB: number;
  /** V8 heap in use (nodejs_heap_size_used_bytes), before and after. */
  heapBaselineMiB: number;
  heapLoadedMiB: number;
  heapPerTunnelKiB: number;
  setupSeconds: number;
}

/** The node's memory after two full GCs (through its inspector on 127.0.0.1 of its namespace). */
function memoryAfterGc(ns: string): { rss: number; heapUsed: number } {
  const out = must('ip', ['netns', 'exec', ns, process.execPath, '--input-type=module', '-e', GC_PROBE], { timeoutMs: 60_000 });
  return JSON.parse(out.trim().split('\n').pop()!) as { rss: number; heapUsed: number };
}

function figures(side: Side, d: Durations, serverNs: string): DtcpFigures {
  const ping = pingStats(side.from.ns, side.to.address, d.pings);
  const server = spawn('ip', ['netns', 'exec', side.to.ns, 'iperf3', '-s', '-1', '-B', side.to.address], { stdio: 'ignore' });
  try {
    spawnSync('sleep', ['0.5']);
    const s0 = cpuTicks(serverNs);
    const c0 = cpuTicks(side.from.ns);
    const tcp1 = iperf(side, [], d.seconds);
    const gbit = (tcp1.end.sum_received!.bytes * 8) / 1e9;
    const cpuSecondsPerGbit = { server: cpuDelta(s0, cpuTicks(serverNs)) / gbit, client1: cpuDelta(c0, cpuTicks(side.from.ns)) / gbit };
    return { tcp1Gbps: tcp1.end.sum_received!.bits_per_second / 1e9, cpuSecondsPerGbit, pingAvgMs: ping.avg, pingP99Ms: ping.p99 };
  } finally {
    server.kill();
  }
}

export async function dtcpBenchmark(d: Durations, work: string, idleTunnels: number): Promise<DtcpBenchResult> {
  const topo = createTopology();
  const procs = new ElinkProcesses();
  try {
    const users = ['bench1', 'bench2', 'phone'];
    for (let i = 0; i < idleTunnels; i++) users.push(`idle${i}`);
    const configFile = initState(work, {
      users: users.slice(0, 3),
      segment: 'dtcp6',
      edit: (doc) => {
        (doc.get('segments') as { add(v: unknown): void }).add(doc.createNode({ name: 'dtcp6', mode: 'l3', mtu: 1400, ipv4: { pool: '198.19.80.0/22' }, ipv6: { pool: 'fd00:e1:0:80::/64' } }));
        doc.setIn(['switch', 'dtcp'], doc.createNode({ listen: { host: '0.0.0.0', port: DTCP_PORT }, segment: 'dtcp6', types: ['host'] }));
      },
    });
    writeFileSync(join(work, 'dtcp-pw'), `${SECRET}\n`);
    // DTCP secrets (and the idle users) straight into the config file: `elink user add` per user would take minutes.
    const withSecrets = parseDocument(readFileSync(configFile, 'utf8'));
    const list = withSecrets.get('users') as { items: { set(k: string, v: unknown): void; get(k: string): unknown }[]; add(v: unknown): void };
    const hash = list.items.find((u) => u.get('name') === 'bench1')!.get('password');
    for (const u of list.items) if (u.get('name') === 'phone') u.set('digestSecret', SECRET);
    for (const user of users.slice(3)) list.add(withSecrets.createNode({ name: user, password: hash, segments: ['dtcp6'], digestSecret: SECRET }));
    writeFileSync(configFile, withSecrets.toString());

    await procs.server(topo.server.ns, ['up', '--state', work], 'elink up', { timeoutMs: 60_000 });
    const broker = `https://${topo.server.address}:8443`;
    const connect = async (i: number) => {
      const c = topo.clients[i];
      const { proc, up } = await procs.connect(c.ns, { broker, work, user: `bench${i + 1}`, device: c.name, state: join(work, `client-state${i}`) });
      return { proc, v6: String(up.ipv6).split('/')[0] };
    };
    const receiver = await connect(1);
    const side: Side = { roles: {}, from: { ns: topo.clients[0].ns }, to: { ns: topo.clients[1].ns, address: receiver.v6 } };

    const el1 = await connect(0);
    await waitReachable(side);
    const el = figures(side, d, topo.server.ns);
    await el1.proc.stop();

    const dtcpClient = procs.client(daemon(process.execPath, [DTCP_CLIENT, '--server', topo.server.address, '--port', String(DTCP_PORT), '--user', 'phone', '--password-file', join(work, 'dtcp-pw'), '--type', 'host', '--mtu', '1400'], { ns: topo.clients[0].ns }));
    await dtcpClient.waitFor(/"tunnel up"/, 30_000, 'DTCP tunnel up');
    await waitReachable(side);
    const dtcp = figures(side, d, topo.server.ns);
    await dtcpClient.stop();

    const result: DtcpBenchResult = {
      el,
      dtcp,
      ratio: { tcp1: dtcp.tcp1Gbps / el.tcp1Gbps, pingAvg: dtcp.pingAvgMs / el.pingAvgMs },
      notes: ['client 1 → client 2 over IPv6; client 2 an EL kernel client; client 1 an EL kernel client, then a DTCP host tunnel (user-space sit: TUN + raw protocol-41 socket)'],
    };
    if (idleTunnels > 0) {
      // A fresh node for the idle tunnels: its memory then holds no traffic's buffers.
      await procs.stop();
      // With the inspector on loopback (its namespace's): the heap is measured after a full GC.
      await procs.server(topo.server.ns, ['up', '--state', work], 'elink up (idle tunnels)', { nodeArgs: [`--inspect=127.0.0.1:${INSPECT_PORT}`], timeoutMs: 60_000 });
      result.idle = await idle(topo.clients[0].ns, topo.clients[0].address, topo.server.address, topo.server.ns, idleTunnels);
    }
    return result;
  } finally {
    await procs.stop();
    topo.destroy();
  }
}

/** Idle tunnels from client 1's namespace, each from its own address of 198.18.128.0/17
 * (routed to that namespace and local there: any address of it can be bound). */
async function idle(ns: string, via: string, server: string, serverNs: string, n: number): Promise<IdleTunnels> {
  must('ip', ['-n', ns, 'route', 'add', 'local', '198.18.128.0/17', 'dev', 'lo']);
  must('ip', ['-n', serverNs, 'route', 'add', '198.18.128.0/17', 'via', via]);
  await sleep(3000);
  const m0 = memoryAfterGc(serverNs);
  const t0 = Date.now();
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, fileURLToPath(new URL('./dtcp-idle-clients.js', import.meta.url))], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, EL_BENCH_DTCP: JSON.stringify({ server, port: DTCP_PORT, users: n, secret: SECRET, base: '198.18.128.1' }) },
  });
  let last: { up: number; failed: number; done: boolean; lastError?: string } = { up: 0, failed: 0, done: false };
  child.stdout.on('data', (d: Buffer) => {
    for (const line of d.toString().split('\n')) if (line.startsWith('{')) last = JSON.parse(line) as typeof last;
  });
  const deadline = Date.now() + 300_000;
  while (!last.done && Date.now() < deadline && child.exitCode === null) await sleep(500);
  const setupSeconds = (Date.now() - t0) / 1000;
  await sleep(5000);
  const m1 = memoryAfterGc(serverNs);
  child.kill('SIGTERM');
  return {
    wanted: n,
    up: last.up,
    failed: last.failed,
    ...(last.lastError ? { lastError: last.lastError } : {}),
    rssBaselineMiB: m0.rss / 2 ** 20,
    rssLoadedMiB: m1.rss / 2 ** 20,
    rssPerTunnelKiB: last.up ? (m1.rss - m0.rss) / 1024 / last.up : 0,
    heapBaselineMiB: m0.heapUsed / 2 ** 20,
    heapLoadedMiB: m1.heapUsed / 2 ** 20,
    heapPerTunnelKiB: last.up ? (m1.heapUsed - m0.heapUsed) / 1024 / last.up : 0,
    setupSeconds,
  };
}
