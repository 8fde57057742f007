/**
 * `--figure hops` (issue 14): where a ping's round trip goes, hop by hop, Emotion Link
 * against SoftEther measured at the same moment. SoftEther stays up the whole run; EL is
 * started afresh per round; pings alternate between the two in blocks (as
 * first-seconds.ts). One `tcpdump -i any` per namespace (client 1, server, client 2)
 * records the echoes on the clients' TAP/TUN devices and the TLS segments on the
 * underlay veths; each echo request is followed through them:
 *
 *   c1 tap ─client 1 out─▶ c1 eth0 ─wire─▶ srv eth0 ─switch─▶ srv eth0 ─wire─▶ c2 eth0
 *          ─client 2 in─▶ c2 tap ─kernel─▶ c2 tap ─client 2 out─▶ … ─client 1 in─▶ c1 tap
 *
 * The underlay segments are encrypted, so a hop's end is the first data segment of the
 * system's TCP connection in that direction at or after the hop's start; an echo whose
 * chain is out of order (a keepalive in between, a segment not captured) is left out and
 * counted. Cold window: the first pings after both EL clients are up; warm: after a
 * flood. Each hop is reported as the median over the window, in µs.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { elinkSystem, type TuningVariant } from './elink.js';
import { coldThenWarm, median, reachable, withWarmSoftEther, type Target } from './cold-warm.js';
import { pairedWindow, type WindowPair } from './first-seconds.js';
import { daemon, sleep, type Daemon } from './proc.js';
import { ipv4, readCapture, type Capture, type TcpEvent } from './pcap.js';
import type { RunningSystem, SystemDef } from './system.js';
import type { Topology } from './topology.js';

/** SoftEther's listener in the bench (softether.ts); EL's broker listens on 8443. */
const SOFTETHER_PORT = 5555;
const BROKER_PORT = 8443;

export const HOPS = ['c1Out', 'wire1', 'switchReq', 'wire2', 'c2In', 'kernel', 'c2Out', 'wire3', 'switchRep', 'wire4', 'c1In'] as const;
export type Hop = (typeof HOPS)[number];

export interface HopStats {
  /** Echoes followed through every capture point. */
  matched: number;
  /** Echoes seen on client 1's device but not followed (chain out of order or incomplete). */
  unmatched: number;
  /** Median µs of each hop. */
  median: Record<Hop, number>;
  /** Median µs of c1 tap request → c1 tap reply. */
  tapToTap: number;
  /** Sums of the medians: both clients' four hops, the switch's two. */
  clientHops: number;
  switchHops: number;
}

export interface HopsWindow {
  ping: WindowPair;
  el: HopStats;
  se: HopStats;
}

export interface HopsRound {
  system: string;
  round: number;
  cold: HopsWindow;
  warm: HopsWindow;
}

export interface HopsResult {
  pings: number;
  block: number;
  flood: number;
  rounds: HopsRound[];
}

export interface Addrs {
  c1: number;
  c2: number;
  /** The server's underlay address; undefined: client 2 talks to client 1 directly (no middle hop). */
  srv: number | undefined;
  /** Tunnel addresses of client 1 and client 2. */
  a1: number;
  a2: number;
  isPort: (port: number) => boolean;
}

/** Times of the data segments src → dst on the system's connection (server port side), sorted. */
function stream(c: Capture, src: number, dst: number, a: Addrs): number[] {
  const t = c.tcp.filter((e: TcpEvent) => e.src === src && e.dst === dst && (a.isPort(e.sport) || a.isPort(e.dport))).map((e) => e.t);
  return t.sort((x, y) => x - y);
}

/** The first time in sorted `ts` at or after `t`. */
function firstAtOrAfter(ts: readonly number[], t: number): number | undefined {
  let lo = 0;
  let hi = ts.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ts[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo < ts.length ? ts[lo] : undefined;
}

/** Follows every echo of one system through the three captures. */
export function hopStats(c1: Capture, srv: Capture, c2: Capture, a: Addrs): HopStats {
  // Keyed by id:seq and its occurrence: two ping runs of a window may draw the same id.
  const echo = (c: Capture, type: number, src: number, dst: number) => {
    const seen = new Map<string, number>();
    const out = new Map<string, number>();
    for (const e of c.icmp) {
      if (e.type !== type || e.src !== src || e.dst !== dst) continue;
      const n = seen.get(e.key) ?? 0;
      seen.set(e.key, n + 1);
      out.set(`${e.key}#${n}`, e.t);
    }
    return out;
  };
  const req1 = echo(c1, 8, a.a1, a.a2);
  const rep1 = echo(c1, 0, a.a2, a.a1);
  const req2 = echo(c2, 8, a.a1, a.a2);
  const rep2 = echo(c2, 0, a.a2, a.a1);
  // Direct (no server): client 1's segments go to client 2 and back, and the middle hops are 0.
  const via1 = a.srv ?? a.c2;
  const via2 = a.srv ?? a.c1;
  const c1Out = stream(c1, a.c1, via1, a);
  const srvIn1 = a.srv === undefined ? c1Out : stream(srv, a.c1, a.srv, a);
  const srvOut2 = a.srv === undefined ? c1Out : stream(srv, a.srv, a.c2, a);
  const c2In = stream(c2, via2, a.c2, a);
  const c2Out = stream(c2, a.c2, via2, a);
  const srvIn2 = a.srv === undefined ? c2Out : stream(srv, a.c2, a.srv, a);
  const srvOut1 = a.srv === undefined ? c2Out : stream(srv, a.srv, a.c1, a);
  const c1In = stream(c1, via1, a.c1, a);
  const hops: Record<Hop, number[]> = Object.fromEntries(HOPS.map((h) => [h, []])) as unknown as Record<Hop, number[]>;
  const total: number[] = [];
  let unmatched = 0;
  for (const [key, t0] of req1) {
    const t5 = req2.get(key);
    const t6 = rep2.get(key);
    const t11 = rep1.get(key);
    if (t5 === undefined || t6 === undefined || t11 === undefined) {
      unmatched++;
      continue;
    }
    const t1 = firstAtOrAfter(c1Out, t0);
    const t2 = t1 === undefined ? undefined : firstAtOrAfter(srvIn1, t1);
    const t3 = t2 === undefined ? undefined : firstAtOrAfter(srvOut2, t2);
    const t4 = t3 === undefined ? undefined : firstAtOrAfter(c2In, t3);
    const t7 = firstAtOrAfter(c2Out, t6);
    const t8 = t7 === undefined ? undefined : firstAtOrAfter(srvIn2, t7);
    const t9 = t8 === undefined ? undefined : firstAtOrAfter(srvOut1, t8);
    const t10 = t9 === undefined ? undefined : firstAtOrAfter(c1In, t9);
    const chain = [t0, t1, t2, t3, t4, t5, t6, t7, t8, t9, t10, t11];
    let ok = true;
    for (let i = 1; i < chain.length && ok; i++) ok = chain[i] !== undefined && chain[i]! >= chain[i - 1]!;
    if (!ok) {
      unmatched++;
      continue;
    }
    const c = chain as number[];
    HOPS.forEach((h, i) => hops[h].push(c[i + 1]! - c[i]!));
    total.push(t11 - t0);
  }
  const med = Object.fromEntries(HOPS.map((h) => [h, median(hops[h])])) as Record<Hop, number>;
  return {
    matched: total.length,
    unmatched,
    median: med,
    tapToTap: median(total),
    clientHops: med.c1Out + med.c2In + med.c2Out + med.c1In,
    switchHops: med.switchReq + med.switchRep,
  };
}

/** One tcpdump per namespace, into `dir`; resolves once all three listen. */
async function startCaptures(topo: Topology, dir: string): Promise<{ files: [string, string, string]; stop: () => Promise<void> }> {
  const hosts = [topo.clients[0], topo.server, topo.clients[1]] as const;
  const files = hosts.map((h) => join(dir, `${h.name}.pcap`)) as [string, string, string];
  const procs: Daemon[] = hosts.map((h, i) =>
    // Headers only (-s 128); nanosecond stamps; a large buffer so a window loses nothing;
    // no DNS; the capture writes to a file (no per-packet wake-up of tcpdump: it runs
    // beside the systems it measures).
    daemon('tcpdump', ['-i', 'any', '-y', 'LINUX_SLL2', '-n', '-s', '128', '-B', '8192', '--time-stamp-precision', 'nano', '-w', files[i]!, 'icmp or tcp'], { ns: h.ns }),
  );
  const stop = async () => {
    for (const p of procs) await p.stop();
  };
  try {
    await Promise.all(procs.map((p, i) => p.waitFor(/listening on/, 10_000, `tcpdump in ${hosts[i]!.ns}`)));
  } catch (err) {
    await stop();
    throw err;
  }
  return { files, stop };
}

async function capturedWindow(topo: Topology, dir: string, el: Target, se: Target, pings: number, block: number, addrs: { el: Addrs; se: Addrs }): Promise<HopsWindow> {
  mkdirSync(dir, { recursive: true });
  const cap = await startCaptures(topo, dir);
  let ping: WindowPair;
  try {
    ping = pairedWindow(el, se, pings, block);
    // tcpdump reads the kernel's capture ring in blocks: let the last one be handed over
    // before it is stopped (without this the window's last block of pings went missing).
    await sleep(1000);
  } finally {
    await cap.stop();
  }
  const c1 = readCapture(cap.files[0]);
  const srv = readCapture(cap.files[1], c1.base);
  const c2 = readCapture(cap.files[2], c1.base);
  return { ping, el: hopStats(c1, srv, c2, addrs.el), se: hopStats(c1, srv, c2, addrs.se) };
}

/** One system measured per round against SoftEther: an EL build/variant, or a bare relay. */
export interface HopsSystem {
  /** Its name in the results (e.g. "l2/tuned", "relay-tcp"). */
  key: string;
  def: SystemDef;
  /** Its underlay connection's server-side (or listening) port. */
  isPort: (port: number) => boolean;
  /** Client 2 talks to client 1 directly: no middle hop. */
  direct?: boolean;
}

/** EL in `mode` with `variant` over `transport` (raw TLS or WebSocket, the same switch port): its switch listens on a port other than SoftEther's and the broker's. */
export function elinkHopsSystem(mode: 'l2' | 'l3', variant: TuningVariant, transport: 'tls' | 'ws' = 'tls'): HopsSystem {
  return { key: `${mode}${transport === 'ws' ? '-ws' : ''}/${variant}`, def: elinkSystem(mode, undefined, false, transport, variant), isPort: (p) => p !== SOFTETHER_PORT && p !== BROKER_PORT };
}

export async function hopsBenchmark(
  topo: Topology,
  work: string,
  o: { systems: HopsSystem[]; rounds: number; pings: number; block: number; flood: number; log: (s: string) => void },
): Promise<HopsResult> {
  const [c1, c2] = topo.clients;
  const rounds: HopsRound[] = [];
  const underlay = { c1: ipv4(c1.address), c2: ipv4(c2.address), srv: ipv4(topo.server.address) };
  await withWarmSoftEther(topo, work, o.flood, async (se, seTarget) => {
    const seAddrs: Addrs = { ...underlay, a1: ipv4(se.addresses[0]), a2: ipv4(se.addresses[1]), isPort: (p) => p === SOFTETHER_PORT };
    let k = 0;
    for (let round = 0; round < o.rounds; round++) {
      const order = round % 2 === 0 ? o.systems : [...o.systems].reverse();
      for (const sys of order) {
        const dir = join(work, `hops-${round}-${sys.key.replace(/\W/g, '-')}`);
        mkdirSync(dir, { recursive: true });
        o.log(`  round ${round + 1}/${o.rounds}, ${sys.key} …`);
        let el: RunningSystem | undefined;
        try {
          try {
            el = await sys.def.start(topo, dir);
          } catch (err) {
            // One system that does not come up costs its round, not the run.
            o.log(`    ${sys.key} did not come up: ${(err as Error).message.split('\n')[0]}`);
            continue;
          }
          const elAddrs: Addrs = { ...underlay, srv: sys.direct ? undefined : underlay.srv, a1: ipv4(el.addresses[0]), a2: ipv4(el.addresses[1]), isPort: sys.isPort };
          const elTarget = await reachable(topo, el.addresses[1]);
          const addrs = { el: elAddrs, se: seAddrs };
          const { cold, warm } = await coldThenWarm(elTarget, seTarget, o.flood, (name) => capturedWindow(topo, join(dir, name), elTarget, seTarget, o.pings, o.block, addrs));
          rounds.push({ system: sys.key, round: k++, cold, warm });
          for (const [name, w] of [['cold', cold], ['warm', warm]] as const) {
            o.log(`    ${name}: tap→tap ${w.el.tapToTap.toFixed(0)} µs (clients ${w.el.clientHops.toFixed(0)}, middle ${w.el.switchHops.toFixed(0)}; ${w.el.matched} echoes), SoftEther ${w.se.tapToTap.toFixed(0)} µs (clients ${w.se.clientHops.toFixed(0)}, server ${w.se.switchHops.toFixed(0)}; ${w.se.matched})`);
          }
        } finally {
          await el?.stop();
        }
      }
    }
  });
  return { pings: o.pings, block: o.block, flood: o.flood, rounds };
}

const LABELS: Record<Hop, string> = {
  c1Out: 'client 1 out (tap → TLS)',
  wire1: 'wire c1 → server',
  switchReq: 'switch, request',
  wire2: 'wire server → c2',
  c2In: 'client 2 in (TLS → tap)',
  kernel: 'kernel echo (c2)',
  c2Out: 'client 2 out (tap → TLS)',
  wire3: 'wire c2 → server',
  switchRep: 'switch, reply',
  wire4: 'wire server → c1',
  c1In: 'client 1 in (TLS → tap)',
};

/** Medians over the rounds of each hop's median, per mode/variant and window. */
export function hopsTable(rounds: readonly HopsRound[]): string {
  const lines: string[] = [];
  const keys = [...new Set(rounds.map((r) => r.system))];
  const f = (v: number) => (Number.isFinite(v) ? v.toFixed(0) : '–');
  for (const key of keys) {
    const rs = rounds.filter((r) => r.system === key);
    lines.push(`\n${key}, median µs over ${rs.length} round(s): it cold | SoftEther cold | it warm | SoftEther warm`);
    const row = (label: string, get: (s: HopStats) => number) => {
      const m = (w: 'cold' | 'warm', who: 'el' | 'se') => median(rs.map((r) => get(r[w][who])));
      lines.push(`  ${label.padEnd(28)} ${f(m('cold', 'el')).padStart(6)} ${f(m('cold', 'se')).padStart(6)} ${f(m('warm', 'el')).padStart(6)} ${f(m('warm', 'se')).padStart(6)}`);
    };
    for (const h of HOPS) row(LABELS[h], (s) => s.median[h]);
    row('client hops (4)', (s) => s.clientHops);
    row('switch hops (2)', (s) => s.switchHops);
    row('tap → tap', (s) => s.tapToTap);
    row('echoes followed', (s) => s.matched);
    row('echoes not followed', (s) => s.unmatched);
    const ping = (w: 'cold' | 'warm', who: 'el' | 'se') => median(rs.map((r) => r[w].ping[who].avgMs * 1000));
    lines.push(`  ${'ping avg (µs)'.padEnd(28)} ${f(ping('cold', 'el')).padStart(6)} ${f(ping('cold', 'se')).padStart(6)} ${f(ping('warm', 'el')).padStart(6)} ${f(ping('warm', 'se')).padStart(6)}`);
  }
  return lines.join('\n');
}
