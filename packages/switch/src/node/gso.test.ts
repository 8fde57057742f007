import { describe, expect, it } from 'vitest';
import { foldChecksum, sum16, VNET_HDR_LENGTH, type ControlMessage } from '@elink/protocol';
import { waitUntil, type TestClient } from '../testing/test-client.js';
import { segment, type TestNode, useSwitchHarness } from '../testing/test-node.js';
import { BROADCAST, ethFrame, mac } from '../testing/test-frames.js';
import { MSS, PAYLOAD, superPacket, tcpPayloads, udpPayloads, udpSuperFrame } from '../testing/test-gso.js';

const { fx, running, clients, node } = useSwitchHarness();

/** A session that joined with (or without) the gso capability, and "uso" beside it if `uso`. */
async function join(t: TestNode, ticket: string, opts: { mac?: number; gso: boolean; uso?: boolean }): Promise<TestClient> {
  const c = await t.connect();
  clients.push(c);
  const caps = [...(opts.gso ? ['gso'] : []), ...(opts.uso === true ? ['uso'] : [])];
  const hello: ControlMessage = { type: 'hello', version: 1, ticket, ...(opts.mac !== undefined ? { mac: `02:00:00:00:00:0${opts.mac & 0xf}` } : {}), ...(caps.length > 0 ? { caps } : {}) };
  c.send(hello);
  await waitUntil(() => c.welcome !== undefined || c.closed, 'welcome');
  if (!c.welcome) throw new Error(`no welcome: ${JSON.stringify(c.controls)}`);
  return c;
}

describe('gso capability and FRAME_GSO on a switch node (real TLS)', () => {
  it('accepts gso in welcome only for a client that offered it', async () => {
    const t = await node();
    const a = await join(t, fx.ticket({ sub: 'a' }), { mac: 1, gso: true });
    const b = await join(t, fx.ticket({ sub: 'b' }), { mac: 2, gso: false });
    expect(a.welcome?.caps).toEqual(['gso']);
    expect(b.welcome?.caps).toBeUndefined();
  });

  it('does not accept gso on a node configured with gso: false', async () => {
    const t = await node({ gso: false });
    const a = await join(t, fx.ticket({ sub: 'a' }), { mac: 1, gso: true });
    expect(a.welcome?.caps).toBeUndefined();
    a.sendGso([superPacket({ l2: true, dst: BROADCAST, src: mac(1) })]);
    expect((await a.expectError()).code).toBe('EL_ERR_UNKNOWN_RECORD');
  });

  it('ends the session of a client that sends FRAME_GSO without having negotiated it', async () => {
    const t = await node();
    const b = await join(t, fx.ticket({ sub: 'b' }), { mac: 2, gso: false });
    b.sendGso([superPacket({ l2: true, dst: BROADCAST, src: mac(2) })]);
    const err = await b.expectError();
    expect(err.code).toBe('EL_ERR_UNKNOWN_RECORD');
  });

  it('L2: passes a super-frame on as it is to a gso session and segments it for an old one, unicast and flooded', async () => {
    const t = await node();
    const a = await join(t, fx.ticket({ sub: 'a' }), { mac: 1, gso: true });
    const b = await join(t, fx.ticket({ sub: 'b' }), { mac: 2, gso: true });
    const c = await join(t, fx.ticket({ sub: 'c' }), { mac: 3, gso: false });
    // Let the switch learn b and c.
    b.sendFrames([ethFrame(mac(1), mac(2), 'hi from b')]);
    c.sendFrames([ethFrame(mac(1), mac(3), 'hi from c')]);
    await waitUntil(() => a.frames.length === 2, 'a hears b and c');

    const toB = superPacket({ l2: true, dst: mac(2), src: mac(1) });
    const toC = superPacket({ l2: true, dst: mac(3), src: mac(1) });
    const flood = superPacket({ l2: true, dst: mac(9), src: mac(1) });
    a.sendGso([toB, toC, flood]);
    const segments = Math.ceil(PAYLOAD.length / MSS);
    await waitUntil(() => b.gsoFrames.length === 2 && c.frames.length === 2 * segments, 'super-frames at b, segments at c');
    expect(b.gsoFrames).toEqual([toB, flood]);
    expect(b.frames).toEqual([]);
    expect(c.gsoFrames).toEqual([]);
    expect(c.frames.every((f) => f.length <= 14 + 20 + 20 + MSS)).toBe(true);
    expect(tcpPayloads(c.frames.slice(0, segments), 14)).toEqual(PAYLOAD);
    expect(tcpPayloads(c.frames.slice(segments), 14)).toEqual(PAYLOAD);
    expect(c.frames[0].subarray(0, 12)).toEqual(toC.subarray(VNET_HDR_LENGTH, VNET_HDR_LENGTH + 12));
    expect(t.node.stats.traffic.framesIn).toBe(5);
    // Segmented once each for c (the flood too, though it reached b as well).
    expect(await t.registry.getSingleMetricAsString('el_switch_gso_segmented_total')).toMatch(/^el_switch_gso_segmented_total 2$/m);
  });

  it('drops a super-frame whose segments would exceed the MTU instead of ending an old peer\'s session', async () => {
    const t = await node();
    const a = await join(t, fx.ticket({ sub: 'a' }), { mac: 1, gso: true });
    const c = await join(t, fx.ticket({ sub: 'c' }), { mac: 3, gso: false });
    c.sendFrames([ethFrame(mac(1), mac(3), 'hi from c')]);
    await waitUntil(() => a.frames.length === 1, 'a hears c');
    a.sendGso([superPacket({ l2: true, dst: mac(3), src: mac(1), mss: 9000 })]);
    await waitUntil(() => t.node.stats.drops.bad_gso === 1, 'bad_gso counted');
    a.sendFrames([ethFrame(mac(3), mac(1), 'still there')]);
    await waitUntil(() => c.frames.length === 1, 'c still reachable');
    expect(c.payloads()).toEqual(['still there']);
    expect(c.closed).toBe(false);
  });

  it('L3: routes a super-packet as it is to a gso session and segmented to an old one (TTL decremented)', async () => {
    const t = await node({ segments: [segment({ name: 'lan', mode: 'l3', ipv4: { pool: '198.19.0.0/24' }, ipv6: { pool: 'fd00:e1::/64' } })] });
    const l3 = { mode: 'l3' as const, seg: 'lan' };
    const a = await join(t, fx.ticket({ sub: 'a', ...l3, ipv4: '198.19.0.10/24', ipv6: 'fd00:e1::10/64' }), { gso: true });
    const b = await join(t, fx.ticket({ sub: 'b', ...l3, ipv4: '198.19.0.11/24' }), { gso: true });
    const c = await join(t, fx.ticket({ sub: 'c', ...l3, ipv4: '198.19.0.12/24', ipv6: 'fd00:e1::12/64' }), { gso: false });
    const toB = superPacket({ l2: false, srcIp: [198, 19, 0, 10], dstIp: [198, 19, 0, 11] });
    const toC = superPacket({ l2: false, srcIp: [198, 19, 0, 10], dstIp: [198, 19, 0, 12] });
    const v6 = (n: number) => [0xfd, 0, 0, 0xe1, ...Array<number>(11).fill(0), n];
    // IPv6 headers are 20 bytes longer: the MSS for MTU 1500 is 1440 (1428 with timestamps).
    const toC6 = superPacket({ l2: false, v6: true, srcIp: v6(0x10), dstIp: v6(0x12), mss: 1428 });
    a.sendGso([toB, toC, toC6]);
    const segments = Math.ceil(PAYLOAD.length / MSS);
    const segments6 = Math.ceil(PAYLOAD.length / 1428);
    await waitUntil(() => b.gsoFrames.length === 1 && c.frames.length === segments + segments6, 'super-packet at b, segments at c');
    expect(b.gsoFrames[0][VNET_HDR_LENGTH + 8]).toBe(63);
    expect(b.gsoFrames[0].subarray(VNET_HDR_LENGTH + 20)).toEqual(toB.subarray(VNET_HDR_LENGTH + 20));
    expect(foldChecksum(sum16(b.gsoFrames[0], VNET_HDR_LENGTH, VNET_HDR_LENGTH + 20))).toBe(0);
    const v4 = c.frames.slice(0, segments);
    expect(v4.every((p) => p[8] === 63)).toBe(true);
    expect(tcpPayloads(v4, 0)).toEqual(PAYLOAD);
    const six = c.frames.slice(segments);
    expect(six.every((p) => p[7] === 63 && p.readUInt16BE(4) === p.length - 40)).toBe(true);
    expect(tcpPayloads(six, 0, true)).toEqual(PAYLOAD);
  });
});

describe('uso capability and UDP super-frames (UDP_L4) on a switch node (real TLS)', () => {
  /** 8 datagrams of 18 payload bytes (64-byte frames), the last of 10. */
  const N = 8;
  const flow = (dst: number) => ({ l2: true, dst, src: mac(1) });

  it('names "uso" in welcome beside "gso" only for a client that offered both, on a node that takes gso', async () => {
    const t = await node();
    const a = await join(t, fx.ticket({ sub: 'a' }), { mac: 1, gso: true, uso: true });
    const b = await join(t, fx.ticket({ sub: 'b' }), { mac: 2, gso: false, uso: true });
    const c = await join(t, fx.ticket({ sub: 'c' }), { mac: 3, gso: true });
    expect(a.welcome?.caps).toEqual(['gso', 'uso']);
    expect(b.welcome?.caps).toBeUndefined();
    expect(c.welcome?.caps).toEqual(['gso']);
    const off = await node({ gso: false });
    const d = await join(off, fx.ticket({ sub: 'd' }), { mac: 4, gso: true, uso: true });
    expect(d.welcome?.caps).toBeUndefined();
  });

  it('L2: passes a UDP super-frame whole to a gso+uso session, as datagrams to a gso-only and a plain one, unicast and flooded', async () => {
    const t = await node();
    const a = await join(t, fx.ticket({ sub: 'a' }), { mac: 1, gso: true, uso: true });
    const b = await join(t, fx.ticket({ sub: 'b' }), { mac: 2, gso: true, uso: true });
    const c = await join(t, fx.ticket({ sub: 'c' }), { mac: 3, gso: true });
    const d = await join(t, fx.ticket({ sub: 'd' }), { mac: 4, gso: false });
    for (const [x, n] of [[b, 2], [c, 3], [d, 4]] as const) x.sendFrames([ethFrame(mac(1), mac(n), 'hi')]);
    await waitUntil(() => a.frames.length === 3, 'a hears b, c and d');

    const flood = udpSuperFrame(flow(BROADCAST), N, 18, 10);
    const toB = udpSuperFrame(flow(mac(2)), N, 18, 10);
    const toC = udpSuperFrame(flow(mac(3)), N, 18, 10);
    const toD = udpSuperFrame(flow(mac(4)), N, 18, 10);
    a.sendGso([flood.packet, toB.packet, toC.packet, toD.packet]);
    await waitUntil(() => b.gsoFrames.length === 2 && c.frames.length === 2 * N && d.frames.length === 2 * N, 'super-frames at b, datagrams at c and d');
    // One FRAME_GSO record each, byte for byte what a sent.
    expect(b.gsoFrames).toEqual([flood.packet, toB.packet]);
    expect(b.frames).toEqual([]);
    // The datagrams as they were before the merge, checksums complete (IPv4 ids 100…107).
    expect(c.gsoFrames).toEqual([]);
    expect(c.frames).toEqual([...flood.wire, ...toC.wire]);
    expect(udpPayloads(c.frames, 14)).toEqual([...flood.payloads, ...toC.payloads]);
    expect(d.frames).toEqual([...flood.wire, ...toD.wire]);
    expect(udpPayloads(d.frames, 14)).toEqual([...flood.payloads, ...toD.payloads]);
    expect(t.node.stats.drops.bad_gso).toBe(0);
    // The flood segmented once for c and d together, toC and toD once each.
    expect(await t.registry.getSingleMetricAsString('el_switch_gso_segmented_total')).toMatch(/^el_switch_gso_segmented_total 3$/m);
  });

  it('drops as bad_gso a UDP super-frame from a session without uso, and gso_types nobody negotiates, and keeps the session', async () => {
    const t = await node();
    const a = await join(t, fx.ticket({ sub: 'a' }), { mac: 1, gso: true });
    const u = await join(t, fx.ticket({ sub: 'u' }), { mac: 5, gso: true, uso: true });
    const b = await join(t, fx.ticket({ sub: 'b' }), { mac: 2, gso: true, uso: true });
    const c = await join(t, fx.ticket({ sub: 'c' }), { mac: 3, gso: false });
    const udp = udpSuperFrame(flow(BROADCAST), N, 18).packet;
    // The old UDP fragmentation type (3), an unknown one (2), UDP_L4 with the ECN bit, and
    // ECN on a frame without GSO: from a session with uso too.
    const typed = (p: Buffer, type: number) => {
      const x = Buffer.from(p);
      x[1] = type;
      return x;
    };
    const tcp = superPacket({ l2: true, dst: BROADCAST, src: mac(5) });
    a.sendGso([udp]);
    u.sendGso([typed(tcp, 3), typed(tcp, 2), typed(udp, 0x85), typed(tcp, 0x80)]);
    await waitUntil(() => t.node.stats.drops.bad_gso === 5, 'bad_gso counted');
    // Nothing reached anyone; both sessions still forward what they agreed on.
    a.sendFrames([ethFrame(mac(3), mac(1), 'still there')]);
    u.sendGso([typed(tcp, 0x81)]); // TCPV4 with ECN: agreed
    await waitUntil(() => c.frames.length === 1 + Math.ceil(PAYLOAD.length / MSS), 'c reached');
    // Two sessions: their records may arrive in either order.
    const plain = c.frames.filter((f) => f.readUInt16BE(12) === 0x88b5);
    expect(plain.map((f) => f.subarray(14).toString())).toEqual(['still there']);
    expect(tcpPayloads(c.frames.filter((f) => f.readUInt16BE(12) === 0x0800), 14)).toEqual(PAYLOAD);
    expect(b.gsoFrames).toHaveLength(1);
    expect(b.gsoFrames[0][1]).toBe(0x81);
    expect(a.closed || u.closed).toBe(false);
  });

  it('L3: routes a UDP super-packet whole to a gso+uso session and as datagrams to a gso-only one, IPv4 and IPv6 (TTL decremented)', async () => {
    const t = await node({ segments: [segment({ name: 'lan', mode: 'l3', ipv4: { pool: '198.19.0.0/24' }, ipv6: { pool: 'fd00:e1::/64' } })] });
    const l3 = { mode: 'l3' as const, seg: 'lan' };
    const a = await join(t, fx.ticket({ sub: 'a', ...l3, ipv4: '198.19.0.10/24', ipv6: 'fd00:e1::10/64' }), { gso: true, uso: true });
    const b = await join(t, fx.ticket({ sub: 'b', ...l3, ipv4: '198.19.0.11/24' }), { gso: true, uso: true });
    const c = await join(t, fx.ticket({ sub: 'c', ...l3, ipv4: '198.19.0.12/24', ipv6: 'fd00:e1::12/64' }), { gso: true });
    const v6 = (n: number) => [0xfd, 0, 0, 0xe1, ...Array<number>(11).fill(0), n];
    const toB = udpSuperFrame({ l2: false, srcIp: [198, 19, 0, 10], dstIp: [198, 19, 0, 11] }, N, 1000, 77);
    const toC = udpSuperFrame({ l2: false, srcIp: [198, 19, 0, 10], dstIp: [198, 19, 0, 12] }, N, 1000, 77);
    const toC6 = udpSuperFrame({ l2: false, v6: true, srcIp: v6(0x10), dstIp: v6(0x12) }, N, 1000, 77);
    a.sendGso([toB.packet, toC.packet, toC6.packet]);
    await waitUntil(() => b.gsoFrames.length === 1 && c.frames.length === 2 * N, 'super-packet at b, datagrams at c');
    const got = b.gsoFrames[0];
    expect(got[1]).toBe(5);
    expect(got[VNET_HDR_LENGTH + 8]).toBe(63);
    expect(foldChecksum(sum16(got, VNET_HDR_LENGTH, VNET_HDR_LENGTH + 20))).toBe(0);
    expect(got.subarray(VNET_HDR_LENGTH + 20)).toEqual(toB.packet.subarray(VNET_HDR_LENGTH + 20));
    const four = c.frames.slice(0, N);
    expect(four.every((p) => p[8] === 63)).toBe(true);
    expect(udpPayloads(four, 0)).toEqual(toC.payloads);
    const six = c.frames.slice(N);
    expect(six.every((p) => p[7] === 63)).toBe(true);
    expect(udpPayloads(six, 0, true)).toEqual(toC6.payloads);
  });
});
