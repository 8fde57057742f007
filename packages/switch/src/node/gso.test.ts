import { describe, expect, it } from 'vitest';
import { foldChecksum, sum16, VNET_HDR_LENGTH, type ControlMessage } from '@elink/protocol';
import { waitUntil, type TestClient } from '../testing/test-client.js';
import { segment, type TestNode, useSwitchHarness } from '../testing/test-node.js';
import { BROADCAST, ethFrame, mac } from '../testing/test-frames.js';
import { MSS, PAYLOAD, superPacket, tcpPayloads } from '../testing/test-gso.js';

const { fx, running, clients, node } = useSwitchHarness();

/** A session that joined with (or without) the gso capability. */
async function join(t: TestNode, ticket: string, opts: { mac?: number; gso: boolean }): Promise<TestClient> {
  const c = await t.connect();
  clients.push(c);
  const hello: ControlMessage = { type: 'hello', version: 1, ticket, ...(opts.mac !== undefined ? { mac: `02:00:00:00:00:0${opts.mac & 0xf}` } : {}), ...(opts.gso ? { caps: ['gso'] } : {}) };
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
