/**
 * What a config reload changes in a running switch node, over real TLS: live segment
 * settings (new sessions get them, pools/mode/MTU stay), the flood limit of a segment,
 * and the end of the sessions of a user who lost access.
 */
import { describe, expect, it } from 'vitest';
import { l2SegmentSchema, segmentSchema } from '@elink/protocol';
import { MemoryPort, nextTick } from '../ports/memory-port.js';
import { L2Segment } from '../core/l2/l2-segment.js';
import { waitUntil } from '../testing/test-client.js';
import { BROADCAST, ethFrame, mac } from '../testing/test-frames.js';
import { segment, startNode, useSwitchHarness } from '../testing/test-node.js';

const { fx, running, clients } = useSwitchHarness();

describe('SwitchNode.updateSegment', () => {
  it('new sessions get the new keepalive, earlier ones keep theirs; non-live differences (MTU) are ignored', async () => {
    const t = await startNode(fx);
    running.push(t);
    const before = await t.connect();
    clients.push(before);
    expect((await before.join(fx.ticket(), mac(1))).keepalive).toEqual({ interval: 15, timeout: 45 });

    expect(t.node.updateSegment(segment({ name: 'lan', mtu: 1400, keepalive: { interval: 5, timeout: 20 } }))).toEqual(['keepalive']);
    expect(t.logs.some((l) => l.msg === 'segment settings changed' && l.segment === 'lan')).toBe(true);
    expect(t.node.segmentByName('lan')!.def.mtu).toBe(1500);
    const after = await t.connect();
    clients.push(after);
    const w = await after.join(fx.ticket(), mac(2));
    expect(w.keepalive).toEqual({ interval: 5, timeout: 20 });
    expect(w.mtu).toBe(1500);
    expect(before.closed).toBe(false);
    // The same definition again, or an unknown segment: nothing changes, nothing is logged.
    const lines = t.logs.length;
    expect(t.node.updateSegment(segment({ name: 'lan', keepalive: { interval: 5, timeout: 20 } }))).toEqual([]);
    expect(t.node.updateSegment(segment({ name: 'nowhere' }))).toEqual([]);
    expect(t.logs.slice(lines).some((l) => l.msg === 'segment settings changed')).toBe(false);
  });

  it('endSessions sends bye to the sessions of a user who lost access; the others carry on', async () => {
    const t = await startNode(fx);
    running.push(t);
    const [a, b, c] = [await t.connect(), await t.connect(), await t.connect()];
    clients.push(a, b, c);
    await a.join(fx.ticket({ sub: 'gone' }), mac(1));
    await b.join(fx.ticket({ sub: 'gone', seg: 'other' }), mac(2));
    await c.join(fx.ticket({ sub: 'stays' }), mac(3));
    expect(t.node.endSessions((user, seg) => user === 'gone' && seg === 'lan', 'user removed')).toBe(1);
    await waitUntil(() => a.closed, 'a closed');
    expect(a.controls.at(-1)).toEqual({ type: 'bye', reason: 'user removed' });
    expect(b.closed).toBe(false);
    expect(c.closed).toBe(false);
  });
});

describe('L2Segment.applySettings', () => {
  it('a lower flood limit holds from the moment the tokens a port had are spent', async () => {
    let now = 1_000_000;
    const s = new L2Segment(l2SegmentSchema.parse({ name: 'lan', ipv4: { pool: '198.19.0.0/24' } }), { now: () => now });
    const host = new MemoryPort('host', { maxFrames: 1 << 16, maxBytes: 1 << 28 });
    const noisy = new MemoryPort('noisy', { maxFrames: 1 << 16, maxBytes: 1 << 28 });
    // Client sessions (with ticket claims) have a flood bucket; LAN device ports do not.
    s.attach(host, { ownMac: mac(1), macLimit: 1, claims: { ipv4: '198.19.0.11/24' } });
    s.attach(noisy, { ownMac: mac(2), macLimit: 1, claims: { ipv4: '198.19.0.12/24' } });
    s.applySettings(segmentSchema.parse({ name: 'lan', ipv4: { pool: '198.19.0.0/24' }, floodLimit: { rate: 10, burst: 10 } }));
    expect(s.def.floodLimit).toEqual({ rate: 10, burst: 10 });
    const storm = ethFrame(BROADCAST, mac(2), 'storm', 0x88b5);
    // The bucket still holds the old burst (2000); afterwards 10/s with a burst of 10.
    for (let i = 0; i < 2500; i++) s.forward(storm, noisy);
    await nextTick();
    expect(host.received.length).toBe(2000);
    host.clear();
    now += 10_000;
    for (let i = 0; i < 500; i++) s.forward(storm, noisy);
    await nextTick();
    expect(host.received.length).toBe(10);
  });
});
