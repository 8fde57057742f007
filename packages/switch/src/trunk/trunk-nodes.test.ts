/**
 * Two SwitchNodes in one process joined by a real TLS trunk (static peers): frames of an
 * L2 segment cross it, a TCP and a UDP super-frame cross whole (TRUNK_FRAME_GSO), a wrong secret
 * is refused, and the node's stats show the trunk. A segment added to a node opens over the
 * trunk that is up (no gap in the other), or, to an older peer, after a reconnect.
 */
import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { useSwitchHarness, segment, type TestNode } from '../testing/test-node.js';
import { BROADCAST, ethFrame, mac } from '../testing/test-frames.js';
import { MemoryPort } from '../ports/memory-port.js';
import { nodeReportSchema, VNET_HDR_LENGTH } from '@elink/protocol';
import { createCertificateAuthority, issueNodeCertificate, type CertificateAuthority } from '@elink/pki';
import { nodeReport } from '../node/node-report.js';
import { superPacket, udpSuperFrame } from '../testing/test-gso.js';
import type { L2Segment } from '../core/l2/l2-segment.js';
import { trunkCredentials } from './trunk-credentials.js';
import type { L3Segment } from '../core/l3/l3-segment.js';
import { parsePrefix } from '../core/l3/ip.js';
import { requireNetnsOrSkip } from '../../../../test/lib/netns.js';

const SECRET = 'trunk-secret-0123456789';
/** DTCP's 6in4 plane opens a raw protocol-41 socket: root (as the netns tests; never skipped in CI). */
const rawSockets = requireNetnsOrSkip();

async function until(cond: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('trunk between two nodes', () => {
  const h = useSwitchHarness();

  async function pair(secretB = SECRET): Promise<[TestNode, TestNode]> {
    const b = await h.node({ nodeId: 'node-b', segments: [segment({ name: 'lan' }), segment({ name: 'only-b' })], trunk: { secret: secretB, port: 0, host: '127.0.0.1' } });
    const bPort = b.node.trunks!.address().port;
    const a = await h.node({ nodeId: 'node-a', segments: [segment({ name: 'lan' })], trunk: { secret: SECRET, port: 0, host: '127.0.0.1', peers: [`127.0.0.1:${bPort}`], reconnectMinMs: 20, reconnectMaxMs: 200 } });
    return [a, b];
  }

  it('carries L2 frames both ways: flooded, then unicast to the node that has the MAC', async () => {
    const [a, b] = await pair();
    await until(() => a.node.trunks!.upCount === 1 && b.node.trunks!.upCount === 1);
    const segA = a.node.segmentByName('lan') as L2Segment;
    const segB = b.node.segmentByName('lan') as L2Segment;
    const pa = new MemoryPort('a1');
    const pb = new MemoryPort('b1');
    segA.attach(pa, { macLimit: 1, pinFirstSource: true });
    segB.attach(pb, { macLimit: 1, pinFirstSource: true });

    segA.forward(ethFrame(BROADCAST, mac(1), 'who is there'), pa);
    await until(() => pb.received.length === 1);
    expect(pb.received[0].subarray(14).toString()).toBe('who is there');
    // A announced mac(1); B answers by unicast over the trunk.
    await until(() => segB.table.lookup(mac(1)) !== undefined);
    segB.forward(ethFrame(mac(1), mac(2), 'here'), pb);
    await until(() => pa.received.length === 1);
    expect(pa.received[0].subarray(14).toString()).toBe('here');
    await until(() => segA.table.lookup(mac(2)) !== undefined);
    expect(segA.table.remoteOf(mac(2))?.port.kind).toBe('trunk');

    const st = a.node.stats.trunks!;
    expect(st).toHaveLength(1);
    expect(st[0]).toMatchObject({ peer: 'node-b', state: 'up', segments: ['lan'] });
    expect(st[0].framesOut).toBeGreaterThanOrEqual(1);
    expect(a.node.stats.segments.lan.remote).toBe(1);
    const metrics = await a.registry.metrics();
    expect(metrics).toContain('el_trunk_up{peer="node-b"} 1');
    expect(metrics).toMatch(/el_trunk_frames_total\{peer="node-b",direction="in"\} [1-9]/);
    expect(metrics).toContain(`el_trunk_remote_endpoints{segment="lan"} 1`);

    // The console's report (heartbeat `report.trunks`): the trunk up, its traffic and endpoints.
    const up = nodeReportSchema.parse(nodeReport(a.node)).trunks!;
    expect(up).toEqual([expect.objectContaining({ peer: 'node-b', state: 'up', role: 'dial', segments: ['lan'], announced: 1, learned: 1 })]);
    expect(up[0]!.framesOut).toBeGreaterThanOrEqual(1);
    expect(up[0]!.bytesIn).toBeGreaterThan(0);

    // The trunk breaks: what A learned over it is withdrawn at once (synchronously).
    a.node.trunks!.trunkTo('node-b')!.close('shutdown');
    expect(segA.table.remoteOf(mac(2))).toBeUndefined();
    expect(segA.remoteCount()).toBe(0);
    expect(a.node.trunks!.upCount).toBe(0);
    // Reported down, with the traffic it carried kept.
    const down = nodeReport(a.node).trunks!;
    expect(down).toEqual([expect.objectContaining({ peer: 'node-b', state: 'down', segments: [], announced: 0, learned: 0, framesOut: up[0]!.framesOut })]);
    // … and the dialer reconnects with backoff, then the full table sync brings it back.
    await until(() => a.node.trunks!.upCount === 1 && segA.table.remoteOf(mac(2)) !== undefined);
  });

  it('carries a TCP and a UDP super-frame whole between gso+uso ports (one TRUNK_FRAME_GSO each over TLS)', async () => {
    const [a, b] = await pair();
    await until(() => a.node.trunks!.upCount === 1 && b.node.trunks!.upCount === 1);
    expect(a.node.stats.trunks![0]).toMatchObject({ peer: 'node-b', state: 'up', gso: true, uso: true });
    const segA = a.node.segmentByName('lan') as L2Segment;
    const segB = b.node.segmentByName('lan') as L2Segment;
    const pa = new MemoryPort('a1');
    pa.gso = true;
    pa.uso = true;
    const pb = new MemoryPort('b1');
    pb.gso = true;
    pb.uso = true;
    segA.attach(pa, { macLimit: 1, ownMac: mac(1) });
    segB.attach(pb, { macLimit: 1, ownMac: mac(2) });
    await until(() => segA.table.remoteOf(mac(2)) !== undefined && segB.table.remoteOf(mac(1)) !== undefined);
    const sp = superPacket({ l2: true, dst: mac(2), src: mac(1) });
    segA.forward(sp.subarray(VNET_HDR_LENGTH), pa, sp);
    await until(() => pb.receivedGso.length === 1);
    expect(pb.receivedGso[0]).toEqual(sp);
    expect(b.node.stats.trunks![0]).toMatchObject({ framesIn: 1, bytesIn: 4 + sp.length });
    const udp = udpSuperFrame({ l2: true, dst: mac(2), src: mac(1) }, 32, 18).packet;
    segA.forward(udp.subarray(VNET_HDR_LENGTH), pa, udp);
    await until(() => pb.receivedGso.length === 2);
    expect(pb.receivedGso[1]).toEqual(udp);
    expect(b.node.stats.trunks![0]).toMatchObject({ framesIn: 2, bytesIn: 8 + sp.length + udp.length });
    expect(segA.gsoEgress.segmented).toBe(0);
  });

  it('a segment added while the trunk is up opens over it: no trunk down, endpoints both ways, frames in it, and the other segment carries on without a gap', async () => {
    const [a, b] = await pair();
    await until(() => a.node.trunks!.upCount === 1 && b.node.trunks!.upCount === 1);
    const trunk = a.node.trunks!.trunkTo('node-b')!;
    const lanA = a.node.segmentByName('lan') as L2Segment;
    const lanB = b.node.segmentByName('lan') as L2Segment;
    const la = new MemoryPort('a-lan');
    const lb = new MemoryPort('b-lan');
    lanA.attach(la, { macLimit: 1, ownMac: mac(1) });
    lanB.attach(lb, { macLimit: 1, ownMac: mac(2) });
    const onlyB = b.node.segmentByName('only-b') as L2Segment;
    const ob = new MemoryPort('b-only');
    onlyB.attach(ob, { macLimit: 1, ownMac: mac(12) });
    await until(() => lanA.table.remoteOf(mac(2)) !== undefined);
    // Frames in lan right before and right after A starts hosting only-b, in one turn.
    const N = 50;
    const send = (from: number): void => {
      for (let i = from; i < from + N; i++) lanA.forward(ethFrame(mac(2), mac(1), `lan ${i}`), la);
    };
    send(0);
    expect(a.node.addSegment(segment({ name: 'only-b' }))).toBe(true);
    send(N);
    await until(() => lb.received.length === 2 * N);
    expect(lb.received.map((f) => f.subarray(14).toString())).toEqual(Array.from({ length: 2 * N }, (_, i) => `lan ${i}`));
    // only-b is carried now: its endpoints cross both ways, and frames in it.
    const onlyA = a.node.segmentByName('only-b') as L2Segment;
    const oa = new MemoryPort('a-only');
    onlyA.attach(oa, { macLimit: 1, ownMac: mac(11) });
    await until(() => onlyA.table.remoteOf(mac(12)) !== undefined && onlyB.table.remoteOf(mac(11)) !== undefined);
    onlyA.forward(ethFrame(mac(12), mac(11), 'in only-b'), oa);
    onlyB.forward(ethFrame(mac(11), mac(12), 'back'), ob);
    await until(() => ob.received.length === 1 && oa.received.length === 1);
    expect(ob.received[0]!.subarray(14).toString()).toBe('in only-b');
    // The same trunk, never down.
    expect(a.node.trunks!.trunkTo('node-b')).toBe(trunk);
    expect(a.node.stats.trunks![0]).toMatchObject({ state: 'up', segments: ['lan', 'only-b'] });
    expect(b.node.stats.trunks![0]).toMatchObject({ state: 'up', segments: ['lan', 'only-b'] });
    for (const n of [a, b]) expect(await n.registry.metrics()).not.toContain('el_trunk_downs_total{');
    expect(a.logs.find((l) => l.msg === 'trunk segments added')).toMatchObject({ peer: 'node-b', segments: ['only-b'] });
    expect(b.logs.find((l) => l.msg === 'trunk segments added')).toMatchObject({ peer: 'node-a', segments: ['only-b'] });
  });

  it('a client admitted again at the other node while its old session here is not dead yet: the old one ends (superseded) at once, and clients here reach the new one', async () => {
    const [a, b] = await pair();
    await until(() => a.node.trunks!.upCount === 1 && b.node.trunks!.upCount === 1);
    const segB = b.node.segmentByName('lan') as L2Segment;
    const old = h.clients[h.clients.push(await a.connect()) - 1]!;
    await old.join(h.fx.ticket({ sub: 'alice', dev: 'phone' }), mac(1));
    const here = h.clients[h.clients.push(await a.connect()) - 1]!;
    await here.join(h.fx.ticket({ sub: 'bob', dev: 'pc' }), mac(2));
    await until(() => segB.table.remoteOf(mac(1)) !== undefined && segB.table.remoteOf(mac(2)) !== undefined);
    // Its connection to A broke where A cannot see it (no FIN), and it logs in at B more
    // than a second later (two sessions of one device begun closer are left alone).
    await new Promise((r) => setTimeout(r, 1100));
    const fresh = h.clients[h.clients.push(await b.connect()) - 1]!;
    await fresh.join(h.fx.ticket({ sub: 'alice', dev: 'phone' }), mac(1));
    await until(() => old.closed);
    expect(old.controls.at(-1)).toEqual({ type: 'bye', reason: 'superseded' });
    expect(a.logs.find((l) => l.msg === 'the device connected again at another node: session superseded')).toMatchObject({ user: 'alice', device: 'phone', segment: 'lan', node: 'node-b' });
    await until(() => a.node.stats.closed.superseded === 1);
    here.sendFrames([ethFrame(mac(1), mac(2), 'to alice')]);
    await until(() => fresh.frames.length === 1);
    expect(fresh.payloads()).toEqual(['to alice']);
    expect(fresh.closed).toBe(false);
    expect(b.node.stats.closed.superseded ?? 0).toBe(0);
  });

  it.skipIf(!rawSockets)('a DTCP host that opened a tunnel again at the other node while its tunnel here is not dead yet: the old one ends (superseded) and its routes go to the peer', async () => {
    const six = () => segment({ name: 'six', mode: 'l3', ipv6: { pool: 'fd00:e1:61::/64' } });
    const b = await h.node({ nodeId: 'node-b', segments: [six()], trunk: { secret: SECRET, port: 0, host: '127.0.0.1' } });
    const a = await h.node({ nodeId: 'node-a', segments: [six()], trunk: { secret: SECRET, port: 0, host: '127.0.0.1', peers: [`127.0.0.1:${b.node.trunks!.address().port}`], reconnectMinMs: 20, reconnectMaxMs: 200 } });
    await until(() => a.node.trunks!.upCount === 1 && b.node.trunks!.upCount === 1);
    const [segA, segB] = [a.node.segmentByName('six') as L3Segment, b.node.segmentByName('six') as L3Segment];
    const host = parsePrefix('fd00:e1:61::10/128')!;
    const spec = { segment: 'six', serverV4: '127.0.0.1', user: 'phone', device: 'dtcp', sources: ['fd00:e1:61::10/128'], routes: ['fd00:e1:61::10/128'] };
    const closed: string[] = [];
    a.node.sixInFourPlane().open({ ...spec, clientV4: '127.0.0.21', onClosed: (r) => closed.push(r) });
    await until(() => segB.ownerOf(host)?.kind === 'trunk');
    // The host's address changed where A cannot see it (its DTCP connection idles on), and
    // it sets up its tunnel at B more than a second later.
    await new Promise((r) => setTimeout(r, 1100));
    b.node.sixInFourPlane().open({ ...spec, clientV4: '127.0.0.22' });
    await until(() => closed.length === 1);
    expect(closed).toEqual(['superseded']);
    expect(a.logs.find((l) => l.msg === 'the host opened a tunnel again at another node: tunnel superseded')).toMatchObject({ user: 'phone', device: 'dtcp', segment: 'six', node: 'node-b' });
    await until(() => segA.ownerOf(host)?.kind === 'trunk');
    expect(segB.ownerOf(host)?.kind).toBe('6in4');
  });

  it('a peer without the "segments" capability (an older node): the trunk is closed (segments_changed) and dialed again with the new set', async () => {
    const b = await h.node({ nodeId: 'node-b', segments: [segment({ name: 'lan' }), segment({ name: 'only-b' })], trunk: { secret: SECRET, port: 0, host: '127.0.0.1', liveSegments: false } });
    const peers = [`127.0.0.1:${b.node.trunks!.address().port}`];
    const a = await h.node({ nodeId: 'node-a', segments: [segment({ name: 'lan' })], trunk: { secret: SECRET, port: 0, host: '127.0.0.1', peers, reconnectMinMs: 20, reconnectMaxMs: 200 } });
    await until(() => a.node.trunks!.upCount === 1 && b.node.trunks!.upCount === 1);
    const first = a.node.trunks!.trunkTo('node-b')!;
    a.node.addSegment(segment({ name: 'only-b' }));
    expect(first.state).toBe('closed');
    await until(() => a.node.trunks!.trunkTo('node-b')?.state === 'up' && b.node.trunks!.trunkTo('node-a')?.state === 'up');
    expect(a.node.stats.trunks![0]).toMatchObject({ state: 'up', segments: ['lan', 'only-b'] });
    expect(await a.registry.metrics()).toContain('el_trunk_downs_total{peer="node-b",reason="segments_changed"} 1');
    expect(a.logs.some((l) => l.msg === 'trunk segments added')).toBe(false);
  });

  it("dials a peer's hosts in turn: up over the second when the first refuses, and back to it after a break", async () => {
    const b = await h.node({ nodeId: 'node-b', segments: [segment({ name: 'lan' })], trunk: { secret: SECRET, port: 0, host: '127.0.0.1' } });
    const port = b.node.trunks!.address().port;
    const a = await h.node({ nodeId: 'node-a', segments: [segment({ name: 'lan' })], trunk: { secret: SECRET, port: 0, host: '127.0.0.1', reconnectMinMs: 20, reconnectMaxMs: 200 } });
    // As from a heartbeat reply: B advertises first an address nothing listens on here
    // (127.0.0.254 on loopback refuses at once), then the one it does.
    a.node.trunks!.setPeers([{ node: 'node-b', hosts: ['127.0.0.254', '127.0.0.1'], port }]);
    await until(() => a.node.trunks!.upCount === 1 && b.node.trunks!.upCount === 1);
    expect(a.node.stats.trunks![0]).toMatchObject({ peer: 'node-b', role: 'dial', state: 'up', address: `127.0.0.1:${port}` });
    const dialed = a.logs.filter((l) => l.msg === 'trunk dialed');
    expect(dialed).toHaveLength(1);
    expect(dialed[0]).toMatchObject({ peer: 'node-b', host: '127.0.0.1', port, hosts: 2 });
    const count = async (result: string): Promise<number> => Number(new RegExp(`^el_trunk_connects_total\\{peer="node-b",result="${result}"\\} (\\d+)$`, 'm').exec(await a.registry.metrics())?.[1] ?? 0);
    expect(await count('ok')).toBe(1);
    const errors = await count('error');
    expect(errors).toBeGreaterThanOrEqual(1);

    // The trunk breaks: A dials again, first the host that worked (no new failed connect).
    a.node.trunks!.trunkTo('node-b')!.close('shutdown');
    expect(a.node.trunks!.upCount).toBe(0);
    await until(() => a.node.trunks!.upCount === 1 && b.node.trunks!.upCount === 1);
    expect(await count('ok')).toBe(2);
    expect(await count('error')).toBe(errors);
    expect(a.logs.filter((l) => l.msg === 'trunk dialed').map((l) => l.host)).toEqual(['127.0.0.1', '127.0.0.1']);
  });

  it('keeps trying every host with backoff while none answers, and forms once one does', async () => {
    const a = await h.node({ nodeId: 'node-a', segments: [segment({ name: 'lan' })], trunk: { secret: SECRET, port: 0, host: '127.0.0.1', reconnectMinMs: 20, reconnectMaxMs: 100 } });
    // A port nothing listens on yet: both hosts refuse, round after round.
    const b = await h.node({ nodeId: 'node-b', segments: [segment({ name: 'lan' })], trunk: { secret: SECRET, port: 0, host: '127.0.0.1' } });
    const port = b.node.trunks!.address().port;
    a.node.trunks!.setPeers([{ node: 'node-b', hosts: ['127.0.0.254', '127.0.0.253'], port }]);
    const errors = async (): Promise<number> => Number(/^el_trunk_connects_total\{peer="node-b",result="error"\} (\d+)$/m.exec(await a.registry.metrics())?.[1] ?? 0);
    await until(async () => (await errors()) >= 6);
    expect(a.node.trunks!.upCount).toBe(0);
    // The next heartbeat adds the host that answers: the trunk forms over it.
    a.node.trunks!.setPeers([{ node: 'node-b', hosts: ['127.0.0.254', '127.0.0.253', '127.0.0.1'], port }]);
    await until(() => a.node.trunks!.upCount === 1 && b.node.trunks!.upCount === 1);
    expect(a.logs.find((l) => l.msg === 'trunk dialed')).toMatchObject({ host: '127.0.0.1', hosts: 3 });
  });

  it('refuses a peer with the wrong secret: logged, counted, closed', async () => {
    const [a, b] = await pair('another-secret-987654321');
    await until(() => b.logs.some((l) => l.code === 'EL_ERR_TRUNK_AUTH' || String(l.msg).includes('trunk connections refused')));
    expect(a.node.trunks!.upCount).toBe(0);
    expect(b.node.trunks!.upCount).toBe(0);
    await until(async () => (await b.registry.metrics()).includes('result="auth_failed"'));
  });

  it('a stranger holding idle connections on the trunk port cannot crowd out a peer', async () => {
    const b = await h.node({ nodeId: 'node-b', segments: [segment({ name: 'lan' })], trunk: { secret: SECRET, port: 0, host: '127.0.0.1' } });
    const port = b.node.trunks!.address().port;
    // Ten idle TCP connections from another source (127.0.0.2): a few are admitted, the rest closed at accept.
    const strangers: Socket[] = [];
    const closed: boolean[] = [];
    for (let i = 0; i < 10; i++) {
      const s = connect({ host: '127.0.0.1', port, localAddress: '127.0.0.2' });
      s.on('error', () => {});
      const at = strangers.push(s) - 1;
      closed[at] = false;
      s.on('close', () => (closed[at] = true));
    }
    try {
      const refused = async (): Promise<number> => {
        let n = 0;
        for (const m of (await b.registry.metrics()).matchAll(/^el_listener_connections_refused_total\{listener="trunk",reason="[a-z_]+"\} (\d+)$/gm)) n += Number(m[1]);
        return n;
      };
      // 4 pending per source at most, 5 new ones a second: the other 6 are refused.
      await until(async () => (await refused()) === 6 && closed.filter(Boolean).length === 6);
      const a = await h.node({ nodeId: 'node-a', segments: [segment({ name: 'lan' })], trunk: { secret: SECRET, port: 0, host: '127.0.0.1', peers: [`127.0.0.1:${port}`] } });
      await until(() => a.node.trunks!.upCount === 1 && b.node.trunks!.upCount === 1);
      expect(closed.filter(Boolean).length).toBe(6);
    } finally {
      for (const s of strangers) s.destroy();
    }
  });
});

describe('trunks with a cluster CA (switch.trunk.ca)', () => {
  const h = useSwitchHarness();

  it("comes up on certificates of the cluster CA naming each node; refuses a certificate of another CA and a node showing another node's certificate, and counts both", async () => {
    const ca = await createCertificateAuthority('cluster CA');
    const other = await createCertificateAuthority('another CA');
    const identity = async (authority: CertificateAuthority, node: string) => {
      const c = await issueNodeCertificate(authority, node);
      return { ca: authority.certPem, cert: c.certPem, key: c.keyPem };
    };
    const trunk = { secret: '', port: 0, host: '127.0.0.1', reconnectMinMs: 20, reconnectMaxMs: 200 };
    const b = await h.node({ nodeId: 'node-b', segments: [segment({ name: 'lan' })], trunk: { ...trunk, clusterCa: await identity(ca, 'node-b') } });
    const peers = [`127.0.0.1:${b.node.trunks!.address().port}`];
    const a = await h.node({ nodeId: 'node-a', segments: [segment({ name: 'lan' })], trunk: { ...trunk, peers, clusterCa: await identity(ca, 'node-a') } });
    await until(() => a.node.trunks!.upCount === 1 && b.node.trunks!.upCount === 1);
    const segA = a.node.segmentByName('lan') as L2Segment;
    const segB = b.node.segmentByName('lan') as L2Segment;
    const pb = new MemoryPort('b1');
    const pa = new MemoryPort('a1');
    segB.attach(pb, { macLimit: 1, pinFirstSource: true });
    segA.attach(pa, { macLimit: 1, pinFirstSource: true });
    segA.forward(ethFrame(BROADCAST, mac(1), 'over the certified trunk'), pa);
    await until(() => pb.received.length === 1);

    const count = async (node: TestNode, result: string): Promise<number> => {
      const v = (await node.registry.getSingleMetric('el_trunk_connects_total')!.get()).values.filter((x) => x.labels.result === result);
      return v.reduce((n, x) => n + x.value, 0);
    };
    // A node showing a certificate of another CA: refused in the TLS handshake by B.
    const foreign = await identity(other, 'node-x');
    const x = await h.node({ nodeId: 'node-x', segments: [segment({ name: 'lan' })], trunk: { ...trunk, peers, clusterCa: { ...foreign, ca: ca.certPem } } });
    await until(async () => (await count(b, 'cert_refused')) >= 1);
    await until(() => b.logs.some((l) => JSON.stringify(l).includes('cluster CA')));
    // A node trusting another CA refuses B's certificate when it dials.
    const y = await h.node({ nodeId: 'node-y', segments: [segment({ name: 'lan' })], trunk: { ...trunk, peers, clusterCa: await identity(other, 'node-y') } });
    await until(async () => (await count(y, 'cert_refused')) >= 1);
    expect(x.node.trunks!.upCount + y.node.trunks!.upCount).toBe(0);
    // A node of the right CA that shows node-a's certificate but says it is node-c.
    const stolen = await identity(ca, 'node-a');
    const c = await h.node({ nodeId: 'node-c', segments: [segment({ name: 'lan' })], trunk: { ...trunk, peers, clusterCa: stolen } });
    await until(async () => (await count(b, 'cert_mismatch')) >= 1);
    expect(c.node.trunks!.upCount).toBe(0);
    // B told it why (an error record naming EL_ERR_TRUNK_CERT), and it logged that.
    await until(() => c.logs.some((l) => JSON.stringify(l).includes('EL_ERR_TRUNK_CERT')));
    // The certified trunk is untouched.
    expect(b.node.trunks!.upCount).toBe(1);
    expect(b.node.trunks!.trunkTo('node-a')?.state).toBe('up');
  });

  it('rotates the cluster CA live: the next handshakes in both directions use the new files, established trunks stay, a certificate of the old CA is refused after', async () => {
    const oldCa = await createCertificateAuthority('old cluster CA');
    const newCa = await createCertificateAuthority('new cluster CA');
    const certs = async (authority: CertificateAuthority) => ({ a: await issueNodeCertificate(authority, 'node-a'), b: await issueNodeCertificate(authority, 'node-b') });
    const [oldCerts, newCerts] = [await certs(oldCa), await certs(newCa)];
    const files = (ca: string, c: { certPem: string; keyPem: string }) => ({ ca, cert: c.certPem, key: c.keyPem });
    const trunk = { secret: '', port: 0, host: '127.0.0.1', reconnectMinMs: 20, reconnectMaxMs: 200 };
    const b = await h.node({ nodeId: 'node-b', segments: [segment({ name: 'lan' })], trunk: { ...trunk, clusterCa: files(oldCa.certPem, oldCerts.b) } });
    const peers = [`127.0.0.1:${b.node.trunks!.address().port}`];
    const a = await h.node({ nodeId: 'node-a', segments: [segment({ name: 'lan' })], trunk: { ...trunk, peers, clusterCa: files(oldCa.certPem, oldCerts.a) } });
    const upBoth = () => a.node.trunks!.trunkTo('node-b')?.state === 'up' && b.node.trunks!.trunkTo('node-a')?.state === 'up';
    await until(upBoth);
    const established = a.node.trunks!.trunkTo('node-b')!;
    const count = async (node: TestNode, result: string): Promise<number> => {
      const v = (await node.registry.getSingleMetric('el_trunk_connects_total')!.get()).values.filter((x) => x.labels.result === result);
      return v.reduce((n, x) => n + x.value, 0);
    };
    // A new trunk connection (A dials B again) on what each node holds now.
    const bounce = async (): Promise<void> => {
      const oks = await count(a, 'ok');
      a.node.trunks!.trunkTo('node-b')!.close('shutdown');
      await until(async () => upBoth() && (await count(a, 'ok')) > oks);
    };
    const bundle = oldCa.certPem + newCa.certPem;
    // The procedure of docs/cluster.md: 1. every node trusts both CAs …
    b.node.trunks!.setCredentials(trunkCredentials(files(bundle, oldCerts.b)));
    a.node.trunks!.setCredentials(trunkCredentials(files(bundle, oldCerts.a)));
    expect(a.node.trunks!.trunkTo('node-b')).toBe(established);
    // 2. … each gets a certificate of the new CA (here B first: for a while the two nodes
    // show certificates of different CAs and key their hello proofs by different CAs) …
    b.node.trunks!.setCredentials(trunkCredentials(files(bundle, newCerts.b)));
    await bounce();
    a.node.trunks!.setCredentials(trunkCredentials(files(bundle, newCerts.a)));
    await bounce();
    // 3. … and then trusts only the new CA. The trunk up before the change stays.
    const current = a.node.trunks!.trunkTo('node-b')!;
    b.node.trunks!.setCredentials(trunkCredentials(files(newCa.certPem, newCerts.b)));
    a.node.trunks!.setCredentials(trunkCredentials(files(newCa.certPem, newCerts.a)));
    expect(a.node.trunks!.trunkTo('node-b')).toBe(current);
    expect(current.state).toBe('up');
    await bounce();
    expect(b.logs.some((l) => l.msg === 'trunk certificates reloaded; established trunks keep running')).toBe(true);
    // Every trunk up at each change was on certificates the new files still trust: no warning.
    expect([...a.logs, ...b.logs].filter((l) => String(l.msg).includes('no longer trusts'))).toEqual([]);
    // A node still showing a certificate of the old CA (trusting both) is refused by B in the handshake now.
    const refused = await count(b, 'cert_refused');
    const x = await h.node({ nodeId: 'node-x', segments: [segment({ name: 'lan' })], trunk: { ...trunk, peers, clusterCa: files(bundle, await issueNodeCertificate(oldCa, 'node-x')) } });
    await until(async () => (await count(b, 'cert_refused')) > refused);
    expect(x.node.trunks!.upCount).toBe(0);
    expect(upBoth()).toBe(true);
  });
  it('moves a cluster on the secret onto a cluster CA and off it again live (requireCert: false between): a trunk made again at every step, a peer without a certificate refused once requireCert is on', async () => {
    const ca = await createCertificateAuthority('cluster CA');
    const creds = async (node: string) => {
      const c = await issueNodeCertificate(ca, node);
      return trunkCredentials({ ca: ca.certPem, cert: c.certPem, key: c.keyPem });
    };
    const [credsA, credsB] = [await creds('node-a'), await creds('node-b')];
    const trunk = { secret: SECRET, port: 0, host: '127.0.0.1', reconnectMinMs: 20, reconnectMaxMs: 200 };
    const b = await h.node({ nodeId: 'node-b', segments: [segment({ name: 'lan' })], trunk });
    const peers = [`127.0.0.1:${b.node.trunks!.address().port}`];
    const a = await h.node({ nodeId: 'node-a', segments: [segment({ name: 'lan' })], trunk: { ...trunk, peers } });
    const [hubA, hubB] = [a.node.trunks!, b.node.trunks!];
    const upBoth = () => hubA.trunkTo('node-b')?.state === 'up' && hubB.trunkTo('node-a')?.state === 'up';
    await until(upBoth);
    const count = async (node: TestNode, result: string): Promise<number> => {
      const v = (await node.registry.getSingleMetric('el_trunk_connects_total')!.get()).values.filter((x) => x.labels.result === result);
      return v.reduce((n, x) => n + x.value, 0);
    };
    const bounce = async (): Promise<void> => {
      const oks = await count(a, 'ok');
      hubA.trunkTo('node-b')!.close('shutdown');
      await until(async () => upBoth() && (await count(a, 'ok')) > oks);
    };
    const staleWarnings = () => b.logs.filter((l) => String(l.msg).includes('no longer trusts'));
    const certified = async (node: TestNode): Promise<Record<string, number>> => Object.fromEntries((await node.registry.getSingleMetric('el_trunk_certified')!.get()).values.map((v) => [v.labels.peer, v.value]));
    // 1. B takes the CA, peers without a certificate still admitted: A (none yet) comes back.
    const established = hubA.trunkTo('node-b');
    hubB.setCredentials(credsB, false);
    expect(hubA.trunkTo('node-b')).toBe(established);
    await bounce();
    expect(await certified(b)).toEqual({ 'node-a': 0 });
    // Requiring certificates now would strand A's trunk at its next connection: said at once.
    hubB.setCredentials(credsB, true);
    expect(staleWarnings().at(-1)).toMatchObject({ peers: ['node-a'], count: 1 });
    expect(upBoth()).toBe(true);
    hubB.setCredentials(credsB, false);
    // 2. A takes it too: both show certificates, and the trunk made now is certified both ways.
    hubA.setCredentials(credsA, false);
    await bounce();
    expect([await certified(a), await certified(b)]).toEqual([{ 'node-b': 1 }, { 'node-a': 1 }]);
    const warned = staleWarnings().length;
    hubB.setCredentials(credsB, true);
    hubA.setCredentials(credsA, true);
    expect(staleWarnings().length).toBe(warned);
    // 3. Certificates required everywhere: the trunk comes back on them; a node on the secret alone is refused.
    await bounce();
    const refused = await count(b, 'cert_refused');
    const x = await h.node({ nodeId: 'node-x', segments: [segment({ name: 'lan' })], trunk: { ...trunk, peers } });
    await until(async () => (await count(b, 'cert_refused')) > refused);
    expect(x.node.trunks!.upCount).toBe(0);
    // And off again: certificates optional on both, then the CA removed from A, then from B.
    hubA.setCredentials(credsA, false);
    hubB.setCredentials(credsB, false);
    hubA.setCredentials(undefined);
    await bounce();
    hubB.setCredentials(undefined);
    await bounce();
    // (node-x, on the secret alone, may be up at B too by now: B takes peers without certificates again.)
    expect([(await certified(a))['node-b'], (await certified(b))['node-a']]).toEqual([0, 0]);
    expect(b.logs.some((l) => String(l.msg).startsWith('trunk cluster CA removed'))).toBe(true);
    // Without a secret nothing could vouch for a peer without a certificate: refused, nothing changed.
    const certC = await issueNodeCertificate(ca, 'node-c');
    const caOnly = await h.node({ nodeId: 'node-c', segments: [segment({ name: 'lan' })], trunk: { ...trunk, secret: '', clusterCa: { ca: ca.certPem, cert: certC.certPem, key: certC.keyPem } } });
    expect(() => caOnly.node.trunks!.setCredentials(credsA, false)).toThrow(expect.objectContaining({ code: 'EL_ERR_CONFIG', message: expect.stringContaining('requireCert') }));
    expect(() => caOnly.node.trunks!.setCredentials(undefined)).toThrow(expect.objectContaining({ code: 'EL_ERR_CONFIG' }));
    expect(caOnly.node.trunks!.trust).toEqual({ clusterCa: true, requireCert: true });
    expect(upBoth()).toBe(true);
  });
});
