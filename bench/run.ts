/**
 * `npm run bench`: Emotion Link (L2, L3), OpenVPN (tap, tun) and SoftEther measured in
 * one run on the same topology, plus the switch-only microbenchmark and the idle-session
 * scale test; prints a table with ratios and writes docs/benchmarks/*.json and *.svg.
 * `npm run bench:smoke` (`--smoke`): Emotion Link L2 only, a few seconds, into --out.
 *
 * Options: --smoke, --out DIR, --seconds N, --no-offload (Emotion Link clients without
 * TSO offload), --only id,id (elink-l2, elink-l2-ws (the same over WebSocket), elink-l3,
 * elink-cross (two switch nodes, a trunk), openvpn-tap, openvpn-tun, softether, micro, scale,
 * setups, storm, stack (the user-mode stack beside the kernel client), dtcp (a DTCP host tunnel against an EL client, N idle tunnels on one node
 * with --dtcp-tunnels N, default 19,000, and a tunnel's cost as a kernel device and as a plane
 * port)), --setups N (sessions per
 * admission phase of the setups benchmark, default 3000), --admissions a,b (only those
 * phases of it, e.g. 'device key+resume+proof,bare Node TLS').
 * Reconnect storm: --storm-sessions N (default 10,000), --storm-modes reuse,bare,device,password
 * (how returning sessions are admitted, one storm each; `bare` is the peer: bare Node TLS
 * servers in place of the switches, reported beside reuse as reuseOverBare), --storm-full-handshake
 * (the sessions do not offer node A's TLS session to the next node, as clients did before;
 * by default they do, as the client does: the cluster shares ticket keys),
 * --storm-order listed (the sessions try the nodes in the listed order, as clients did before
 * reconnect-order.ts; default spread), --storm-profile DIR (the surviving switches and the two client processes under `node --cpu-prof`, their top functions reported), --storm-node-flags "FLAGS" (V8/Node flags for every switch node, e.g. to try a collector setting), --storm-seconds
 * N (how long to wait for all to be back, default 120).
 * Profiling: --profile DIR --figure tcp1|ping|udp64 [--only elink-l2|elink-l3] runs only that
 * figure with the server and both clients under `node --cpu-prof` and prints the top
 * functions by self time of each process (profiles stay in DIR/<role>/); --figure setup
 * [--sessions N, default 5000] profiles the switch while the scale test connects; --figure
 * setups [--setups N] [--admissions a,b] profiles the switch through the setups benchmark's
 * four admissions and its bare Node TLS peer, or only those named (e.g. --admissions
 * 'device key+resume+proof').
 * First seconds (issue 14): --figure first-seconds [--only elink-l2,elink-l3] [--rounds N,
 * default 3] [--variants tuned,untuned,warm-up-only,gc-only, default tuned,untuned]
 * [--pings N, default 200] [--flood N, default 10000]: ping right after the EL clients start
 * and again after a flood, paired against SoftEther (bench/lib/first-seconds.ts); writes
 * first-seconds.json into --out.
 * Per hop (issue 14): --figure hops [same options as first-seconds; --rounds default 2]:
 * tcpdump in the three namespaces during both windows, each ping followed hop by hop
 * through the clients' devices and the underlay, EL and SoftEther paired
 * (bench/lib/hops.ts); writes hops.json into --out. --relays tls,tcp,direct-tls,direct-tcp
 * adds bare relays (bench/lib/bare-relay.ts: no EL logic; TLS or plain TCP; through a hub
 * or client to client) as systems of their own, to measure a cheaper carrier and fewer hops.
 * --transports tls,ws (hops): EL over raw TLS and/or WebSocket (default tls), each its own system.
 * --base-cli PATH (first-seconds, hops): the variant `base` runs the `elink` at PATH (the
 * packages/cli/dist/main.js of another build), so an old build and this one are paired.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { elinkSystem, setBaseCli, TUNING_FLAGS, type TuningVariant } from './lib/elink.js';
import { elinkHopsSystem, hopsBenchmark, hopsTable, type HopsSystem } from './lib/hops.js';
import { bareRelaySystem, RELAY_PORT } from './lib/bare-relay.js';
import { firstSecondsBenchmark, summaryTable } from './lib/first-seconds.js';
import { elinkCrossNodeSystem } from './lib/elink-cluster.js';
import { ensurePackages } from './lib/install.js';
import { summarizeProfile } from './lib/cpu-profile.js';
import { measure, runFigure } from './lib/measure.js';
import { microBenchmark } from './lib/micro.js';
import { openvpnSystem } from './lib/openvpn.js';
import { stopAll } from './lib/proc.js';
import { svg, table, type Results, type SystemResult } from './lib/report.js';
import { scaleBenchmark } from './lib/scale.js';
import { setupBenchmark, type SetupPhase } from './lib/setups.js';
import { softetherSystem } from './lib/softether.js';
import { stormBenchmark, type StormResult } from './lib/storm.js';
import { stackBenchmark } from './lib/stack.js';
import { dtcpBenchmark } from './lib/dtcp-bench.js';
import { kernelDeviceCost, planeTunnelCost } from './lib/six-in-four-cost.js';
import type { SystemDef } from './lib/system.js';
import { createTopology, type Topology } from './lib/topology.js';

const { values: args } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    out: { type: 'string' },
    seconds: { type: 'string' },
    only: { type: 'string' },
    sessions: { type: 'string' },
    'storm-sessions': { type: 'string' },
    'storm-modes': { type: 'string' },
    'storm-seconds': { type: 'string' },
    'storm-full-handshake': { type: 'boolean' },
    'storm-profile': { type: 'string' },
    'storm-order': { type: 'string' },
    'storm-node-flags': { type: 'string' },
    setups: { type: 'string' },
    admissions: { type: 'string' },
    'dtcp-tunnels': { type: 'string' },
    profile: { type: 'string' },
    figure: { type: 'string' },
    rounds: { type: 'string' },
    variants: { type: 'string' },
    pings: { type: 'string' },
    flood: { type: 'string' },
    'base-cli': { type: 'string' },
    relays: { type: 'string' },
    transports: { type: 'string' },
    // Clients without TSO offload (elink connect --no-offload): the "before" figures.
    'no-offload': { type: 'boolean', default: false },
  },
});

const smoke = args.smoke!;
const outDir = args.out ?? fileURLToPath(new URL('../../docs/benchmarks/', import.meta.url));
const seconds = Number(args.seconds ?? (smoke ? 1 : 10));
const durations = { seconds, pings: smoke ? 20 : 300 };
const all = smoke ? ['elink-l2'] : ['elink-l2', 'elink-l2-ws', 'elink-l3', 'elink-cross', 'openvpn-tap', 'openvpn-tun', 'softether', 'micro', 'scale', 'setups', 'storm', 'stack', 'dtcp'];
const only = new Set(args.only ? args.only.split(',') : all);

const systems: { def: SystemDef; packages: string[] }[] = [
  { def: elinkSystem('l2', args.profile, args['no-offload']), packages: ['iperf3', 'iputils-ping'] },
  // The same node and clients with EL over WebSocket: its cost against raw TLS (a ratio line in the table).
  { def: elinkSystem('l2', args.profile, args['no-offload'], 'ws'), packages: ['iperf3', 'iputils-ping'] },
  { def: elinkSystem('l3', args.profile, args['no-offload']), packages: ['iperf3', 'iputils-ping'] },
  { def: elinkCrossNodeSystem(), packages: ['iperf3', 'iputils-ping', 'curl'] },
  { def: openvpnSystem('tap'), packages: ['iperf3', 'openvpn', 'openssl'] },
  { def: openvpnSystem('tun'), packages: ['iperf3', 'openvpn', 'openssl'] },
  { def: softetherSystem(), packages: ['iperf3', 'softether-vpnserver', 'softether-vpnclient', 'softether-vpncmd'] },
];

async function measureSystem(topo: Topology, def: SystemDef, packages: string[], work: string): Promise<SystemResult> {
  const base = { id: def.id, label: def.label, notes: [] as string[] };
  const missing = ensurePackages(packages);
  if (missing) return { ...base, available: false, reason: missing };
  const dir = join(work, def.id);
  mkdirSync(dir, { recursive: true });
  let sys;
  try {
    sys = await def.start(topo, dir);
  } catch (err) {
    if (process.env.EL_BENCH_DEBUG) process.stderr.write(`${(err as Error).message}\n`);
    return { ...base, available: false, reason: `did not come up: ${(err as Error).message.split('\n')[0]}` };
  }
  try {
    const [c1, c2] = topo.clients;
    const results = await measure(
      { roles: { server: topo.server.ns, client1: c1.ns, client2: c2.ns }, from: { ns: c1.ns }, to: { ns: c2.ns, address: sys.addresses[1] } },
      durations,
    );
    return { ...base, available: true, notes: sys.notes, results };
  } finally {
    await sys.stop();
  }
}

/** --profile: one figure per system, processes profiled, top functions printed. */
async function profileMain(dir: string, figure: 'tcp1' | 'ping' | 'udp64' | 'setup' | 'setups'): Promise<void> {
  if (figure === 'setups') {
    const r = await setupBenchmark({ sessions: Number(args.setups ?? 3000), profileDir: join(dir, 'server'), ...(args.admissions ? { admissions: args.admissions.split(',') as SetupPhase['admission'][] } : {}) });
    for (const p of r.phases) process.stdout.write(`${p.admission}: ${p.sessionsUp} up, ${p.failed} failed, ${p.setupsPerSwitchCpuSecond.toFixed(0)} per switch CPU-second (profiled)\n`);
  } else if (figure === 'setup') {
    // The scale test's connecting phase; the switch alone is profiled.
    const r = await scaleBenchmark({ sessions: Number(args.sessions ?? 5000), idleSeconds: 1, profileDir: join(dir, 'server') });
    process.stdout.write(`${r.sessionsUp} sessions up, ${r.failed} failed, ${r.setupsPerSecond.toFixed(0)} setups/s wall, ${r.setupsPerSwitchCpuSecond.toFixed(0)} per switch CPU-second\n`);
  } else await profileSystems(figure);
  for (const role of ['server', 'client1', 'client2']) {
    if (!existsSync(join(dir, role))) continue;
    for (const f of readdirSync(join(dir, role)).filter((n) => n.endsWith('.cpuprofile'))) {
      const s = summarizeProfile(join(dir, role, f));
      process.stdout.write(`\n${role} (${f}): ${s.busySeconds.toFixed(2)} s busy\n`);
      for (const t of s.top) process.stdout.write(`  ${t.selfPercent.toFixed(1).padStart(5)} %  ${t.name}\n`);
    }
  }
}

async function profileSystems(figure: 'tcp1' | 'ping' | 'udp64'): Promise<void> {
  const topo = createTopology();
  const work = mkdtempSync(join(tmpdir(), 'elink-bench-'));
  try {
    for (const { def } of systems) {
      if (!only.has(def.id) || !def.id.startsWith('elink')) continue;
      mkdirSync(join(work, def.id), { recursive: true });
      const sys = await def.start(topo, join(work, def.id));
      try {
        const [c1, c2] = topo.clients;
        const side = { roles: {}, from: { ns: c1.ns }, to: { ns: c2.ns, address: sys.addresses[1] } };
        process.stdout.write(`${def.label}: ${await runFigure(side, figure, durations)}\n`);
      } finally {
        await sys.stop();
      }
    }
  } finally {
    await stopAll();
    topo.destroy();
    rmSync(work, { recursive: true, force: true });
  }
}

/** --figure first-seconds / hops: the cold and warm windows, paired against SoftEther. */
async function firstSecondsMain(hops: boolean): Promise<void> {
  const missing = ensurePackages(['iputils-ping', 'softether-vpnserver', 'softether-vpnclient', 'softether-vpncmd']);
  if (missing) throw new Error(`first-seconds needs SoftEther: ${missing}`);
  const modes = (['l2', 'l3'] as const).filter((m) => !args.only || only.has(`elink-${m}`));
  const variants = (args.variants ?? 'tuned,untuned').split(',') as TuningVariant[];
  for (const v of variants) if (!(v in TUNING_FLAGS)) throw new Error(`--variants: unknown variant ${v} (${Object.keys(TUNING_FLAGS).join(', ')})`);
  if (args['base-cli']) setBaseCli(args['base-cli']);
  if (hops) {
    const missingTcpdump = ensurePackages(['tcpdump']);
    if (missingTcpdump) throw new Error(`hops needs tcpdump: ${missingTcpdump}`);
  }
  const topo = createTopology();
  const work = mkdtempSync(join(tmpdir(), 'elink-bench-'));
  try {
    const o = {
      modes: [...modes],
      variants,
      rounds: Number(args.rounds ?? (hops ? 2 : 3)),
      pings: Number(args.pings ?? 200),
      block: 25,
      flood: Number(args.flood ?? 10_000),
      log: (l: string) => process.stderr.write(`${l}\n`),
    };
    mkdirSync(outDir, { recursive: true });
    if (hops) {
      process.stderr.write('hops: EL started afresh per round, pings alternating with SoftEther, tcpdump in every namespace …\n');
      const transports = (args.transports ?? 'tls').split(',');
      for (const t of transports) if (t !== 'tls' && t !== 'ws') throw new Error(`--transports: unknown transport ${t} (tls, ws)`);
      const systems: HopsSystem[] = modes.flatMap((m) => variants.flatMap((v) => transports.map((t) => elinkHopsSystem(m, v, t as 'tls' | 'ws'))));
      for (const r of args.relays ? args.relays.split(',') : []) {
        const m = /^(direct-)?(tls|tcp)$/.exec(r);
        if (!m) throw new Error(`--relays: unknown relay ${r} (tls, tcp, direct-tls, direct-tcp)`);
        systems.push({ key: `relay-${r}`, def: bareRelaySystem(m[2] as 'tls' | 'tcp', m[1] !== undefined), isPort: (p) => p === RELAY_PORT, direct: m[1] !== undefined });
      }
      const h = await hopsBenchmark(topo, work, { ...o, systems });
      writeFileSync(join(outDir, 'hops.json'), JSON.stringify({ date: new Date().toISOString(), node: process.version, ...h }, null, 2) + '\n');
      process.stdout.write(hopsTable(h.rounds) + `\n\nwrote ${join(outDir, 'hops.json')}\n`);
      return;
    }
    process.stderr.write('first seconds: EL started afresh per round, pings alternating with SoftEther …\n');
    const r = await firstSecondsBenchmark(topo, work, o);
    writeFileSync(join(outDir, 'first-seconds.json'), JSON.stringify({ date: new Date().toISOString(), node: process.version, ...r }, null, 2) + '\n');
    process.stdout.write(summaryTable(r.summary) + `\n\nwrote ${join(outDir, 'first-seconds.json')}\n`);
  } finally {
    await stopAll();
    topo.destroy();
    rmSync(work, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the benchmark needs root (network namespaces, TAP/TUN devices)');
  if (args.figure === 'first-seconds' || args.figure === 'hops') return firstSecondsMain(args.figure === 'hops');
  if (args.profile) {
    const figure = args.figure === 'ping' || args.figure === 'udp64' || args.figure === 'setup' || args.figure === 'setups' ? args.figure : 'tcp1';
    return profileMain(args.profile, figure);
  }
  const results: Results = {
    kind: smoke ? 'smoke' : 'full',
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model ?? '?', kernel: release(), node: process.version },
    durations,
    systems: [],
  };
  const work = mkdtempSync(join(tmpdir(), 'elink-bench-'));
  let topo: Topology | undefined;
  const cleanup = async () => {
    await stopAll();
    topo?.destroy();
    rmSync(work, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void cleanup().finally(() => process.exit(130)));
  try {
    topo = createTopology();
    for (const { def, packages } of systems) {
      if (!only.has(def.id)) continue;
      process.stderr.write(`measuring ${def.label} …\n`);
      const r = await measureSystem(topo, def, packages, work);
      if (!r.available) process.stderr.write(`  ${def.label}: not measured: ${r.reason}\n`);
      results.systems.push(r);
    }
    if (only.has('stack')) {
      process.stderr.write('user-mode stack beside the kernel client …\n');
      mkdirSync(join(work, 'stack'), { recursive: true });
      results.stack = await stackBenchmark(topo, join(work, 'stack'), { bytes: smoke ? 20 << 20 : 400 << 20, pings: durations.pings, idle: 90 });
    }
    topo.destroy();
    topo = undefined;
    if (only.has('micro')) {
      process.stderr.write('switch microbenchmark …\n');
      results.micro = await microBenchmark({ seconds: smoke ? 1 : 3 });
    }
    if (only.has('scale')) {
      process.stderr.write('idle-session scale test …\n');
      results.scale = await scaleBenchmark({ sessions: Number(args.sessions ?? 19_000) });
    }
    if (only.has('setups')) {
      process.stderr.write('session setups by admission (password ticket, device key, +TLS resumption, +resume proof) and of a bare Node TLS server …\n');
      results.setups = await setupBenchmark({ sessions: Number(args.setups ?? 3000), ...(args.admissions ? { admissions: args.admissions.split(',') as SetupPhase['admission'][] } : {}) });
    }
    if (only.has('storm')) {
      process.stderr.write('reconnect storm (a cluster: 2 brokers, Redis, 3 switch nodes; SIGKILL of one) …\n');
      const storms: Record<string, unknown> = {};
      for (const mode of (args['storm-modes'] ?? 'reuse,bare,device,password').split(',')) {
        if (mode !== 'reuse' && mode !== 'device' && mode !== 'password' && mode !== 'bare') throw new Error(`--storm-modes: unknown mode ${mode} (reuse, device, password, bare)`);
        process.stderr.write(`  storm, ${mode} …\n`);
        storms[mode] = await stormBenchmark({ sessions: Number(args['storm-sessions'] ?? 10_000), mode, deadlineSeconds: Number(args['storm-seconds'] ?? 120), resume: !(args['storm-full-handshake'] ?? false), order: args['storm-order'] === 'listed' ? 'listed' : 'spread', ...(args['storm-node-flags'] ? { nodeFlags: args['storm-node-flags'].split(/\s+/).filter(Boolean) } : {}), ...(args['storm-profile'] ? { profileDir: join(args['storm-profile'], mode) } : {}) });
      }
      // The peer's figure beside EL's, as a ratio (the reuse storm is the device-key admission a returning client gets).
      const rate = (m: string) => (storms[m] as StormResult | undefined)?.setupsPerSwitchCpuSecond ?? 0;
      if (rate('reuse') && rate('bare')) storms.reuseOverBare = rate('reuse') / rate('bare');
      results.storm = storms;
    }
    if (only.has('dtcp')) {
      process.stderr.write('DTCP host tunnel against EL, idle tunnels, a tunnel as a kernel device and as a plane port …\n');
      const tunnels = Number(args['dtcp-tunnels'] ?? 19_000);
      const dir = join(work, 'dtcp');
      mkdirSync(dir, { recursive: true });
      const run = await dtcpBenchmark(durations, dir, tunnels);
      results.dtcp = { ...run, cost: { kernelDevice: kernelDeviceCost(tunnels), planePort: await planeTunnelCost(tunnels) } };
    }
  } finally {
    await cleanup();
  }

  mkdirSync(outDir, { recursive: true });
  const name = smoke ? 'smoke' : 'results';
  writeFileSync(join(outDir, `${name}.json`), JSON.stringify(results, null, 2) + '\n');
  if (results.systems.some((s) => s.results)) writeFileSync(join(outDir, `${name}.svg`), svg(results));
  if (results.systems.length) process.stdout.write(table(results) + '\n');
  if (results.micro) process.stdout.write('\nswitch microbenchmark:\n' + JSON.stringify(results.micro, null, 2) + '\n');
  if (results.stack) process.stdout.write('\nuser-mode stack beside the kernel client:\n' + JSON.stringify(results.stack, null, 2) + '\n');
  if (results.scale) process.stdout.write('\nidle sessions:\n' + JSON.stringify(results.scale, null, 2) + '\n');
  if (results.storm) process.stdout.write('\nreconnect storm:\n' + JSON.stringify(results.storm, null, 2) + '\n');
  if (results.dtcp) process.stdout.write('\nDTCP:\n' + JSON.stringify(results.dtcp, null, 2) + '\n');
  if (results.setups) {
    process.stdout.write(`\nsession setups per server core-second (${results.setups.rounds} × ${results.setups.sessionsPerPhase} sessions each; ×: ÷ password ticket, ÷ bare Node TLS):\n`);
    for (const p of results.setups.phases) process.stdout.write(`  ${p.admission.padEnd(24)} ${p.setupsPerSwitchCpuSecond.toFixed(0).padStart(6)}/core-s  ×${p.ratio.toFixed(2)}  ×${p.perPeer.toFixed(2)}  (${p.sessionsUp} up, ${p.failed} failed)\n`);
  }
  process.stdout.write(`\nwrote ${join(outDir, `${name}.json`)}\n`);
}

main().catch(async (err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
  await stopAll();
  process.exit(1);
});
