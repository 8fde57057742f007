/**
 * Trunks over in-memory record connections (memoryRecordConnPair): announcements and
 * withdrawals, withdraw-all when a trunk breaks, split horizon, a local endpoint winning
 * (and giving the peer's endpoint back when it goes, whichever came first), a key that moved
 * between two peers (the older announcement kept, and back when the newer one goes: three
 * nodes), what a full shadow dropped asked for again (resync: L2, L3 across segments, the
 * pacing of both ends, an older peer not asked), loop freezing, bounds, a wrong secret
 * refused, segments added on a live trunk (`segments`; an older peer closed instead; bad
 * messages refused), and TCP super-frames crossing whole
 * (TRUNK_FRAME_GSO) when both ends name "gso", UDP ones when both also name "uso".
 * Segments are the real L2/L3 ones.
 */
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import {
  encodeTrunkControl,
  endpointOwner,
  foldChecksum,
  formatMac,
  MAX_CONTROL_PAYLOAD,
  MAX_RECORD_PAYLOAD,
  MAX_TRUNK_GSO_PAYLOAD,
  parseMac,
  parseTrunkControl,
  RecordType,
  sum16,
  TRUNK_PROTOCOL_VERSION,
  VNET_HDR_LENGTH,
  type TrunkControl,
  type TrunkSegment,
} from '@elink/protocol';
import { memoryRecordConnPair } from '@elink/transport';
import { L2Segment } from '../core/l2/l2-segment.js';
import { L3Router, L3Segment } from '../core/l3/l3-segment.js';
import { parsePrefix } from '../core/l3/ip.js';
import type { Segment } from '../core/segment.js';
import { MemoryPort } from '../ports/memory-port.js';
import { capturedLogger, segment, type LogLine } from '../testing/test-node.js';
import { BROADCAST, ethFrame, mac } from '../testing/test-frames.js';
import { endpoints, udp4, udp6 } from '../testing/test-packets.js';
import { MSS, PAYLOAD, superPacket, tcpPayloads, udpPayloads, udpSuperFrame } from '../testing/test-gso.js';
import { TrunkHub, type TrunkHubOptions } from './trunk-hub.js';
import { TRUNK_CLOSE_WORDS, type Trunk, type TrunkCloseReason } from './trunk.js';
import { trunkProof } from './trunk-auth.js';
import { trunkSegmentId } from './segment-id.js';

const SECRET = 'memory-trunk-secret-0123';

interface TestHub {
  hub: TrunkHub;
  logs: LogLine[];
  registry: Registry;
  seg(name: string): Segment;
  /** Hosts one more segment from now on (as SwitchNode.addSegment). */
  add(seg: Segment): void;
}

function makeHub(node: string, segs: Segment[], over: Partial<TrunkHubOptions> = {}): TestHub {
  const map = new Map(segs.map((s) => [s.name, s]));
  const { logger, logs } = capturedLogger();
  const registry = new Registry();
  const hub = new TrunkHub({
    nodeId: node,
    logger,
    tls: { cert: '', key: '' },
    secret: SECRET,
    segment: (n) => map.get(n),
    segmentNames: () => [...map.keys()],
    registry,
    logIntervalMs: 20,
    ...over,
  });
  hub.segmentsChanged();
  const add = (seg: Segment): void => {
    map.set(seg.name, seg);
    hub.segmentsChanged();
  };
  return { hub, logs, registry, seg: (n) => map.get(n)!, add };
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

/** The hub's el_trunk_resyncs_total lines. */
const resyncs = async (H: TestHub): Promise<string[]> => (await H.registry.metrics()).split('\n').filter((l) => l.startsWith('el_trunk_resyncs_total{'));

function l2(name = 'lan'): L2Segment {
  return new L2Segment(segment({ name }));
}

/** Hubs a and b (options `over.a`, `over.b`), one L2 segment "lan" each, a trunk between
 * them (a dials) up at both ends: B may be up before A has read B's hello. */
async function upL2Pair(over: { a?: Partial<TrunkHubOptions>; b?: Partial<TrunkHubOptions> } = {}): Promise<{ A: TestHub; B: TestHub; ta: Trunk; tb: Trunk; sa: L2Segment; sb: L2Segment }> {
  const A = makeHub('a', [l2()], over.a);
  const B = makeHub('b', [l2()], over.b);
  const [ta, tb] = link(A, B);
  await until(() => ta.state === 'up' && tb.state === 'up');
  return { A, B, ta, tb, sa: A.seg('lan') as L2Segment, sb: B.seg('lan') as L2Segment };
}

/** The trunk port of `seg` (a segment of the hub at the other end of `t`). */
function trunkPort(t: Trunk, seg: Segment) {
  return [...t.ports.values()].find((p) => p.segment === seg)!;
}

/** A hub's trunk to a hand-driven peer (node "raw") that names `caps` and hosts `lan`; `got`:
 * the types of the control messages it was sent, `msgs` the messages. */
async function rawPeer(H: TestHub, caps: string[]) {
  const [cx, cy] = memoryRecordConnPair();
  const ekm = Buffer.alloc(32, 7);
  const t = H.hub.connect(cx, 'dial', ekm);
  const got: string[] = [];
  const msgs: TrunkControl[] = [];
  let lan: TrunkSegment | undefined;
  cy.accept(RecordType.TRUNK_CONTROL, MAX_CONTROL_PAYLOAD);
  cy.accept(RecordType.TRUNK_FRAME, MAX_RECORD_PAYLOAD);
  cy.start({
    onRecord(type, payload) {
      if (type !== RecordType.TRUNK_CONTROL) return;
      const msg = parseTrunkControl(payload);
      got.push(msg.type);
      msgs.push(msg);
      if (msg.type !== 'trunk_hello') return;
      lan = msg.segments.find((x) => x.name === 'lan')!;
      cy.write(encodeTrunkControl({ type: 'trunk_hello', version: TRUNK_PROTOCOL_VERSION, node: 'raw', role: 'accept', proof: trunkProof(SECRET, 'accept', 'raw', ekm).toString('base64'), segments: [lan], caps }));
    },
    onError() {},
    onClose() {},
  });
  await until(() => t.state === 'up');
  return { t, cy, lan: lan!, got, msgs };
}

describe('trunks: L2', () => {
  it('announces local MACs, carries unicast to the node that has the MAC, and withdraws at detach', async () => {
    const { A, sa, sb } = await upL2Pair();
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
    const { A, B, ta, sa, sb } = await upL2Pair();
    const pa = new MemoryPort('pa');
    const pb = new MemoryPort('pb');
    sa.attach(pa, { macLimit: 1, pinFirstSource: true });
    sb.attach(pb, { macLimit: 1, ownMac: mac(2) });
    await settle();
    sa.forward(ethFrame(BROADCAST, mac(9), 'first'), pa);
    await until(() => pb.received.length === 1);
    expect(sb.drops.trunk_source).toBe(0);
  });

  it('counts each way a trunk goes down under the reason set where it closed', async () => {
    const A = makeHub('a', [l2()]);
    const B = makeHub('b', [l2()]);
    for (const reason of Object.keys(TRUNK_CLOSE_WORDS) as TrunkCloseReason[]) {
      const [ta, tb] = link(A, B);
      await until(() => ta.state === 'up' && tb.state === 'up');
      ta.close(reason);
      await until(() => tb.state === 'closed');
      expect([ta.downReason, ta.closeReason]).toEqual([reason, TRUNK_CLOSE_WORDS[reason]]);
      // The peer was told in an error record: it counts the trunk ended by its peer.
      expect([tb.downReason, tb.closeReason]).toEqual(['peer_ended', 'EL_ERR_UNAVAILABLE']);
      expect(B.logs.findLast((l) => String(l.msg).startsWith('peer node ended the trunk'))).toMatchObject({ code: 'EL_ERR_UNAVAILABLE', msg: `peer node ended the trunk: ${TRUNK_CLOSE_WORDS[reason]}` });
    }
    // A connection that just ends (no error record): peer_closed at both ends.
    const [ta, tb] = link(A, B);
    await until(() => ta.state === 'up' && tb.state === 'up');
    ta.conn.destroy();
    await until(() => ta.state === 'closed' && tb.state === 'closed');
    expect([ta.downReason, tb.downReason]).toEqual(['peer_closed', 'peer_closed']);
    const downs = (m: string): string[] => m.split('\n').filter((l) => l.startsWith('el_trunk_downs_total{'));
    expect(downs(await A.registry.metrics())).toEqual(['el_trunk_downs_total{peer="b",reason="duplicate"} 1', 'el_trunk_downs_total{peer="b",reason="segments_changed"} 1', 'el_trunk_downs_total{peer="b",reason="shutdown"} 1', 'el_trunk_downs_total{peer="b",reason="peer_closed"} 1']);
    expect(downs(await B.registry.metrics())).toEqual(['el_trunk_downs_total{peer="a",reason="peer_ended"} 3', 'el_trunk_downs_total{peer="a",reason="peer_closed"} 1']);
  });

  it('withdraws everything learned over a trunk at once when it breaks', async () => {
    const { ta, tb, sa, sb } = await upL2Pair();
    for (let i = 1; i <= 5; i++) sa.attach(new MemoryPort(`p${i}`), { macLimit: 1, ownMac: mac(i) });
    await until(() => sb.remoteCount() === 5);
    ta.conn.destroy();
    await until(() => tb.state === 'closed');
    expect(sb.remoteCount()).toBe(0);
    expect(sb.table.lookup(mac(3))).toBeUndefined();
  });

  it('declares a peer that goes silent (no FIN) down after keepaliveMissed intervals: withdrawn, logged and counted as a timeout', async () => {
    const A = makeHub('a', [l2()], { keepaliveMs: 40, keepaliveMissed: 3 });
    const B = makeHub('b', [l2()], { keepaliveMs: 40, keepaliveMissed: 3 });
    const [ca, cb] = memoryRecordConnPair();
    const ekm = Buffer.alloc(32, 7);
    const [ta, tb] = [A.hub.connect(ca, 'dial', ekm), B.hub.connect(cb, 'accept', ekm)];
    await until(() => ta.state === 'up' && tb.state === 'up');
    const sa = A.seg('lan') as L2Segment;
    for (let i = 1; i <= 3; i++) (B.seg('lan') as L2Segment).attach(new MemoryPort(`p${i}`), { macLimit: 1, ownMac: mac(i) });
    await until(() => sa.remoteCount() === 3);
    // Pings and pongs keep an idle trunk up over many intervals.
    await new Promise((r) => setTimeout(r, 300));
    expect(ta.state).toBe('up');
    // A hears nothing from B any more (B's network gone: no FIN, no reset).
    ca.pauseReading();
    await until(() => ta.state === 'closed');
    expect(ta.downReason).toBe('timeout');
    expect(ta.closeReason).toBe('EL_ERR_KEEPALIVE_TIMEOUT');
    expect(sa.remoteCount()).toBe(0);
    expect(A.logs.find((l) => l.msg === 'trunk down')).toMatchObject({ peer: 'b', reason: 'timeout', code: 'EL_ERR_KEEPALIVE_TIMEOUT' });
    expect(await A.registry.metrics()).toMatch(/el_trunk_downs_total\{peer="b",reason="timeout"\} 1/);
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

  it('counts frames dropped on each trunk by peer node and reason (el_trunk_dropped_frames_total), and keeps them when the trunk goes', async () => {
    const small = { queue: { maxFrames: 8, maxBytes: 1 << 20, highWaterBytes: 1 << 22, writeTimeoutMs: 15_000 } };
    const A = makeHub('a', [l2()], small);
    const B = makeHub('b', [l2()]);
    const C = makeHub('c', [l2()]);
    const [tab] = link(A, B);
    link(B, C);
    link(A, C);
    await until(() => A.hub.upCount === 2 && B.hub.upCount === 2 && C.hub.upCount === 2);
    const sa = A.seg('lan') as L2Segment;
    sa.attach(new MemoryPort('a'), { macLimit: 1, ownMac: mac(1) });
    (C.seg('lan') as L2Segment).attach(new MemoryPort('c'), { macLimit: 1, ownMac: mac(3) });
    await until(() => B.seg('lan').remoteCount() === 2 && A.seg('lan').remoteCount() === 1);
    const toB = trunkPort(tab, sa);
    // Over the real trunk A→B: a frame for a MAC behind C (B must not pass it on: split
    // horizon), one from a source A never announced (trunk_source).
    toB.enqueue(ethFrame(mac(3), mac(1), 'via b?'));
    toB.enqueue(ethFrame(BROADCAST, mac(77), 'spoof'));
    // Records B refuses at the trunk: a segment it does not carry, a frame over the MTU.
    const id = [...tab.ports.keys()][0]!;
    const record = (seg: number, body: Buffer): Buffer => {
      const head = Buffer.alloc(7);
      head[0] = RecordType.TRUNK_FRAME;
      head.writeUInt16BE(body.length + 4, 1);
      head.writeUInt32BE(seg >>> 0, 3);
      return Buffer.concat([head, body]);
    };
    await settle();
    tab.conn.write(Buffer.concat([record(id + 1, ethFrame(BROADCAST, mac(1))), record(id, Buffer.alloc(1500 + 18 + 1))]));
    // More than A's queue takes in one tick: the rest is dropped on A, for peer b.
    for (let i = 0; i < 20; i++) toB.enqueue(ethFrame(mac(9), mac(1), `burst ${i}`));
    const drops = async (H: TestHub, peer: string, reason: string): Promise<number> => {
      const v = (await H.registry.getSingleMetric('el_trunk_dropped_frames_total')!.get()).values.find((x) => x.labels.peer === peer && x.labels.reason === reason);
      return v?.value ?? 0;
    };
    await until(async () => (await drops(B, 'a', 'too_long')) === 1);
    expect(await drops(B, 'a', 'split_horizon')).toBe(1);
    expect(await drops(B, 'a', 'trunk_source')).toBe(1);
    expect(await drops(B, 'a', 'unknown_segment')).toBe(1);
    expect(await drops(B, 'c', 'split_horizon')).toBe(0);
    expect(await drops(A, 'b', 'queue_full')).toBeGreaterThan(0);
    expect(await drops(A, 'c', 'queue_full')).toBe(0);
    // The trunk goes: its counts stay (a counter).
    tab.conn.destroy();
    await until(() => B.hub.upCount === 1);
    expect(await drops(B, 'a', 'split_horizon')).toBe(1);
    expect(await drops(B, 'a', 'unknown_segment')).toBe(1);
  });

  it('drops, counts and survives trunk frames that are too short, too long or of a segment not shared', async () => {
    const { ta, tb, sb } = await upL2Pair();
    const pb = new MemoryPort('pb');
    sb.attach(pb, { macLimit: 1, ownMac: mac(2) });
    const id = [...tb.ports.keys()][0]!;
    const record = (payload: Buffer) => Buffer.concat([Buffer.from([RecordType.TRUNK_FRAME, payload.length >> 8, payload.length & 0xff]), payload]);
    const idBytes = Buffer.alloc(4);
    idBytes.writeUInt32BE(id);
    const other = Buffer.alloc(4);
    other.writeUInt32BE((id + 1) >>> 0);
    ta.conn.write(Buffer.concat([record(Buffer.from([1, 2])), record(Buffer.concat([idBytes, Buffer.alloc(1500 + 18 + 1)])), record(Buffer.concat([other, ethFrame(BROADCAST, mac(1))]))]));
    await until(() => tb.refusedFrames === 3);
    expect(tb.state).toBe('up');
    expect(pb.received).toHaveLength(0);
  });

  it('a local endpoint wins: an announcement of a MAC pinned here is not installed', async () => {
    const { A, B, ta, sa, sb } = await upL2Pair();
    const pb = new MemoryPort('pb');
    sb.attach(pb, { macLimit: 1, ownMac: mac(5) });
    sa.attach(new MemoryPort('pa'), { macLimit: 1, ownMac: mac(5) });
    await settle();
    expect(sb.table.lookup(mac(5))).toBe(pb);
    expect(sa.table.lookup(mac(5))!.kind).toBe('memory');
    expect(sb.learnRemote(trunkPort(B.hub.trunkTo('a')!, sb), formatMac(mac(5)), 99, 100)).toBe('local');
  });

  it('a MAC pinned here and announced by a peer too is the peer’s once the local session ends', async () => {
    const { A, B, ta, sa, sb } = await upL2Pair();
    const stale = new MemoryPort('stale');
    sa.attach(stale, { macLimit: 1, ownMac: mac(6) });
    await settle();
    sb.attach(new MemoryPort('fresh'), { macLimit: 1, ownMac: mac(6) });
    await settle();
    expect(sa.table.lookup(mac(6))).toBe(stale);
    sa.detach(stale);
    expect(sa.table.lookup(mac(6))?.kind).toBe('trunk');
  });

  it("a local session or LAN host that took over a peer's MAC gives it back when it goes, unless the peer withdrew it meanwhile", async () => {
    const { A, B, ta, sa, sb } = await upL2Pair();
    const moved = new MemoryPort('moved');
    const lanHost = new MemoryPort('lan-host');
    const left = new MemoryPort('left');
    sa.attach(moved, { macLimit: 1, ownMac: mac(6) });
    sa.attach(lanHost, { macLimit: 1, ownMac: mac(7) });
    sa.attach(left, { macLimit: 1, ownMac: mac(8) });
    await until(() => sb.remoteCount() === 3);
    const tp = trunkPort(B.hub.trunkTo('a')!, sb);
    // On B, a session with mac(6) (pinned) and a bridge whose LAN sends from mac(7) and mac(8) (learned).
    const session = new MemoryPort('session');
    const bridge = new MemoryPort('bridge');
    sb.attach(session, { macLimit: 1, ownMac: mac(6) });
    sb.attach(bridge, { macLimit: 100 });
    sb.forward(ethFrame(BROADCAST, mac(7), 'from the LAN'), bridge);
    sb.forward(ethFrame(BROADCAST, mac(8), 'from the LAN'), bridge);
    expect(sb.table.lookup(mac(6))).toBe(session);
    expect(sb.table.lookup(mac(7))).toBe(bridge);
    expect(sb.remoteCount()).toBe(0);
    expect([...tp.shadowed.keys()].sort()).toEqual([mac(6), mac(7), mac(8)].map(formatMac));
    // A's sessions are pinned there: B's higher sequence does not take them; A's mac(8) leaves (withdrawn).
    await settle();
    expect(sa.table.lookup(mac(7))).toBe(lanHost);
    sa.detach(left);
    await until(() => !tp.shadowed.has(formatMac(mac(8))));
    // B's session and bridge go: A's MACs are A's again, mac(8) is nobody's.
    sb.detach(session);
    sb.detach(bridge);
    expect(sb.table.lookup(mac(6))?.kind).toBe('trunk');
    expect(sb.table.lookup(mac(7))?.kind).toBe('trunk');
    expect(sb.table.lookup(mac(8))).toBeUndefined();
    expect(tp.shadowed.size).toBe(0);
    const pb = new MemoryPort('pb');
    sb.attach(pb, { macLimit: 1, ownMac: mac(2) });
    await until(() => sa.table.remoteOf(mac(2)) !== undefined);
    sb.forward(ethFrame(mac(6), mac(2), 'to a'), pb);
    sb.forward(ethFrame(mac(7), mac(2), 'to a'), pb);
    await until(() => moved.received.length === 1 && lanHost.received.length === 1);
    expect(sb.drops.trunk_source).toBe(0);
    // A took nothing from B with the MACs A's sessions hold (B's LAN broadcasts of mac(7), mac(8)).
    expect(sa.drops.trunk_source).toBe(2);
  });

  it('bounds: a peer installs at most maxRemotePerSegment endpoints per segment; the rest is logged', async () => {
    const { B, sa } = await upL2Pair({ b: { maxRemotePerSegment: 3 } });
    for (let i = 1; i <= 5; i++) sa.attach(new MemoryPort(`p${i}`), { macLimit: 1, ownMac: mac(i) });
    await until(() => B.logs.some((l) => l.verdict === 'full' || String(l.msg).includes('not installed')));
    expect(B.seg('lan').remoteCount()).toBe(3);
  });

  it('rate-limits announcements: beyond the burst they leave in later batches, and all arrive', async () => {
    const { B, sa } = await upL2Pair({ a: { announceRate: 40, announceBurst: 20 } });
    for (let i = 1; i <= 60; i++) sa.attach(new MemoryPort(`p${i}`), { macLimit: 1, ownMac: mac(i) });
    await settle();
    const early = B.seg('lan').remoteCount();
    expect(early).toBeGreaterThanOrEqual(20);
    expect(early).toBeLessThan(60); // the other 40 need a second at 40/s
    await until(() => B.seg('lan').remoteCount() === 60, 10_000);
  });

  it('freezes a MAC that moves between two nodes too often (a loop), reports it, and drops it from trunks', async () => {
    const moves = { maxMoves: 3, windowSeconds: 60, freezeSeconds: 60 };
    const { A, B, ta, tb, sa, sb } = await upL2Pair({ a: { macMoves: moves }, b: { macMoves: moves } });
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
    const { sa, sb } = await upL2Pair({ a: { macMoves: moves }, b: { macMoves: moves } });
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

  it("the peer's ICMP errors come back across the trunk (from the segment gateway), IPv4 and IPv6", async () => {
    const { A, B, sa, sb } = l3pair();
    const [ta] = link(A, B);
    await until(() => ta.state === 'up');
    const pa = new MemoryPort('pa');
    sa.attach(pa, { prefixes: [parsePrefix('198.19.8.10/32')!, parsePrefix('fd00:e1:8::10/128')!] });
    sb.attach(new MemoryPort('pb'), { prefixes: [parsePrefix('198.19.8.20/32')!, parsePrefix('fd00:e1:8::20/128')!] });
    await until(() => sa.remoteCount() === 2 && sb.remoteCount() === 2);
    // TTL 2: 1 after node A, so node B's router answers "time exceeded".
    sa.forward(udp4('198.19.8.10', '198.19.8.20', 'x', 2), pa);
    sa.forward(udp6('fd00:e1:8::10', 'fd00:e1:8::20', 'x', 2), pa);
    await until(() => pa.received.length === 2);
    expect(pa.received.map((p) => endpoints(p))).toEqual([
      { src: '198.19.8.1', dst: '198.19.8.10' },
      { src: 'fd00:e1:8:0:0:0:0:1', dst: 'fd00:e1:8:0:0:0:0:10' },
    ]);
    expect(sa.drops.trunk_source).toBe(0);
  });

  it('an address held here and announced by a peer too goes to the peer when the local session ends (a stale session timing out)', async () => {
    const { A, B, sa, sb } = l3pair();
    const [ta] = link(A, B);
    await until(() => ta.state === 'up');
    const stale = new MemoryPort('stale');
    sa.attach(stale, { prefixes: [parsePrefix('198.19.8.40/32')!] });
    await until(() => sb.remoteCount() === 1);
    // The client came back on B while A still holds its old session: local wins on both.
    const fresh = new MemoryPort('fresh');
    expect(sb.attach(fresh, { prefixes: [parsePrefix('198.19.8.40/32')!] }).ok).toBe(true);
    await settle();
    expect(sa.ownerOf(parsePrefix('198.19.8.40/32')!)).toBe(stale);
    sa.detach(stale);
    expect(sa.ownerOf(parsePrefix('198.19.8.40/32')!)?.kind).toBe('trunk');
    const pa = new MemoryPort('pa');
    sa.attach(pa, { prefixes: [parsePrefix('198.19.8.10/32')!] });
    await until(() => sb.remoteCount() === 1);
    sa.forward(udp4('198.19.8.10', '198.19.8.40'), pa);
    await until(() => fresh.received.length === 1);
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

  it("a local session that took over a peer's address gives it back when it goes, unless the peer withdrew it meanwhile", async () => {
    const { A, B, sa, sb } = l3pair();
    const [ta] = link(A, B);
    await until(() => ta.state === 'up');
    const at = (text: string) => parsePrefix(text)!;
    const kept = new MemoryPort('kept');
    const gone = new MemoryPort('gone');
    sa.attach(kept, { prefixes: [at('198.19.8.31/32'), at('fd00:e1:8::31/128')] });
    sa.attach(gone, { prefixes: [at('198.19.8.32/32')] });
    await until(() => sb.remoteCount() === 3);
    // A stale session of those clients on B (it took their addresses over) …
    const stale = new MemoryPort('stale');
    expect(sb.attach(stale, { prefixes: [at('198.19.8.31/32'), at('fd00:e1:8::31/128'), at('198.19.8.32/32')] }).ok).toBe(true);
    expect(sb.ownerOf(at('198.19.8.31/32'))).toBe(stale);
    expect(sb.remoteCount()).toBe(0);
    const tp = trunkPort(B.hub.trunkTo('a')!, sb);
    expect([...tp.shadowed.keys()].sort()).toEqual(['198.19.8.31/32', '198.19.8.32/32', 'fd00:e1:8:0:0:0:0:31/128']);
    // … while A's client of .32 leaves (withdrawn: not to come back).
    sa.detach(gone);
    await until(() => !tp.shadowed.has('198.19.8.32/32'));
    // The stale session times out: A's routes are back at once, without a new announcement.
    const announcedIn = ta.output.framesOut;
    sb.detach(stale);
    expect(sb.ownerOf(at('198.19.8.31/32'))?.kind).toBe('trunk');
    expect(sb.ownerOf(at('fd00:e1:8::31/128'))?.kind).toBe('trunk');
    expect(sb.ownerOf(at('198.19.8.32/32'))).toBeUndefined();
    expect(sb.remoteCount()).toBe(2);
    expect(tp.shadowed.size).toBe(0);
    expect(ta.output.framesOut).toBe(announcedIn);
    const pb = new MemoryPort('pb');
    sb.attach(pb, { prefixes: [at('198.19.8.20/32'), at('fd00:e1:8::20/128')] });
    await until(() => sa.remoteCount() === 2);
    sb.forward(udp4('198.19.8.20', '198.19.8.31'), pb);
    sb.forward(udp6('fd00:e1:8::20', 'fd00:e1:8::31'), pb);
    await until(() => kept.received.length === 2);
    expect(endpoints(kept.received[0])).toEqual({ src: '198.19.8.20', dst: '198.19.8.31' });
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

  it("a peer's prefix taken over by a local port of another segment (one routing table) comes back when that port goes", async () => {
    const defs = [segment({ name: 'net', mode: 'l3', ipv4: { pool: '198.19.8.0/24' } }), segment({ name: 'dmz', mode: 'l3', ipv4: { pool: '198.19.9.0/24' } })];
    const node = (id: string) => {
      const router = new L3Router();
      const segs = new Map(defs.map((d) => [d.name, new L3Segment(d, router)]));
      return { hub: makeHub(id, [...segs.values()]), segs };
    };
    const A = node('a');
    const B = node('b');
    const [ta] = link(A.hub, B.hub);
    await until(() => ta.state === 'up');
    A.segs.get('dmz')!.attach(new MemoryPort('d1'), { prefixes: [parsePrefix('198.19.9.20/32')!] });
    const dmzB = B.segs.get('dmz')!;
    await until(() => dmzB.remoteCount() === 1);
    const odd = new MemoryPort('odd');
    expect(B.segs.get('net')!.attach(odd, { prefixes: [parsePrefix('198.19.9.20/32')!] }).ok).toBe(true);
    expect(dmzB.ownerOf(parsePrefix('198.19.9.20/32')!)).toBe(odd);
    B.segs.get('net')!.detach(odd);
    expect(dmzB.ownerOf(parsePrefix('198.19.9.20/32')!)?.kind).toBe('trunk');
    expect(dmzB.remoteCount()).toBe(1);
  });

  it("a prefix a full shadow of another segment dropped (one routing table) is asked for again when a local port of this one lets it go", async () => {
    const defs = [segment({ name: 'net', mode: 'l3', ipv4: { pool: '198.19.8.0/24' } }), segment({ name: 'dmz', mode: 'l3', ipv4: { pool: '198.19.9.0/24' } })];
    const node = (id: string, over: Partial<TrunkHubOptions> = {}) => {
      const router = new L3Router();
      const segs = new Map(defs.map((d) => [d.name, new L3Segment(d, router)]));
      return { hub: makeHub(id, [...segs.values()], over), segs };
    };
    const A = node('a');
    const B = node('b', { maxRemotePerSegment: 2 });
    const [ta, tb] = link(A.hub, B.hub);
    await until(() => ta.state === 'up' && tb.state === 'up');
    const at = (i: number) => parsePrefix(`198.19.9.${i}/32`)!;
    const dmzB = B.segs.get('dmz')!;
    const netB = B.segs.get('net')!;
    const dmzPort = trunkPort(tb, dmzB);
    // A's dmz announces .1 and .2; a port of B's net takes both: they fill the dmz port's shadow.
    A.segs.get('dmz')!.attach(new MemoryPort('d12'), { prefixes: [at(1), at(2)] });
    await until(() => dmzB.remoteCount() === 2);
    expect(netB.attach(new MemoryPort('odd12'), { prefixes: [at(1), at(2)] }).ok).toBe(true);
    expect(dmzPort.shadowed.size).toBe(2);
    // A third, taken by another port of B's net: not kept (full).
    A.segs.get('dmz')!.attach(new MemoryPort('d3'), { prefixes: [at(3)] });
    await until(() => dmzB.remoteCount() === 1);
    const odd3 = new MemoryPort('odd3');
    expect(netB.attach(odd3, { prefixes: [at(3)] }).ok).toBe(true);
    expect(dmzPort.dropped).toBe(1);
    // It lets go (in net): A is asked for dmz's table again, and .3 is A's in dmz once more.
    netB.detach(odd3);
    expect(dmzB.ownerOf(at(3))).toBeUndefined();
    await until(() => dmzB.ownerOf(at(3)) === dmzPort);
    expect(netB.ownerOf(at(1))?.kind).toBe('memory');
    expect(await resyncs(B.hub)).toEqual(['el_trunk_resyncs_total{peer="a",action="requested"} 1']);
  });
});

describe('trunks: a key that moved between two peers (three nodes)', () => {
  /** Three nodes in a full mesh; `seg` makes each node's segment. Keepalives far off, so that
   * "nothing more came from B" is exactly what B sent. */
  async function mesh<S extends Segment>(seg: () => S, over: Partial<TrunkHubOptions> = {}) {
    const [sa, sb, sc] = [seg(), seg(), seg()];
    const opts = { keepaliveMs: 60_000, ...over };
    const [A, B, C] = [makeHub('a', [sa], opts), makeHub('b', [sb], opts), makeHub('c', [sc], opts)];
    const trunks = [...link(A, B), ...link(A, C), ...link(B, C)];
    await until(() => trunks.every((t) => t.state === 'up'));
    const atA = (peer: string) => trunkPort(A.hub.trunkTo(peer)!, sa);
    return { A, B, C, sa, sb, sc, atA };
  }

  it("L2: a MAC that moved from B to C: A forwards to C; when C withdraws it, or C's trunk goes down, A forwards to B again at once; not once B withdrew it", async () => {
    const { A, B, C, sa, sb, sc, atA } = await mesh(() => l2());
    const key = formatMac(mac(6));
    const pa = new MemoryPort('pa');
    sa.attach(pa, { macLimit: 1, ownMac: mac(1) });
    const onB = new MemoryPort('on-b');
    sb.attach(onB, { macLimit: 1, ownMac: mac(6) });
    await until(() => sa.table.remoteOf(mac(6))?.port === atA('b') && sc.table.remoteOf(mac(6)) !== undefined);
    // The client moves to C (B's session not yet timed out): C takes the MAC with sequence 1.
    const onC = new MemoryPort('on-c');
    sc.attach(onC, { macLimit: 1, ownMac: mac(6) });
    await until(() => sa.table.remoteOf(mac(6))?.port === atA('c'));
    expect(sa.table.remoteOf(mac(6))!.seq).toBe(1);
    expect(atA('b').shadowed.get(key)).toBe(0);
    sa.forward(ethFrame(mac(6), mac(1), 'to c'), pa);
    await until(() => onC.received.length === 1);

    // C withdraws it: B's is installed again from A's shadow, with nothing more from B.
    const fromB = B.hub.trunkTo('a')!.output.framesOut;
    sc.detach(onC);
    await until(() => sa.table.remoteOf(mac(6))?.port === atA('b'));
    expect(sa.table.remoteOf(mac(6))!.seq).toBe(0);
    expect(atA('b').shadowed.has(key)).toBe(false);
    sa.forward(ethFrame(mac(6), mac(1), 'to b'), pa);
    await until(() => onB.received.length === 1);
    expect(onB.received[0].subarray(14).toString()).toBe('to b');
    expect(B.hub.trunkTo('a')!.output.framesOut).toBe(fromB);

    // It moves to C again; this time C's trunk to A goes down: B's is back at once.
    const onC2 = new MemoryPort('on-c2');
    sc.attach(onC2, { macLimit: 1, ownMac: mac(6) });
    await until(() => sa.table.remoteOf(mac(6))?.port === atA('c'));
    expect(atA('b').shadowed.get(key)).toBe(0);
    const ac = A.hub.trunkTo('c')!;
    ac.conn.destroy();
    await until(() => ac.state === 'closed');
    expect(sa.table.remoteOf(mac(6))?.port).toBe(atA('b'));
    expect(B.hub.trunkTo('a')!.output.framesOut).toBe(fromB);
    sa.forward(ethFrame(mac(6), mac(1), 'to b again'), pa);
    await until(() => onB.received.length === 2);

    // C back (its full sync takes the MAC again); B's session ends meanwhile: its withdrawal
    // clears A's shadow, and when C withdraws too, nothing comes back.
    const [ta, tc] = link(A, C);
    await until(() => ta.state === 'up' && tc.state === 'up' && sa.table.remoteOf(mac(6))?.port === atA('c'));
    expect(atA('b').shadowed.get(key)).toBe(0);
    sb.detach(onB);
    await until(() => !atA('b').shadowed.has(key));
    expect(sa.table.remoteOf(mac(6))?.port).toBe(atA('c'));
    sc.detach(onC2);
    await until(() => sa.table.remoteOf(mac(6)) === undefined && sa.remoteCount() === 0);
    await settle();
    expect(sa.table.lookup(mac(6))).toBeUndefined();
    expect(C.logs.filter((l) => l.level >= 50)).toEqual([]);
  });

  it('L2: the shadow stays within maxRemotePerSegment (those kept first stay); what is kept comes back, what was not is asked of its peer again (resync)', async () => {
    const { A, B, sa, sb, sc, atA } = await mesh(() => l2(), { maxRemotePerSegment: 2 });
    const onB = [1, 2, 3].map((i) => new MemoryPort(`b${i}`));
    onB.slice(0, 2).forEach((p, i) => sb.attach(p, { macLimit: 1, ownMac: mac(i + 1) }));
    await until(() => sa.remoteCount(atA('b')) === 2);
    // Both move to C: B's two announcements fill its shadow at A.
    const onC = [1, 2].map((i) => new MemoryPort(`c${i}`));
    onC.forEach((p, i) => sc.attach(p, { macLimit: 1, ownMac: mac(i + 1) }));
    await until(() => sa.remoteCount(atA('c')) === 2);
    expect([...atA('b').shadowed.keys()].sort()).toEqual([mac(1), mac(2)].map(formatMac));
    // A third of B's is taken over (here by a local session at A): not kept, the shadow is full.
    sb.attach(onB[2], { macLimit: 1, ownMac: mac(3) });
    await until(() => sa.remoteCount(atA('b')) === 1);
    const local = new MemoryPort('local');
    sa.attach(local, { macLimit: 1, ownMac: mac(3) });
    expect(atA('b').shadowed.size).toBe(2);
    expect(atA('b').shadowed.has(formatMac(mac(3)))).toBe(false);
    expect(atA('b').dropped).toBe(1);
    sa.detach(local);
    expect(sa.table.lookup(mac(3))).toBeUndefined();
    // Nothing kept takes it, but B's shadow dropped a key: B is asked for its table again, and
    // its answer installs mac(3), the free one; mac(1) and mac(2) stay C's, and kept.
    await until(() => sa.table.remoteOf(mac(3))?.port === atA('b'));
    expect([sa.table.remoteOf(mac(1))?.port, sa.table.remoteOf(mac(2))?.port]).toEqual([atA('c'), atA('c')]);
    expect([...atA('b').shadowed.keys()].sort()).toEqual([mac(1), mac(2)].map(formatMac));
    expect(atA('b').dropped).toBe(0);
    expect(await resyncs(A)).toEqual(['el_trunk_resyncs_total{peer="b",action="requested"} 1']);
    expect(await resyncs(B)).toEqual(['el_trunk_resyncs_total{peer="a",action="answered"} 1']);
    // What was kept comes back when C lets go.
    sc.detach(onC[0]);
    await until(() => sa.table.remoteOf(mac(1))?.port === atA('b'));
    expect([...atA('b').shadowed.keys()]).toEqual([formatMac(mac(2))]);
  });

  it("L2: a MAC dropped from B's full shadow comes back by resync when C withdraws it, and when C's trunk goes down (B's shadow empty by then)", async () => {
    const { A, sa, sb, sc, atA } = await mesh(() => l2(), { maxRemotePerSegment: 2, resyncIntervalMs: 50 });
    // A's own sessions of mac(1), mac(2) hold B's announcements of them: B's shadow at A is full.
    for (const i of [1, 2]) sa.attach(new MemoryPort(`a${i}`), { macLimit: 1, ownMac: mac(i) });
    const onB = [1, 2, 3].map((i) => new MemoryPort(`b${i}`));
    onB.forEach((p, i) => sb.attach(p, { macLimit: 1, ownMac: mac(i + 1) }));
    await until(() => atA('b').shadowed.size === 2 && sa.table.remoteOf(mac(3))?.port === atA('b'));
    // mac(3) moves to C (sequence 1): B's is dropped.
    const onC = new MemoryPort('c3');
    sc.attach(onC, { macLimit: 1, ownMac: mac(3) });
    await until(() => sa.table.remoteOf(mac(3))?.port === atA('c'));
    expect(atA('b').dropped).toBe(1);
    // C withdraws it: B's again, by resync.
    sc.detach(onC);
    await until(() => sa.table.remoteOf(mac(3))?.port === atA('b'));
    expect(sa.table.remoteOf(mac(3))!.seq).toBe(0);
    // Again at C; B's sessions of mac(1), mac(2) end (its shadow at A is empty now, the
    // dropped one still counted); then C's trunk to A goes down.
    sc.attach(new MemoryPort('c3-again'), { macLimit: 1, ownMac: mac(3) });
    await until(() => sa.table.remoteOf(mac(3))?.port === atA('c'));
    expect(atA('b').dropped).toBe(1);
    sb.detach(onB[0]);
    sb.detach(onB[1]);
    await until(() => atA('b').shadowed.size === 0);
    const ac = A.hub.trunkTo('c')!;
    ac.conn.destroy();
    await until(() => ac.state === 'closed');
    await until(() => sa.table.remoteOf(mac(3))?.port === atA('b'));
    expect([sa.table.lookup(mac(1))?.kind, sa.table.lookup(mac(2))?.kind]).toEqual(['memory', 'memory']);
    expect(await resyncs(A)).toEqual(['el_trunk_resyncs_total{peer="b",action="requested"} 2']);
  });

  it('L3: a prefix dropped from a full shadow comes back by resync when it is free; the replay takes nothing another peer holds at the same sequence', async () => {
    const def = segment({ name: 'net', mode: 'l3', ipv4: { pool: '198.19.8.0/24' }, ipv6: { pool: 'fd00:e1:8::/64' } });
    const { A, B, sa, sb, sc, atA } = await mesh(() => new L3Segment(def, new L3Router()), { maxRemotePerSegment: 2 });
    const at = (text: string) => parsePrefix(text)!;
    const moved = [at('198.19.8.61/32'), at('fd00:e1:8::61/128')];
    const third = at('198.19.8.63/32');
    const owner = (p: ReturnType<typeof at>) => sa.ownerOf(p);
    // B announces two, then C the same two (sequence 0, the later wins): B's fill its shadow at A.
    sb.attach(new MemoryPort('b'), { prefixes: moved });
    await until(() => owner(moved[0]) === atA('b') && owner(moved[1]) === atA('b'));
    sc.attach(new MemoryPort('c'), { prefixes: moved });
    await until(() => owner(moved[0]) === atA('c') && owner(moved[1]) === atA('c'));
    expect(atA('b').shadowed.size).toBe(2);
    // A third of B's, taken over by a local port at A: not kept (full).
    sb.attach(new MemoryPort('b3'), { prefixes: [third] });
    await until(() => owner(third) === atA('b'));
    const local = new MemoryPort('local');
    expect(sa.attach(local, { prefixes: [third] }).ok).toBe(true);
    expect(atA('b').dropped).toBe(1);
    sa.detach(local);
    expect(owner(third)).toBeUndefined();
    // B's answer installs the free one; the two C holds stay C's (a change from B at sequence 0
    // would take them: the later wins), and B's stay kept.
    await until(() => owner(third) === atA('b') || owner(moved[0]) !== atA('c'));
    expect([owner(moved[0]), owner(moved[1]), owner(third)]).toEqual([atA('c'), atA('c'), atA('b')]);
    expect([...atA('b').shadowed.keys()].sort()).toEqual(['198.19.8.61/32', 'fd00:e1:8:0:0:0:0:61/128']);
    expect(sa.remoteCount(atA('b'))).toBe(1);
    expect(await resyncs(A)).toEqual(['el_trunk_resyncs_total{peer="b",action="requested"} 1']);
    expect(await resyncs(B)).toEqual(['el_trunk_resyncs_total{peer="a",action="answered"} 1']);
  });

  it('L3: a prefix that moved from B to C (IPv4 and IPv6): back to B when C withdraws it or its trunk goes down, not once B withdrew it; a tie goes to the lower node id', async () => {
    const def = segment({ name: 'net', mode: 'l3', ipv4: { pool: '198.19.8.0/24' }, ipv6: { pool: 'fd00:e1:8::/64' } });
    const { A, B, C, sa, sb, sc, atA } = await mesh(() => new L3Segment(def, new L3Router()));
    const at = (text: string) => parsePrefix(text)!;
    const moved = [at('198.19.8.50/32'), at('fd00:e1:8::50/128')];
    const keys = ['198.19.8.50/32', 'fd00:e1:8:0:0:0:0:50/128'];
    const owner = (i: number) => sa.ownerOf(moved[i]);
    const pa = new MemoryPort('pa');
    sa.attach(pa, { prefixes: [at('198.19.8.10/32'), at('fd00:e1:8::10/128')] });
    const send = (): void => {
      sa.forward(udp4('198.19.8.10', '198.19.8.50'), pa);
      sa.forward(udp6('fd00:e1:8::10', 'fd00:e1:8::50'), pa);
    };
    const onB = new MemoryPort('on-b');
    sb.attach(onB, { prefixes: moved });
    await until(() => owner(0) === atA('b') && owner(1) === atA('b') && sb.remoteCount() === 2 && sc.remoteCount() === 4);
    const onC = new MemoryPort('on-c');
    expect(sc.attach(onC, { prefixes: moved }).ok).toBe(true);
    await until(() => owner(0) === atA('c') && owner(1) === atA('c'));
    expect([...atA('b').shadowed.keys()].sort()).toEqual(keys);
    send();
    await until(() => onC.received.length === 2);

    // C withdraws: B's routes are back at A, with nothing more from B.
    const fromB = B.hub.trunkTo('a')!.output.framesOut;
    sc.detach(onC);
    await until(() => owner(0) === atA('b') && owner(1) === atA('b'));
    expect(atA('b').shadowed.size).toBe(0);
    send();
    await until(() => onB.received.length === 2);
    expect(onB.received.map((p) => endpoints(p).dst)).toEqual(['198.19.8.50', 'fd00:e1:8:0:0:0:0:50']);

    // Again at C; C's trunk to A goes down: back to B at once.
    const onC2 = new MemoryPort('on-c2');
    sc.attach(onC2, { prefixes: moved });
    await until(() => owner(0) === atA('c') && owner(1) === atA('c'));
    const ac = A.hub.trunkTo('c')!;
    ac.conn.destroy();
    await until(() => ac.state === 'closed');
    expect([owner(0), owner(1)]).toEqual([atA('b'), atA('b')]);
    expect(B.hub.trunkTo('a')!.output.framesOut).toBe(fromB);
    send();
    await until(() => onB.received.length === 4);

    // C back (its full sync: sequence 1, as C took the addresses over from B, so it takes them again);
    // B's session ends meanwhile: its withdrawal clears A's shadow, and when C's ends too,
    // nothing comes back.
    const [ta, tc] = link(A, C);
    await until(() => ta.state === 'up' && tc.state === 'up' && owner(0) === atA('c') && owner(1) === atA('c'));
    expect([...atA('b').shadowed.keys()].sort()).toEqual(keys);
    sb.detach(onB);
    await until(() => atA('b').shadowed.size === 0);
    expect([owner(0), owner(1)]).toEqual([atA('c'), atA('c')]);
    sc.detach(onC2);
    await until(() => owner(0) === undefined && owner(1) === undefined);

    // Both announce them again, each not knowing the other's (B and C apart: both at
    // sequence 0), and a local session at A takes them over: B's and C's both wait in their
    // shadows; when it goes, the tie goes to the lower node id (b), whichever trunk came up
    // first (A's trunk to B is made again, after C's); when B's session ends, C's takes its place.
    const bc = B.hub.trunkTo('c')!;
    bc.conn.destroy();
    const ab = A.hub.trunkTo('b')!;
    ab.conn.destroy();
    await until(() => ab.state === 'closed' && bc.state === 'closed');
    const [ta2, tb2] = link(A, B);
    await until(() => ta2.state === 'up' && tb2.state === 'up');
    const onB3 = new MemoryPort('on-b3');
    const onC3 = new MemoryPort('on-c3');
    sb.attach(onB3, { prefixes: moved });
    await until(() => owner(0) === atA('b') && owner(1) === atA('b'));
    sc.attach(onC3, { prefixes: moved });
    await until(() => owner(0) === atA('c') && owner(1) === atA('c'));
    const local = new MemoryPort('local');
    expect(sa.attach(local, { prefixes: moved }).ok).toBe(true);
    expect([...atA('b').shadowed.keys()].sort()).toEqual(keys);
    expect([...atA('c').shadowed.keys()].sort()).toEqual(keys);
    sa.detach(local);
    expect([owner(0), owner(1)]).toEqual([atA('b'), atA('b')]);
    expect([...atA('c').shadowed.keys()].sort()).toEqual(keys);
    sb.detach(onB3);
    await until(() => owner(0) === atA('c') && owner(1) === atA('c'));
    expect(atA('c').shadowed.size).toBe(0);
    send();
    await until(() => onC3.received.length === 2);
    sc.detach(onC3);
    await until(() => owner(0) === undefined && owner(1) === undefined);
    expect(sa.remoteCount()).toBe(0);
    expect(A.logs.filter((l) => l.level >= 50)).toEqual([]);
  });
});

/** A client session's port as trunks see it: its owner (user and device), when it was
 * admitted, and its end (a session closes: detached) when a peer shows the device there later. */
class DevicePort extends MemoryPort {
  readonly moved: string[] = [];
  constructor(
    name: string,
    readonly owner: string,
    readonly since: number,
    private readonly seg: Segment,
  ) {
    super(name);
  }

  movedAway(node: string): void {
    this.moved.push(node);
    this.seg.detach(this);
  }
}

describe('trunks: a device that moved (mobility)', () => {
  const ALICE = endpointOwner('alice', 'laptop');
  const at = (text: string) => parsePrefix(text)!;
  const addrs = [at('198.19.8.40/32'), at('fd00:e1:8::40/128')];
  function l3(): L3Segment {
    return new L3Segment(segment({ name: 'net', mode: 'l3', ipv4: { pool: '198.19.8.0/24' }, ipv6: { pool: 'fd00:e1:8::/64' } }), new L3Router());
  }
  async function l3pair(over: { a?: Partial<TrunkHubOptions>; b?: Partial<TrunkHubOptions> } = {}) {
    const [sa, sb] = [l3(), l3()];
    const A = makeHub('a', [sa], over.a);
    const B = makeHub('b', [sb], over.b);
    const [ta, tb] = link(A, B);
    await until(() => ta.state === 'up' && tb.state === 'up');
    const pa = new MemoryPort('pa');
    sa.attach(pa, { prefixes: [at('198.19.8.10/32'), at('fd00:e1:8::10/128')] });
    const send = (): void => {
      sa.forward(udp4('198.19.8.10', '198.19.8.40'), pa);
      sa.forward(udp6('fd00:e1:8::10', 'fd00:e1:8::40'), pa);
    };
    return { A, B, sa, sb, ta, tb, pa, send };
  }

  it('L3: the device admitted again at B ends its old session at A (IPv4 and IPv6): A routes to B at once, not after the keepalive timeout', async () => {
    const { A, sa, sb, send } = await l3pair();
    const stale = new DevicePort('stale', ALICE, Date.now() - 60_000, sa);
    sa.attach(stale, { prefixes: addrs });
    await until(() => sb.remoteCount() === 4);
    const fresh = new DevicePort('fresh', ALICE, Date.now(), sb);
    expect(sb.attach(fresh, { prefixes: addrs }).ok).toBe(true);
    await until(() => stale.moved.length > 0);
    expect(stale.moved).toEqual(['b']);
    expect(sa.ownerOf(addrs[0])?.kind).toBe('trunk');
    expect(sa.ownerOf(addrs[1])?.kind).toBe('trunk');
    send();
    await until(() => fresh.received.length === 2);
    expect(fresh.received.map((p) => endpoints(p).dst)).toEqual(['198.19.8.40', 'fd00:e1:8:0:0:0:0:40']);
    expect(stale.received).toEqual([]);
    expect(fresh.moved).toEqual([]);
    expect(A.logs.filter((l) => l.level >= 50)).toEqual([]);
  });

  it('L2: the device admitted again at B ends its old session at A: its MAC is B\'s at A at once', async () => {
    const { sa, sb } = await upL2Pair();
    const pa = new MemoryPort('pa');
    sa.attach(pa, { macLimit: 1, ownMac: mac(3) });
    const stale = new DevicePort('stale', ALICE, Date.now() - 60_000, sa);
    sa.attach(stale, { macLimit: 1, ownMac: mac(7) });
    await until(() => sb.table.lookup(mac(7))?.kind === 'trunk');
    const fresh = new DevicePort('fresh', ALICE, Date.now(), sb);
    expect(sb.attach(fresh, { macLimit: 1, ownMac: mac(7) })).toBe(true);
    await until(() => stale.moved.length > 0);
    expect(stale.moved).toEqual(['b']);
    expect(sa.table.lookup(mac(7))?.kind).toBe('trunk');
    sa.forward(ethFrame(mac(7), mac(3)), pa);
    await until(() => fresh.received.length === 1);
    expect(stale.received).toEqual([]);
    expect(fresh.moved).toEqual([]);
  });

  it('whichever end hears first (the trunk down while the device moved, then its full sync): the later session stays, the earlier ends', async () => {
    const { A, B, ta, sa, sb, send } = await l3pair();
    const stale = new DevicePort('stale', ALICE, Date.now() - 60_000, sa);
    sa.attach(stale, { prefixes: addrs });
    await until(() => sb.remoteCount() === 4);
    ta.conn.destroy();
    await until(() => ta.state === 'closed' && sb.remoteCount() === 0);
    // Not knowing A's: sequence 0 at B, as A's.
    const fresh = new DevicePort('fresh', ALICE, Date.now(), sb);
    expect(sb.attach(fresh, { prefixes: addrs }).ok).toBe(true);
    const [ta2, tb2] = link(A, B);
    await until(() => ta2.state === 'up' && tb2.state === 'up' && stale.moved.length > 0);
    await until(() => sa.ownerOf(addrs[0])?.kind === 'trunk' && sa.ownerOf(addrs[1])?.kind === 'trunk');
    await settle();
    expect(stale.moved).toEqual(['b']);
    expect(fresh.moved).toEqual([]);
    expect(sb.ownerOf(addrs[0])).toBe(fresh);
    send();
    await until(() => fresh.received.length === 2);
  });

  it('leaves alone: another device at the same address, the same device admitted within a second, and any session with mobility off at either end', async () => {
    const other = await l3pair();
    const stale1 = new DevicePort('stale', ALICE, Date.now() - 60_000, other.sa);
    other.sa.attach(stale1, { prefixes: addrs });
    await until(() => other.sb.remoteCount() === 4);
    other.sb.attach(new DevicePort('bob', endpointOwner('bob', 'laptop'), Date.now(), other.sb), { prefixes: addrs });
    // Both announced: B's is kept in its shadow at A, behind the local one.
    await until(() => trunkPort(other.A.hub.trunkTo('b')!, other.sa).shadowed.size === 2);
    expect(stale1.moved).toEqual([]);
    expect(other.sa.ownerOf(addrs[0])).toBe(stale1);

    const close = await l3pair();
    const t0 = Date.now();
    const first = new DevicePort('first', ALICE, t0, close.sa);
    close.sa.attach(first, { prefixes: addrs });
    await until(() => close.sb.remoteCount() === 4);
    close.sb.attach(new DevicePort('second', ALICE, t0 + 500, close.sb), { prefixes: addrs });
    await until(() => trunkPort(close.A.hub.trunkTo('b')!, close.sa).shadowed.size === 2);
    expect(first.moved).toEqual([]);

    for (const over of [{ a: { mobility: false } }, { b: { mobility: false } }]) {
      const off = await l3pair(over);
      const stale = new DevicePort('stale', ALICE, Date.now() - 60_000, off.sa);
      off.sa.attach(stale, { prefixes: addrs });
      await until(() => off.sb.remoteCount() === 4);
      off.sb.attach(new DevicePort('fresh', ALICE, Date.now(), off.sb), { prefixes: addrs });
      await until(() => trunkPort(off.A.hub.trunkTo('b')!, off.sa).shadowed.size === 2);
      await settle();
      expect(stale.moved, JSON.stringify(over)).toEqual([]);
      expect(off.sa.ownerOf(addrs[0])).toBe(stale);
    }
  });

  it('a peer naming "mobility" gets owner and age with a session\'s endpoints (nothing with others\'); one without gets [key, seq] only', async () => {
    for (const caps of [['mobility'], ['resync']]) {
      const H = makeHub('h', [l2()]);
      const lan = H.seg('lan') as L2Segment;
      const since = Date.now() - 5_000;
      lan.attach(new DevicePort('dev', ALICE, since, lan), { macLimit: 1, ownMac: mac(7) });
      lan.attach(new MemoryPort('plain'), { macLimit: 1, ownMac: mac(8) });
      const raw = await rawPeer(H, caps);
      await until(() => raw.msgs.some((m) => m.type === 'update'));
      const adds = raw.msgs.flatMap((m) => (m.type === 'update' ? m.add : []));
      const byKey = new Map(adds.map((a) => [a[0], a]));
      expect(byKey.get(formatMac(mac(8)))).toEqual([formatMac(mac(8)), 0]);
      const dev = byKey.get(formatMac(mac(7)))!;
      if (caps.includes('mobility')) {
        expect(dev.slice(0, 3)).toEqual([formatMac(mac(7)), 0, ALICE]);
        expect(dev[3]).toBeGreaterThanOrEqual(5_000);
        expect(dev[3]).toBeLessThan(60_000);
      } else {
        expect(dev).toEqual([formatMac(mac(7)), 0]);
      }
      raw.t.conn.destroy();
    }
  });

  it('three nodes: a prefix that moved from B to C carries C\'s sequence one on, so A keeps routing to C when B\'s full sync comes later', async () => {
    const [sa, sb, sc] = [l3(), l3(), l3()];
    const opts = { keepaliveMs: 60_000 };
    const [A, B, C] = [makeHub('a', [sa], opts), makeHub('b', [sb], opts), makeHub('c', [sc], opts)];
    const trunks = [...link(A, B), ...link(A, C), ...link(B, C)];
    await until(() => trunks.every((t) => t.state === 'up'));
    const atA = (peer: string) => trunkPort(A.hub.trunkTo(peer)!, sa);
    // Plain ports (no owner): B's stale session stays, so B keeps announcing the addresses.
    sb.attach(new MemoryPort('on-b'), { prefixes: addrs });
    await until(() => sa.ownerOf(addrs[0]) === atA('b') && sc.remoteCount() === 2);
    const onC = new MemoryPort('on-c');
    sc.attach(onC, { prefixes: addrs });
    await until(() => sa.ownerOf(addrs[0]) === atA('c') && sa.ownerOf(addrs[1]) === atA('c'));
    const ab = A.hub.trunkTo('b')!;
    ab.conn.destroy();
    await until(() => ab.state === 'closed');
    const [ta, tb] = link(A, B);
    await until(() => ta.state === 'up' && tb.state === 'up' && atA('b').shadowed.size === 2);
    expect([sa.ownerOf(addrs[0]), sa.ownerOf(addrs[1])]).toEqual([atA('c'), atA('c')]);
    const pa = new MemoryPort('pa');
    sa.attach(pa, { prefixes: [at('198.19.8.10/32')] });
    await until(() => sc.ownerOf(at('198.19.8.10/32'))?.kind === 'trunk');
    sa.forward(udp4('198.19.8.10', '198.19.8.40'), pa);
    await until(() => onC.received.length === 1);
  });
});

describe('trunks: segments added on a live trunk', () => {
  const downs = async (H: TestHub): Promise<string[]> => (await H.registry.metrics()).split('\n').filter((l) => l.startsWith('el_trunk_downs_total{'));

  it('a node that starts hosting a segment tells its trunk: both ends open it and exchange its endpoints, the trunk stays up', async () => {
    const A = makeHub('a', [l2()]);
    const B = makeHub('b', [l2(), l2('lab')]);
    const [ta, tb] = link(A, B);
    await until(() => ta.state === 'up' && tb.state === 'up');
    expect([ta.peerTakesSegments, tb.peerTakesSegments]).toEqual([true, true]);
    expect([...ta.ports.values()].map((p) => p.segment.name)).toEqual(['lan']);
    const labB = B.seg('lab') as L2Segment;
    const pb = new MemoryPort('pb');
    labB.attach(pb, { macLimit: 1, ownMac: mac(2) });
    await settle();
    // A hosts lab now (a broker's registry named it).
    const labA = l2('lab');
    const pa = new MemoryPort('pa');
    labA.attach(pa, { macLimit: 1, ownMac: mac(1) });
    A.add(labA);
    // At once on A (B named lab in its hello); on B when A's message arrives.
    expect([...ta.ports.values()].map((p) => p.segment.name)).toEqual(['lan', 'lab']);
    await until(() => tb.ports.size === 2 && labA.table.remoteOf(mac(2)) !== undefined && labB.table.remoteOf(mac(1)) !== undefined);
    labA.forward(ethFrame(mac(2), mac(1), 'in lab'), pa);
    await until(() => pb.received.length === 1);
    expect([ta.state, tb.state]).toEqual(['up', 'up']);
    expect([A.hub.trunkTo('b'), B.hub.trunkTo('a')]).toEqual([ta, tb]);
    expect(await downs(A)).toEqual([]);
    expect(await downs(B)).toEqual([]);
    expect(A.logs.find((l) => l.msg === 'trunk segments added')).toMatchObject({ peer: 'b', segments: ['lab'], via: 'sent' });
    expect(B.logs.find((l) => l.msg === 'trunk segments added')).toMatchObject({ peer: 'a', segments: ['lab'], via: 'received' });

    // B hosts one A does not (yet): told, nothing opens; then A hosts it too: it opens.
    B.add(l2('lab2'));
    await settle();
    expect(ta.ports.size).toBe(2);
    A.add(l2('lab2'));
    await until(() => ta.ports.size === 3 && tb.ports.size === 3);
    expect(A.hub.stats()[0]!.segments).toEqual(['lan', 'lab', 'lab2']);
    expect(await downs(A)).toEqual([]);
  });

  it('a segment added while the hellos cross is told right after up (an older peer: closed then)', async () => {
    const A = makeHub('a', [l2()]);
    const B = makeHub('b', [l2(), l2('lab')]);
    const [ta, tb] = link(A, B);
    A.add(l2('lab')); // A's hello, already on its way, names only lan
    expect(ta.state).toBe('hello');
    await until(() => ta.ports.size === 2 && tb.ports.size === 2);
    expect(A.logs.find((l) => l.msg === 'trunk segments added')).toMatchObject({ peer: 'b', segments: ['lab'], via: 'sent' });
    const Old = makeHub('old', [l2(), l2('lab')], { liveSegments: false });
    const C = makeHub('c', [l2()]);
    const [tc] = link(C, Old);
    C.add(l2('lab'));
    await until(() => tc.state === 'closed');
    expect(tc.downReason).toBe('segments_changed');
  });

  it('a segment both start hosting at once opens once on each end', async () => {
    const { A, B, ta, tb } = await upL2Pair();
    A.add(l2('lab'));
    B.add(l2('lab'));
    await until(() => ta.ports.size === 2 && tb.ports.size === 2);
    await settle();
    expect([ta.state, tb.state]).toEqual(['up', 'up']);
  });

  it('a peer without the capability (an older node) is closed as before (segments_changed), and told nothing it would refuse', async () => {
    const A = makeHub('a', [l2()]);
    const B = makeHub('b', [l2(), l2('lab')], { liveSegments: false });
    const [ta, tb] = link(A, B);
    await until(() => ta.state === 'up' && tb.state === 'up');
    expect(ta.peerTakesSegments).toBe(false);
    A.add(l2('lab'));
    expect(ta.state).toBe('closed');
    await until(() => tb.state === 'closed');
    expect([ta.downReason, tb.downReason, tb.closeReason]).toEqual(['segments_changed', 'peer_ended', 'EL_ERR_UNAVAILABLE']);
    expect(await downs(A)).toEqual(['el_trunk_downs_total{peer="b",reason="segments_changed"} 1']);
    // The next trunk's hellos name the new set.
    const [ta2, tb2] = link(A, B);
    await until(() => ta2.state === 'up' && tb2.state === 'up');
    expect(ta2.ports.size).toBe(2);
    // The older node grows: it closes too (it cannot tell).
    B.add(l2('lab2'));
    expect(tb2.downReason).toBe('segments_changed');
  });

  it('refuses a segments message that is malformed, too long, drops a segment, adds none, or comes unasked: the trunk ends with EL_ERR_BAD_CONTROL', async () => {
    const seg = (name: string): TrunkSegment => ({ name, id: trunkSegmentId(name), mode: 'l2' });
    const bad: [string, (lan: TrunkSegment) => Buffer][] = [
      ['not a list', () => Buffer.from(JSON.stringify({ type: 'segments', segments: 'lan' }))],
      ['a bad mode', (lan) => Buffer.from(JSON.stringify({ type: 'segments', segments: [lan, { ...seg('x'), mode: 'l4' }] }))],
      ['257 segments', (lan) => Buffer.from(JSON.stringify({ type: 'segments', segments: [lan, ...Array.from({ length: 256 }, (_, i) => seg(`s${i}`))] }))],
      ['lan left out', () => Buffer.from(JSON.stringify({ type: 'segments', segments: [seg('x')] }))],
      ['nothing added (sent again)', (lan) => Buffer.from(JSON.stringify({ type: 'segments', segments: [lan] }))],
    ];
    for (const [what, payload] of bad) {
      const A = makeHub('a', [l2()]);
      const { t, cy, lan } = await rawPeer(A, ['segments']);
      const body = payload(lan);
      expect(body.length, what).toBeLessThanOrEqual(MAX_CONTROL_PAYLOAD);
      cy.write(Buffer.concat([Buffer.from([RecordType.TRUNK_CONTROL, body.length >> 8, body.length & 0xff]), body]));
      await until(() => t.state === 'closed');
      expect([t.downReason, t.closeReason], what).toEqual(['error', 'EL_ERR_BAD_CONTROL']);
      expect(A.logs.find((l) => l.code === 'EL_ERR_BAD_CONTROL'), what).toBeDefined();
    }
    // One that grows the set is taken (and a segment A does not host opens nothing).
    const A = makeHub('a', [l2()]);
    const { t, cy, lan } = await rawPeer(A, ['segments']);
    cy.write(encodeTrunkControl({ type: 'segments', segments: [lan, seg('x')] }));
    await settle();
    expect([t.state, t.ports.size]).toEqual(['up', 1]);
    // To a node that did not name the capability, the message is as unknown as to an older node.
    const Old = makeHub('old', [l2()], { liveSegments: false });
    const old = await rawPeer(Old, ['segments']);
    old.cy.write(encodeTrunkControl({ type: 'segments', segments: [old.lan, seg('x')] }));
    await until(() => old.t.state === 'closed');
    expect(old.t.closeReason).toBe('EL_ERR_BAD_CONTROL');
  });

  it('a peer whose hello lacks "segments" (gso and uso only, as the last release) is sent no segments message: the trunk closes with "segments changed"', async () => {
    const A = makeHub('a', [l2()]);
    const { t, got } = await rawPeer(A, ['gso', 'uso']);
    expect(t.peerTakesSegments).toBe(false);
    A.add(l2('lab'));
    await until(() => got.includes('error'));
    expect(got).not.toContain('segments');
    expect(t.downReason).toBe('segments_changed');
  });
});

describe('trunks: resync of a full shadow', () => {
  /** A, with locals of mac(1) and mac(2) and a shadow of 2; B announces mac(1) … mac(n): B's
   * mac(1), mac(2) fill the shadow at A, the rest is installed. */
  async function filled(n: number, over: { a?: Partial<TrunkHubOptions>; b?: Partial<TrunkHubOptions> } = {}) {
    const pair = await upL2Pair({ a: { maxRemotePerSegment: 2, ...over.a }, b: over.b });
    const { sa, sb, ta } = pair;
    for (const i of [1, 2]) sa.attach(new MemoryPort(`a${i}`), { macLimit: 1, ownMac: mac(i) });
    for (let i = 1; i <= n; i++) sb.attach(new MemoryPort(`b${i}`), { macLimit: 1, ownMac: mac(i) });
    const tp = trunkPort(ta, sa);
    await until(() => tp.shadowed.size === 2 && sa.remoteCount(tp) === n - 2);
    /** A local session at A takes mac(i) over (B's is dropped: the shadow is full). */
    const takeOver = (i: number): MemoryPort => {
      const p = new MemoryPort(`local${i}`);
      sa.attach(p, { macLimit: 1, ownMac: mac(i) });
      return p;
    };
    return { ...pair, tp, takeOver };
  }

  it('asks at most once per interval per port: a key freed meanwhile waits for the interval end, and comes back then', async () => {
    const interval = 400;
    const { A, B, sa, tp, takeOver } = await filled(4, { a: { resyncIntervalMs: interval }, b: { resyncIntervalMs: interval } });
    const l3 = takeOver(3);
    const l4 = takeOver(4);
    expect(tp.dropped).toBe(2);
    sa.detach(l3);
    const first = Date.now();
    expect(await resyncs(A)).toEqual(['el_trunk_resyncs_total{peer="b",action="requested"} 1']);
    await until(() => sa.table.remoteOf(mac(3))?.port === tp);
    // The answer's mac(4) found the local one: dropped again (the shadow is still full).
    await until(() => tp.dropped === 1);
    sa.detach(l4);
    // Within the interval: not asked yet, however many keys come free.
    sa.detach(takeOver(3));
    expect(await resyncs(A)).toEqual(['el_trunk_resyncs_total{peer="b",action="requested"} 1']);
    expect(sa.table.lookup(mac(4))).toBeUndefined();
    await until(() => sa.table.remoteOf(mac(4))?.port === tp && sa.table.remoteOf(mac(3))?.port === tp);
    // A few ms of slack: a timer's due time and Date.now() round differently.
    expect(Date.now() - first).toBeGreaterThanOrEqual(interval - 5);
    expect(await resyncs(A)).toEqual(['el_trunk_resyncs_total{peer="b",action="requested"} 2']);
    expect(await resyncs(B)).toEqual(['el_trunk_resyncs_total{peer="a",action="answered"} 2']);
  });

  it('answers at most once per interval: a peer asking in a loop gets the table once now and once at the interval end', async () => {
    const interval = 300;
    const A = makeHub('a', [l2()], { resyncIntervalMs: interval });
    const sa = A.seg('lan') as L2Segment;
    sa.attach(new MemoryPort('a1'), { macLimit: 1, ownMac: mac(1) });
    sa.attach(new MemoryPort('a2'), { macLimit: 1, ownMac: mac(2) });
    const { t, cy, lan, msgs } = await rawPeer(A, ['segments', 'resync']);
    expect(t.peerTakesResync).toBe(true);
    await until(() => msgs.some((m) => m.type === 'update'));
    const replays = () => msgs.filter((m) => m.type === 'update' && m.replay === true);
    for (let i = 0; i < 50; i++) cy.write(encodeTrunkControl({ type: 'resync', segment: lan.id }));
    await until(() => replays().length === 1);
    expect(replays()[0]).toMatchObject({ segment: lan.id, add: [[formatMac(mac(1)), 0], [formatMac(mac(2)), 0]], del: [] });
    await until(() => replays().length === 2, interval * 10);
    // Another interval and more: nothing more without new asking.
    await new Promise((r) => setTimeout(r, interval * 2));
    expect(replays()).toHaveLength(2);
    expect(await resyncs(A)).toEqual(['el_trunk_resyncs_total{peer="raw",action="answered"} 2']);
    // A resync of a segment not shared is answered by nothing; the trunk stays up.
    cy.write(encodeTrunkControl({ type: 'resync', segment: lan.id + 1 }));
    await settle();
    expect([t.state, replays().length]).toEqual(['up', 2]);
  });

  it('a replay changes nothing installed from the peer, keeps what is held here in the shadow, and withdraws nothing', async () => {
    const A = makeHub('a', [l2()]);
    const sa = A.seg('lan') as L2Segment;
    const local = new MemoryPort('a1');
    sa.attach(local, { macLimit: 1, ownMac: mac(1) });
    const { t, cy, lan } = await rawPeer(A, ['resync']);
    const tp = trunkPort(t, sa);
    cy.write(encodeTrunkControl({ type: 'update', segment: lan.id, add: [[formatMac(mac(2)), 5], [formatMac(mac(3)), 0]] }));
    await until(() => sa.remoteCount(tp) === 2);
    cy.write(encodeTrunkControl({ type: 'update', segment: lan.id, add: [[formatMac(mac(1)), 9], [formatMac(mac(2)), 5]], replay: true }));
    await until(() => tp.shadowed.has(formatMac(mac(1))));
    expect(sa.table.lookup(mac(1))).toBe(local);
    expect(sa.table.remoteOf(mac(2))).toMatchObject({ port: tp, seq: 5 });
    // mac(3), not in the replay, stays: a replay withdraws nothing.
    expect(sa.table.remoteOf(mac(3))?.port).toBe(tp);
    expect(sa.remoteCount(tp)).toBe(2);
    sa.detach(local);
    expect(sa.table.remoteOf(mac(1))).toMatchObject({ port: tp, seq: 9 });
  });

  it('a peer without the capability (an older node) is never sent a resync: the log says once that the key waits for its next change', async () => {
    const A = makeHub('a', [l2()], { maxRemotePerSegment: 2 });
    const sa = A.seg('lan') as L2Segment;
    for (const i of [1, 2]) sa.attach(new MemoryPort(`a${i}`), { macLimit: 1, ownMac: mac(i) });
    const { t, cy, lan, got } = await rawPeer(A, ['gso', 'uso', 'segments']);
    expect(t.peerTakesResync).toBe(false);
    const tp = trunkPort(t, sa);
    cy.write(encodeTrunkControl({ type: 'update', segment: lan.id, add: [1, 2, 3, 4].map((i) => [formatMac(mac(i)), 0]) }));
    await until(() => tp.shadowed.size === 2 && sa.remoteCount(tp) === 2);
    for (const i of [3, 4]) {
      const p = new MemoryPort(`local${i}`);
      sa.attach(p, { macLimit: 1, ownMac: mac(i) });
      sa.detach(p);
      expect(sa.table.lookup(mac(i))).toBeUndefined();
    }
    await settle();
    expect(got).not.toContain('resync');
    expect(tp.dropped).toBe(2);
    expect(A.logs.filter((l) => String(l.msg).includes('does not take resync'))).toHaveLength(1);
    expect(await resyncs(A)).toEqual(['el_trunk_resyncs_total{peer="raw",action="unsupported"} 1']);
    // Its next change of the key installs it, as before.
    cy.write(encodeTrunkControl({ type: 'update', segment: lan.id, add: [[formatMac(mac(3)), 0]] }));
    await until(() => sa.table.remoteOf(mac(3))?.port === tp);
  });

  it('refuses a resync unless both hellos named the capability: the trunk ends with EL_ERR_BAD_CONTROL', async () => {
    for (const [what, over, caps] of [
      ['the peer did not name it', {}, ['segments']],
      ['this node did not (an older one)', { resync: false }, ['segments', 'resync']],
    ] as const) {
      const A = makeHub('a', [l2()], over);
      const { t, cy, lan } = await rawPeer(A, [...caps]);
      expect(t.peerTakesResync, what).toBe(false);
      cy.write(encodeTrunkControl({ type: 'resync', segment: lan.id }));
      await until(() => t.state === 'closed');
      expect([t.downReason, t.closeReason], what).toEqual(['error', 'EL_ERR_BAD_CONTROL']);
    }
  });

  it('two current nodes name "resync"; a node with resync: false does not, and asks nothing of the other', async () => {
    const { ta, tb } = await upL2Pair();
    expect([ta.peerTakesResync, tb.peerTakesResync]).toEqual([true, true]);
    const old = await filled(3, { b: { resync: false } });
    expect([old.ta.peerTakesResync, old.tb.peerTakesResync]).toEqual([false, false]);
    const p = old.takeOver(3);
    old.sa.detach(p);
    await settle();
    expect(old.sa.table.lookup(mac(3))).toBeUndefined();
    expect(await resyncs(old.A)).toEqual(['el_trunk_resyncs_total{peer="b",action="unsupported"} 1']);
    expect(await resyncs(old.B)).toEqual([]);
  });
});

describe('trunks: TCP super-frames (FRAME_GSO)', () => {
  const SEGMENTS = Math.ceil(PAYLOAD.length / MSS);

  /** A and B joined by a trunk; on A a gso client (mac 1); on B a gso client (mac 2) and an
   * old one (mac 3), announced to A. */
  async function gsoPair(bOver: Partial<TrunkHubOptions> = {}) {
    const { A, B, ta, tb, sa, sb } = await upL2Pair({ b: bOver });
    const pa = new MemoryPort('pa');
    pa.gso = true;
    const pb = new MemoryPort('pb');
    pb.gso = true;
    const pc = new MemoryPort('pc');
    sa.attach(pa, { macLimit: 1, ownMac: mac(1) });
    sb.attach(pb, { macLimit: 1, ownMac: mac(2) });
    sb.attach(pc, { macLimit: 1, ownMac: mac(3) });
    await until(() => sa.table.remoteOf(mac(2)) !== undefined && sa.table.remoteOf(mac(3)) !== undefined && sb.table.remoteOf(mac(1)) !== undefined);
    return { A, B, ta, tb, sa, sb, pa, pb, pc };
  }

  /** Raw records written into trunk `t` as if its peer had sent them. */
  function record(type: number, payload: Buffer): Buffer {
    return Buffer.concat([Buffer.from([type, payload.length >> 8, payload.length & 0xff]), payload]);
  }

  it('carries a super-frame whole: one FRAME_GSO for a gso client, segments for an old one, unicast and flooded', async () => {
    const { ta, tb, sa, sb, pa, pb, pc } = await gsoPair();
    expect(ta.gso && tb.gso).toBe(true);
    const toB = superPacket({ l2: true, dst: mac(2), src: mac(1) });
    const toC = superPacket({ l2: true, dst: mac(3), src: mac(1) });
    const flood = superPacket({ l2: true, dst: mac(9), src: mac(1) });
    for (const p of [toB, toC, flood]) sa.forward(p.subarray(VNET_HDR_LENGTH), pa, p);
    await until(() => pb.receivedGso.length === 2 && pc.received.length === 2 * SEGMENTS);
    // Three trunk records, not 3 × SEGMENTS: nothing was segmented on A.
    expect(tb.framesIn).toBe(3);
    expect(sa.gsoEgress.segmented).toBe(0);
    expect(pb.receivedGso).toEqual([toB, flood]);
    expect(pb.received).toEqual([]);
    expect(pc.receivedGso).toEqual([]);
    expect(pc.received.every((f) => f.length <= 14 + 20 + 20 + MSS)).toBe(true);
    expect(tcpPayloads(pc.received.slice(0, SEGMENTS), 14)).toEqual(PAYLOAD);
    expect(tcpPayloads(pc.received.slice(SEGMENTS), 14)).toEqual(PAYLOAD);
    // Segmented once on B for each record the old client got (the flood reached pb whole).
    expect(sb.gsoEgress.segmented).toBe(2);
    expect(sb.drops.bad_gso).toBe(0);
  });

  it('a peer without the gso capability gets segmented frames (TRUNK_FRAME), as an older node does', async () => {
    const { ta, tb, sa, pa, pb } = await gsoPair({ gso: false });
    expect(ta.gso).toBe(false);
    expect(tb.gso).toBe(false);
    const toB = superPacket({ l2: true, dst: mac(2), src: mac(1) });
    sa.forward(toB.subarray(VNET_HDR_LENGTH), pa, toB);
    await until(() => pb.received.length === SEGMENTS);
    expect(tb.framesIn).toBe(SEGMENTS);
    expect(sa.gsoEgress.segmented).toBe(1);
    expect(pb.receivedGso).toEqual([]);
    expect(tcpPayloads(pb.received, 14)).toEqual(PAYLOAD);
    // B never agreed: a TRUNK_FRAME_GSO from A breaks the protocol and ends the trunk.
    const id = [...tb.ports.keys()][0]!;
    const idBytes = Buffer.alloc(4);
    idBytes.writeUInt32BE(id);
    ta.conn.write(record(RecordType.TRUNK_FRAME_GSO, Buffer.concat([idBytes, toB])));
    await until(() => tb.state === 'closed');
    expect(tb.closeReason).toBe('EL_ERR_UNKNOWN_RECORD');
  });

  it('segments before the trunk a super-frame too long for one record with the segment id', async () => {
    const { tb, sa, pa, pb } = await gsoPair();
    const payload = Buffer.alloc(MAX_TRUNK_GSO_PAYLOAD + 1 - VNET_HDR_LENGTH - 14 - 20 - 20, 0x5a);
    const big = superPacket({ l2: true, dst: mac(2), src: mac(1), payload });
    expect(big.length).toBe(MAX_TRUNK_GSO_PAYLOAD + 1);
    sa.forward(big.subarray(VNET_HDR_LENGTH), pa, big);
    const n = Math.ceil(payload.length / MSS);
    await until(() => pb.received.length === n);
    expect(tb.framesIn).toBe(n);
    expect(pb.receivedGso).toEqual([]);
    expect(tcpPayloads(pb.received, 14)).toEqual(payload);
  });

  it('drops and counts malformed TRUNK_FRAME_GSO records and keeps the trunk up', async () => {
    const { ta, tb, sb, pb, pc } = await gsoPair();
    const id = [...tb.ports.keys()][0]!;
    const idBytes = Buffer.alloc(4);
    idBytes.writeUInt32BE(id);
    const other = Buffer.alloc(4);
    other.writeUInt32BE((id + 1) >>> 0);
    const good = superPacket({ l2: true, dst: mac(3), src: mac(1) });
    // A header asking for UDP fragmentation (gso_type 3), which EL does not do.
    const udp = Buffer.from(good);
    udp[1] = 3;
    ta.conn.write(
      Buffer.concat([
        record(RecordType.TRUNK_FRAME_GSO, Buffer.from([1, 2])), // no segment id: refused
        record(RecordType.TRUNK_FRAME_GSO, Buffer.concat([other, good])), // a segment not shared: refused
        record(RecordType.TRUNK_FRAME_GSO, Buffer.concat([idBytes, good.subarray(0, VNET_HDR_LENGTH - 1)])), // shorter than the header: bad_gso
        record(RecordType.TRUNK_FRAME_GSO, Buffer.concat([idBytes, udp])), // bad header, for an old client: bad_gso
      ]),
    );
    await until(() => tb.refusedFrames === 2 && sb.drops.bad_gso === 2);
    expect(tb.state).toBe('up');
    expect(pc.received).toEqual([]);
    expect(pb.receivedGso).toEqual([]);
    // The trunk still carries good ones.
    ta.conn.write(record(RecordType.TRUNK_FRAME_GSO, Buffer.concat([idBytes, good])));
    await until(() => pc.received.length === SEGMENTS);
    expect(tcpPayloads(pc.received, 14)).toEqual(PAYLOAD);
  });

  it('L3: a super-packet crosses whole to a gso client and segmented to an old one (a hop at each node, as for a plain packet)', async () => {
    const def = segment({ name: 'net', mode: 'l3', ipv4: { pool: '198.19.8.0/24' } });
    const sa = new L3Segment(def, new L3Router());
    const sb = new L3Segment(def, new L3Router());
    const A = makeHub('a', [sa]);
    const B = makeHub('b', [sb]);
    const [ta, tb] = link(A, B);
    await until(() => ta.state === 'up' && tb.state === 'up');
    const pa = new MemoryPort('pa');
    pa.gso = true;
    const pb = new MemoryPort('pb');
    pb.gso = true;
    const pc = new MemoryPort('pc');
    expect(sa.attach(pa, { prefixes: [parsePrefix('198.19.8.10/32')!] }).ok).toBe(true);
    expect(sb.attach(pb, { prefixes: [parsePrefix('198.19.8.20/32')!] }).ok).toBe(true);
    expect(sb.attach(pc, { prefixes: [parsePrefix('198.19.8.30/32')!] }).ok).toBe(true);
    await until(() => sa.remoteCount() === 2 && sb.remoteCount() === 1);
    const toB = superPacket({ l2: false, srcIp: [198, 19, 8, 10], dstIp: [198, 19, 8, 20] });
    const toC = superPacket({ l2: false, srcIp: [198, 19, 8, 10], dstIp: [198, 19, 8, 30] });
    for (const p of [toB, toC]) sa.forward(p.subarray(VNET_HDR_LENGTH), pa, p);
    await until(() => pb.receivedGso.length === 1 && pc.received.length === SEGMENTS);
    expect(tb.framesIn).toBe(2);
    const got = pb.receivedGso[0]!;
    // Each node is a router hop: TTL 64 → 62, the header checksum updated.
    expect(got[VNET_HDR_LENGTH + 8]).toBe(62);
    expect(foldChecksum(sum16(got, VNET_HDR_LENGTH, VNET_HDR_LENGTH + 20))).toBe(0);
    expect(got.subarray(VNET_HDR_LENGTH + 20)).toEqual(toB.subarray(VNET_HDR_LENGTH + 20));
    expect(pc.received.every((p) => p[8] === 62)).toBe(true);
    expect(tcpPayloads(pc.received, 0)).toEqual(PAYLOAD);
  });
});

describe('trunks: UDP super-frames (uso)', () => {
  /** 16 datagrams of 18 payload bytes (64-byte frames), the last of 5. */
  const N = 16;
  const flow = (dst: number) => ({ l2: true, dst, src: mac(1) });

  /** Raw records, as a peer writes them. */
  function record(type: number, payload: Buffer): Buffer {
    return Buffer.concat([Buffer.from([type, payload.length >> 8, payload.length & 0xff]), payload]);
  }

  it('crosses whole between nodes that both name "uso": one record, then whole to a uso client, datagrams to the others', async () => {
    const { A, ta, tb, sa, sb } = await upL2Pair();
    expect([ta.uso, tb.uso]).toEqual([true, true]);
    expect(A.hub.stats()[0]).toMatchObject({ gso: true, uso: true });
    const pa = Object.assign(new MemoryPort('pa'), { gso: true, uso: true });
    const pb = Object.assign(new MemoryPort('pb'), { gso: true, uso: true });
    const pc = Object.assign(new MemoryPort('pc'), { gso: true });
    const pd = new MemoryPort('pd');
    sa.attach(pa, { macLimit: 1, ownMac: mac(1) });
    sb.attach(pb, { macLimit: 1, ownMac: mac(2) });
    sb.attach(pc, { macLimit: 1, ownMac: mac(3) });
    sb.attach(pd, { macLimit: 1, ownMac: mac(4) });
    await until(() => [2, 3, 4].every((n) => sa.table.remoteOf(mac(n)) !== undefined) && sb.table.remoteOf(mac(1)) !== undefined);
    const toB = udpSuperFrame(flow(mac(2)), N, 18, 5);
    const toC = udpSuperFrame(flow(mac(3)), N, 18, 5);
    const flood = udpSuperFrame(flow(BROADCAST), N, 18, 5);
    for (const x of [toB, toC, flood]) sa.forward(x.packet.subarray(VNET_HDR_LENGTH), pa, x.packet);
    await until(() => pb.receivedGso.length === 2 && pc.received.length === 2 * N && pd.received.length === N);
    // Three trunk records, nothing segmented on A.
    expect(tb.framesIn).toBe(3);
    expect(sa.gsoEgress.segmented).toBe(0);
    expect(pb.receivedGso).toEqual([toB.packet, flood.packet]);
    expect(pc.receivedGso).toEqual([]);
    expect(pc.received).toEqual([...toC.wire, ...flood.wire]);
    expect(pd.received).toEqual(flood.wire);
    expect(udpPayloads(pd.received, 14)).toEqual(flood.payloads);
    // On B: toC once, the flood once (for pc and pd together).
    expect(sb.gsoEgress.segmented).toBe(2);
    expect(sb.drops.bad_gso).toBe(0);
  });

  it('to a peer that names "gso" but not "uso" (an older node): UDP super-frames leave as datagrams, TCP ones whole; its UDP_L4 records are dropped as bad_gso', async () => {
    const A = makeHub('a', [l2()]);
    const sa = A.seg('lan') as L2Segment;
    const pa = Object.assign(new MemoryPort('pa'), { gso: true, uso: true });
    sa.attach(pa, { macLimit: 1, ownMac: mac(1) });
    const [cx, cy] = memoryRecordConnPair();
    const ekm = Buffer.alloc(32, 7);
    const ta = A.hub.connect(cx, 'dial', ekm);
    // The older node: answers trunk_hello with caps ["gso"] and keeps what it is sent.
    const got: { type: number; payload: Buffer }[] = [];
    let segId = -1;
    cy.accept(RecordType.TRUNK_CONTROL, MAX_CONTROL_PAYLOAD);
    cy.accept(RecordType.TRUNK_FRAME, MAX_RECORD_PAYLOAD);
    cy.accept(RecordType.TRUNK_FRAME_GSO, MAX_RECORD_PAYLOAD);
    cy.start({
      onRecord(type, payload) {
        got.push({ type, payload: Buffer.from(payload) });
        if (type !== RecordType.TRUNK_CONTROL) return;
        const msg = parseTrunkControl(payload);
        if (msg.type !== 'trunk_hello') return;
        segId = msg.segments[0]!.id;
        cy.write(encodeTrunkControl({ type: 'trunk_hello', version: TRUNK_PROTOCOL_VERSION, node: 'old', role: 'accept', proof: trunkProof(SECRET, 'accept', 'old', ekm).toString('base64'), segments: msg.segments, caps: ['gso'] }));
      },
      onError(err) {
        throw err;
      },
      onClose() {},
    });
    await until(() => ta.state === 'up');
    expect([ta.gso, ta.uso]).toEqual([true, false]);
    const udp = udpSuperFrame(flow(BROADCAST), N, 18, 5);
    const tcp = superPacket({ l2: true, dst: BROADCAST, src: mac(1) });
    for (const p of [udp.packet, tcp]) sa.forward(p.subarray(VNET_HDR_LENGTH), pa, p);
    const frames = () => got.filter((r) => r.type === RecordType.TRUNK_FRAME);
    const gsos = () => got.filter((r) => r.type === RecordType.TRUNK_FRAME_GSO);
    await until(() => frames().length === N && gsos().length === 1);
    expect(frames().map((r) => r.payload.readUInt32BE(0))).toEqual(Array<number>(N).fill(segId));
    expect(frames().map((r) => r.payload.subarray(4))).toEqual(udp.wire);
    expect(gsos()[0]!.payload.subarray(4)).toEqual(tcp);
    expect(sa.gsoEgress.segmented).toBe(1);
    // Its UDP_L4 record, from a MAC it announced, would reach A's uso client whole: dropped
    // at the trunk instead.
    cy.write(encodeTrunkControl({ type: 'update', segment: segId, add: [[formatMac(mac(7)), 1]] }));
    await until(() => sa.table.remoteOf(mac(7)) !== undefined);
    const id = Buffer.alloc(4);
    id.writeUInt32BE(segId);
    const fromOld = udpSuperFrame({ l2: true, dst: mac(1), src: mac(7) }, N, 18).packet;
    cy.write(record(RecordType.TRUNK_FRAME_GSO, Buffer.concat([id, fromOld])));
    await until(() => sa.drops.bad_gso === 1);
    expect(ta.inDrops.bad_gso).toBe(1);
    expect(ta.state).toBe('up');
    await settle();
    expect(pa.receivedGso).toEqual([]);
    expect(pa.received).toEqual([]);
  });
});

