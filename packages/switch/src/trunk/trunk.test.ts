/**
 * Trunks over in-memory record connections (memoryRecordConnPair): announcements and
 * withdrawals, withdraw-all when a trunk breaks, split horizon, a local endpoint winning,
 * loop freezing, bounds, and a wrong secret refused. Segments are the real L2/L3 ones.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { formatMac, parseMac } from '@elink/protocol';
import { memoryRecordConnPair } from '@elink/transport';
import { L2Segment } from '../core/l2/l2-segment.js';
import { L3Router, L3Segment } from '../core/l3/l3-segment.js';
import { parsePrefix } from '../core/l3/ip.js';
import type { Segment } from '../core/segment.js';
import { MemoryPort } from '../ports/memory-port.js';
import { segment, type LogLine } from '../testing/test-node.js';
import { BROADCAST, ethFrame, mac } from '../testing/test-frames.js';
import { endpoints, udp4, udp6 } from '../testing/test-packets.js';
import { TrunkHub, type TrunkHubOptions } from './trunk-hub.js';
import type { Trunk } from './trunk.js';

const SECRET = 'memory-trunk-secret-0123';

interface TestHub {
  hub: TrunkHub;
  logs: LogLine[];
  registry: Registry;
  seg(name: string): Segment;
}

function makeHub(node: string, segs: Segment[], over: Partial<TrunkHubOptions> = {}): TestHub {
  const map = new Map(segs.map((s) => [s.name, s]));
  const logs: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n')) if (line) logs.push(JSON.parse(line) as LogLine);
      cb();
    },
  });
  const registry = new Registry();
  const hub = new TrunkHub({
    nodeId: node,
    logger: pino({ level: 'debug' }, sink),
    tls: { cert: '', key: '' },
    secret: SECRET,
    segment: (n) => map.get(n),
    segmentNames: () => [...map.keys()],
    registry,
    logIntervalMs: 20,
    ...over,
  });
  hub.segmentsChanged();
  return { hub, logs, registry, seg: (n) => map.get(n)! };
}

/** Joins two hubs by a memory trunk (x dials, y accepts). */
function link(x: TestHub, y: TestHub): [Trunk, Trunk] {
  const [cx, cy] = memoryRecordConnPair();
  const ekm = Buffer.alloc(32, 7);
  return [x.hub.connect(cx, 'dial', ekm), y.hub.connect(cy, 'accept', ekm)];
}

async function until(cond: () => boolean | Promise<boolean>, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 30));

function l2(name = 'lan'): L2Segment {
  return new L2Segment(segment({ name }));
}

/** The trunk port of `seg` (a segment of the hub at the other end of `t`). */
function trunkPort(t: Trunk, seg: Segment) {
  return [...t.ports.values()].find((p) => p.segment === seg)!;
}

describe('trunks: L2', () => {
  it('announces local MACs, carries unicast to the node that has the MAC, and withdraws at detach', async () => {
    const A = makeHub('a', [l2()]);
    const B = makeHub('b', [l2()]);
    const [ta, tb] = link(A, B);
    await until(() => ta.state === 'up' && tb.state === 'up');
    const sa = A.seg('lan') as L2Segment;
    const sb = B.seg('lan') as L2Segment;
    const pa = new MemoryPort('pa');
    const pb = new MemoryPort('pb');
    sa.attach(pa, { macLimit: 1, ownMac: mac(1) });
    sb.attach(pb, { macLimit: 1, ownMac: mac(2) });
    await until(() => sa.table.remoteOf(mac(2)) !== undefined && sb.table.remoteOf(mac(1)) !== undefined);
    expect(sa.table.lookup(mac(2))!.kind).toBe('trunk');

    sa.forward(ethFrame(mac(2), mac(1), 'to b'), pa);
    await until(() => pb.received.length === 1);
    expect(pb.received[0].subarray(14).toString()).toBe('to b');
    expect(sa.unicast).toBe(1);

    sb.detach(pb);
    await until(() => sa.table.remoteOf(mac(2)) === undefined);
    expect(A.registry.getSingleMetric('el_trunk_announcements_total')).toBeDefined();
    const m = await A.registry.metrics();
    expect(m).toMatch(/el_trunk_announcements_total\{direction="in"\} 2/); // mac(2) added, then withdrawn
  });

  it('announces before the first frame: a MAC pinned by its first frame is known at the peer when the frame arrives', async () => {
    const A = makeHub('a', [l2()]);
    const B = makeHub('b', [l2()]);
    const [ta] = link(A, B);
    await until(() => ta.state === 'up');
    const sa = A.seg('lan') as L2Segment;
    const sb = B.seg('lan') as L2Segment;
    const pa = new MemoryPort('pa');
    const pb = new MemoryPort('pb');
    sa.attach(pa, { macLimit: 1, pinFirstSource: true });
    sb.attach(pb, { macLimit: 1, ownMac: mac(2) });
    await settle();
    sa.forward(ethFrame(BROADCAST, mac(9), 'first'), pa);
    await until(() => pb.received.length === 1);
    expect(sb.drops.trunk_source).toBe(0);
  });

  it('withdraws everything learned over a trunk at once when it breaks', async () => {
    const A = makeHub('a', [l2()]);
    const B = makeHub('b', [l2()]);
    const [ta, tb] = link(A, B);
    await until(() => tb.state === 'up');
    const sb = B.seg('lan') as L2Segment;
    const sa = A.seg('lan') as L2Segment;
    for (let i = 1; i <= 5; i++) sa.attach(new MemoryPort(`p${i}`), { macLimit: 1, ownMac: mac(i) });
    await until(() => sb.remoteCount() === 5);
    ta.conn.destroy();
    await until(() => tb.state === 'closed');
    expect(sb.remoteCount()).toBe(0);
    expect(sb.table.lookup(mac(3))).toBeUndefined();
  });

  it('split horizon: a broadcast reaches every peer node once and never goes from one trunk to another', async () => {
    const A = makeHub('a', [l2()]);
    const B = makeHub('b', [l2()]);
    const C = makeHub('c', [l2()]);
    const [tab, tba] = link(A, B);
    link(B, C);
    const [tac] = link(A, C);
    await until(() => A.hub.upCount === 2 && B.hub.upCount === 2 && C.hub.upCount === 2);
    const ports = { a: new MemoryPort('a'), b: new MemoryPort('b'), c: new MemoryPort('c') };
    (A.seg('lan') as L2Segment).attach(ports.a, { macLimit: 1, ownMac: mac(1) });
    (B.seg('lan') as L2Segment).attach(ports.b, { macLimit: 1, ownMac: mac(2) });
    (C.seg('lan') as L2Segment).attach(ports.c, { macLimit: 1, ownMac: mac(3) });
    await until(() => A.seg('lan').remoteCount() === 2 && B.seg('lan').remoteCount() === 2 && C.seg('lan').remoteCount() === 2);

    (A.seg('lan') as L2Segment).forward(ethFrame(BROADCAST, mac(1), 'all'), ports.a);
    await until(() => ports.b.received.length === 1 && ports.c.received.length === 1);
    await settle();
    // Once each: B did not pass A's broadcast on to C, nor C to B.
    expect(ports.b.received).toHaveLength(1);
    expect(ports.c.received).toHaveLength(1);
    expect(tab.output.framesOut).toBe(1);
    expect(tac.output.framesOut).toBe(1);

    // A frame from trunk A whose destination lives behind trunk C is not passed on.
    const sb = B.seg('lan') as L2Segment;
    sb.forward(ethFrame(mac(3), mac(1), 'via b?'), trunkPort(tba, sb));
    expect(sb.drops.split_horizon).toBe(1);
    // … and a source trunk A never announced is not taken from it.
    sb.forward(ethFrame(BROADCAST, mac(77), 'spoof'), trunkPort(tba, sb));
    expect(sb.drops.trunk_source).toBe(1);
    await settle();
    expect(ports.c.received).toHaveLength(1);
  });

  it('a local endpoint wins: an announcement of a MAC pinned here is not installed', async () => {
    const A = makeHub('a', [l2()]);
    const B = makeHub('b', [l2()]);
    const [ta] = link(A, B);
    await until(() => ta.state === 'up');
    const sa = A.seg('lan') as L2Segment;
    const sb = B.seg('lan') as L2Segment;
    const pb = new MemoryPort('pb');
    sb.attach(pb, { macLimit: 1, ownMac: mac(5) });
    sa.attach(new MemoryPort('pa'), { macLimit: 1, ownMac: mac(5) });
    await settle();
    expect(sb.table.lookup(mac(5))).toBe(pb);
    expect(sa.table.lookup(mac(5))!.kind).toBe('memory');
    expect(sb.learnRemote(trunkPort(B.hub.trunkTo('a')!, sb), formatMac(mac(5)), 99, 100)).toBe('local');
  });

  it('bounds: a peer installs at most maxRemotePerSegment endpoints per segment; the rest is logged', async () => {
    const A = makeHub('a', [l2()]);
    const B = makeHub('b', [l2()], { maxRemotePerSegment: 3 });
    const [ta] = link(A, B);
    await until(() => ta.state === 'up');
    const sa = A.seg('lan') as L2Segment;
    for (let i = 1; i <= 5; i++) sa.attach(new MemoryPort(`p${i}`), { macLimit: 1, ownMac: mac(i) });
    await until(() => B.logs.some((l) => l.verdict === 'full' || String(l.msg).includes('not installed')));
    expect(B.seg('lan').remoteCount()).toBe(3);
  });

  it('rate-limits announcements: beyond the burst they leave in later batches, and all arrive', async () => {
    const A = makeHub('a', [l2()], { announceRate: 200, announceBurst: 20 });
    const B = makeHub('b', [l2()]);
    const [ta] = link(A, B);
    await until(() => ta.state === 'up');
    const sa = A.seg('lan') as L2Segment;
    for (let i = 1; i <= 60; i++) sa.attach(new MemoryPort(`p${i}`), { macLimit: 1, ownMac: mac(i) });
    await settle();
    const early = B.seg('lan').remoteCount();
    expect(early).toBeGreaterThanOrEqual(20);
    expect(early).toBeLessThan(60);
    await until(() => B.seg('lan').remoteCount() === 60);
  });

  it('freezes a MAC that moves between two nodes too often (a loop), reports it, and drops it from trunks', async () => {
    const moves = { maxMoves: 3, windowSeconds: 60, freezeSeconds: 60 };
    const A = makeHub('a', [l2()], { macMoves: moves });
    const B = makeHub('b', [l2()], { macMoves: moves });
    const [ta, tb] = link(A, B);
    await until(() => ta.state === 'up');
    const sa = A.seg('lan') as L2Segment;
    const sb = B.seg('lan') as L2Segment;
    // Two bridge ports (many MACs each) on one LAN: a loop through the two nodes.
    const bridgeA = new MemoryPort('bridge-a');
    const bridgeB = new MemoryPort('bridge-b');
    sa.attach(bridgeA, { macLimit: 100 });
    sb.attach(bridgeB, { macLimit: 100 });
    const x = mac(0x42);
    for (let i = 0; i < 8 && sa.frozenCount() + sb.frozenCount() === 0; i++) {
      sa.forward(ethFrame(BROADCAST, x, `a${i}`), bridgeA);
      await settle();
      sb.forward(ethFrame(BROADCAST, x, `b${i}`), bridgeB);
      await settle();
    }
    expect(sa.frozenCount() + sb.frozenCount()).toBeGreaterThan(0);
    const froze = sa.frozenCount() > 0 ? { seg: sa, hub: A, trunk: ta } : { seg: sb, hub: B, trunk: tb };
    await until(() => froze.hub.logs.some((l) => l.mac === formatMac(x) && String(l.msg).includes('frozen')));
    expect(await froze.hub.registry.metrics()).toMatch(/el_trunk_mac_freezes_total\{segment="lan"\} 1/);
    expect(await froze.hub.registry.metrics()).toMatch(/el_trunk_frozen_macs\{segment="lan"\} 1/);
    // While frozen, frames from the trunk with it as source are dropped, not flooded on.
    const before = froze.seg.drops.mac_frozen;
    froze.seg.forward(ethFrame(BROADCAST, x, 'loop'), trunkPort(froze.trunk, froze.seg));
    expect(froze.seg.drops.mac_frozen).toBe(before + 1);
    expect(froze.seg.learnRemote(trunkPort(froze.trunk, froze.seg), formatMac(x), 1000, 100)).toBe('frozen');
    expect(parseMac(formatMac(x))).toBe(x);
  });

  it('freezes a MAC a LAN behind both nodes sends to both at once (a loop through two bridges): the tie goes to the lower node id, so it flaps', async () => {
    const moves = { maxMoves: 3, windowSeconds: 60, freezeSeconds: 60 };
    const A = makeHub('a', [l2()], { macMoves: moves });
    const B = makeHub('b', [l2()], { macMoves: moves });
    const [ta] = link(A, B);
    await until(() => ta.state === 'up');
    const sa = A.seg('lan') as L2Segment;
    const sb = B.seg('lan') as L2Segment;
    const bridgeA = new MemoryPort('bridge-a');
    const bridgeB = new MemoryPort('bridge-b');
    sa.attach(bridgeA, { macLimit: 100 });
    sb.attach(bridgeB, { macLimit: 100 });
    const x = mac(0x43);
    for (let i = 0; i < 10 && sa.frozenCount() + sb.frozenCount() === 0; i++) {
      sa.forward(ethFrame(BROADCAST, x, `a${i}`), bridgeA);
      sb.forward(ethFrame(BROADCAST, x, `b${i}`), bridgeB);
      await settle();
    }
    expect(sa.frozenCount() + sb.frozenCount()).toBeGreaterThan(0);
  });

  it('refuses a peer with the wrong secret on both ends: logged, counted, closed', async () => {
    const A = makeHub('a', [l2()]);
    const B = makeHub('b', [l2()], { secret: 'some-other-secret-42424242' });
    const [ta, tb] = link(A, B);
    await until(() => ta.state === 'closed' && tb.state === 'closed');
    expect(A.hub.upCount + B.hub.upCount).toBe(0);
    expect(ta.ports.size + tb.ports.size).toBe(0);
    await until(() => B.logs.some((l) => l.code === 'EL_ERR_TRUNK_AUTH'));
    expect(await B.registry.metrics()).toContain('el_trunk_connects_total{peer="unauthenticated",result="auth_failed"} 1');
  });

  it('keeps one trunk per pair of nodes: the one dialed by the lower node id', async () => {
    const A = makeHub('a', [l2()]);
    const B = makeHub('b', [l2()]);
    const [ab1, ab2] = link(A, B); // dialed by a
    const [ba1, ba2] = link(B, A); // dialed by b
    await until(() => [ab1, ab2, ba1, ba2].every((t) => t.state !== 'hello'));
    await settle();
    expect(ab1.state).toBe('up');
    expect(ab2.state).toBe('up');
    expect(ba1.state).toBe('closed');
    expect(ba2.state).toBe('closed');
    expect(A.hub.trunkTo('b')).toBe(ab1);
  });
});

describe('trunks: L3', () => {
  function l3pair(): { A: TestHub; B: TestHub; sa: L3Segment; sb: L3Segment } {
    const def = segment({ name: 'net', mode: 'l3', ipv4: { pool: '198.19.8.0/24' }, ipv6: { pool: 'fd00:e1:8::/64' } });
    const sa = new L3Segment(def, new L3Router());
    const sb = new L3Segment(def, new L3Router());
    return { A: makeHub('a', [sa]), B: makeHub('b', [sb]), sa, sb };
  }

  it('announces addresses and routes packets to the node that has them, IPv4 and IPv6', async () => {
    const { A, B, sa, sb } = l3pair();
    const [ta] = link(A, B);
    await until(() => ta.state === 'up');
    const pa = new MemoryPort('pa');
    const pb = new MemoryPort('pb');
    expect(sa.attach(pa, { prefixes: [parsePrefix('198.19.8.10/32')!, parsePrefix('fd00:e1:8::10/128')!] }).ok).toBe(true);
    expect(sb.attach(pb, { prefixes: [parsePrefix('198.19.8.20/32')!, parsePrefix('fd00:e1:8::20/128')!] }).ok).toBe(true);
    await until(() => sa.remoteCount() === 2 && sb.remoteCount() === 2);
    sa.forward(udp4('198.19.8.10', '198.19.8.20'), pa);
    sa.forward(udp6('fd00:e1:8::10', 'fd00:e1:8::20'), pa);
    await until(() => pb.received.length === 2);
    expect(endpoints(pb.received[0])).toEqual({ src: '198.19.8.10', dst: '198.19.8.20' });
    expect(endpoints(pb.received[1])).toEqual({ src: 'fd00:e1:8:0:0:0:0:10', dst: 'fd00:e1:8:0:0:0:0:20' });

    // Source validation holds across nodes: B takes from trunk A only what A announced.
    const tp = trunkPort(B.hub.trunkTo('a')!, sb);
    sb.forward(udp4('198.19.8.99', '198.19.8.20'), tp);
    expect(sb.drops.trunk_source).toBe(1);
    // Split horizon: what came from a trunk goes to no trunk.
    sb.forward(udp4('198.19.8.10', '198.19.8.10'), tp);
    expect(sb.drops.hairpin + sb.drops.split_horizon).toBe(1);

    sb.detach(pb);
    await until(() => sa.remoteCount() === 0);
  });

  it('a local session takes over an address a peer announced (a client moving between nodes)', async () => {
    const { A, B, sa, sb } = l3pair();
    const [ta] = link(A, B);
    await until(() => ta.state === 'up');
    sa.attach(new MemoryPort('pa'), { prefixes: [parsePrefix('198.19.8.30/32')!] });
    await until(() => sb.remoteCount() === 1);
    const local = new MemoryPort('pb');
    expect(sb.attach(local, { prefixes: [parsePrefix('198.19.8.30/32')!] }).ok).toBe(true);
    expect(sb.ownerOf(parsePrefix('198.19.8.30/32')!)).toBe(local);
    expect(sb.remoteCount()).toBe(0);
  });

  it('inter-segment policy holds across nodes: reach lets net → dmz through, a segment without reach is denied', async () => {
    const defs = {
      net: segment({ name: 'net', mode: 'l3', ipv4: { pool: '198.19.8.0/24' }, reach: ['dmz'] }),
      dmz: segment({ name: 'dmz', mode: 'l3', ipv4: { pool: '198.19.9.0/24' }, reach: ['net'] }),
      iso: segment({ name: 'iso', mode: 'l3', ipv4: { pool: '198.19.10.0/24' } }),
    };
    const node = (id: string) => {
      const router = new L3Router();
      const segs = new Map<string, L3Segment>();
      for (const d of Object.values(defs)) segs.set(d.name, new L3Segment(d, router, (n) => segs.get(n)));
      return { hub: makeHub(id, [...segs.values()]), segs };
    };
    const A = node('a');
    const B = node('b');
    const [ta] = link(A.hub, B.hub);
    await until(() => ta.state === 'up');
    const n1 = new MemoryPort('n1');
    const i1 = new MemoryPort('i1');
    const d2 = new MemoryPort('d2');
    A.segs.get('net')!.attach(n1, { prefixes: [parsePrefix('198.19.8.10/32')!] });
    A.segs.get('iso')!.attach(i1, { prefixes: [parsePrefix('198.19.10.10/32')!] });
    B.segs.get('dmz')!.attach(d2, { prefixes: [parsePrefix('198.19.9.20/32')!] });
    await until(() => A.segs.get('dmz')!.remoteCount() === 1 && B.segs.get('net')!.remoteCount() === 1);
    A.segs.get('net')!.forward(udp4('198.19.8.10', '198.19.9.20'), n1);
    await until(() => d2.received.length === 1);
    expect(endpoints(d2.received[0])).toEqual({ src: '198.19.8.10', dst: '198.19.9.20' });
    expect(B.segs.get('dmz')!.drops.trunk_source).toBe(0);
    A.segs.get('iso')!.forward(udp4('198.19.10.10', '198.19.9.20'), i1);
    expect(A.segs.get('iso')!.drops.policy_denied).toBe(1);
  });
});
