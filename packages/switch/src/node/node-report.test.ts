/**
 * The console's report of a real node (TLS sessions from the test client): sessions with
 * their bytes and addresses, per-segment counters that never step back when a session
 * closes, the MAC table and routes with the port each points to, caps, and kick.
 */
import { describe, expect, it } from 'vitest';
import { formatMac } from '@elink/protocol';
import { exchangeFrames, waitUntil } from '../testing/test-client.js';
import { mac } from '../testing/test-frames.js';
import { segment, useSwitchHarness } from '../testing/test-node.js';
import { nodeReport } from './node-report.js';

const { fx, clients, node } = useSwitchHarness();

describe('nodeReport', () => {
  it('lists sessions with bytes, the MAC table, and segment counters that stay when a session goes', async () => {
    const t = await node({ software: 'elink/1.2.3' });
    const a = await t.connect();
    const b = await t.connect();
    clients.push(a, b);
    const wa = await a.join(fx.ticket({ dev: 'laptop', ipv4: '198.19.0.2/24' }), mac(1));
    const wb = await b.join(fx.ticket({ sub: 'bob', dev: 'phone' }), mac(2));
    await exchangeFrames(a, b, 20);
    const r = nodeReport(t.node);
    expect(r.software).toBe('elink/1.2.3');
    const sa = r.sessions.find((s) => s.id === wa.session)!;
    expect(sa).toMatchObject({ user: 'alice', device: 'laptop', segment: 'lan', addresses: ['198.19.0.2/24'] });
    expect(sa.rxBytes).toBeGreaterThan(20 * 14);
    expect(sa.txBytes).toBeGreaterThan(20 * 14);
    expect(r.sessions.find((s) => s.id === wb.session)).toMatchObject({ user: 'bob', device: 'phone' });
    expect(r.table).toEqual(expect.arrayContaining([{ segment: 'lan', key: formatMac(mac(1)), port: wa.session }, { segment: 'lan', key: formatMac(mac(2)), port: wb.session }]));
    expect(r.segments.lan!.sessions).toBe(2);
    expect(r.segments.other).toMatchObject({ sessions: 0, rxBytes: 0 });
    const before = r.segments.lan!;
    expect(before.rxFrames).toBeGreaterThanOrEqual(40);
    expect(r.traffic.rxBytes).toBe(before.rxBytes);

    // Capped lists say so.
    const capped = nodeReport(t.node, { sessions: 1, table: 1 });
    expect(capped.sessions).toHaveLength(1);
    expect(capped.sessionsTruncated).toBe(true);
    expect(capped.table).toHaveLength(1);
    expect(capped.tableTruncated).toBe(true);
    expect(capped.segments.lan!.sessions).toBe(2);

    // kick: bye to the client, the session gone, its bytes still in the segment's counters.
    expect(t.node.kick(wb.session, 'disconnected by an administrator')).toBe(true);
    expect(t.node.kick('s-nobody')).toBe(false);
    await waitUntil(() => b.closed, 'the kicked session to close');
    expect(b.controls.find((m) => m.type === 'bye')).toMatchObject({ reason: 'disconnected by an administrator' });
    await waitUntil(() => nodeReport(t.node).sessions.length === 1, 'the report to drop the session');
    const after = nodeReport(t.node);
    expect(after.segments.lan!.rxBytes).toBeGreaterThanOrEqual(before.rxBytes);
    expect(after.segments.lan!.txBytes).toBeGreaterThanOrEqual(before.txBytes);
    expect(after.table.map((e) => e.key)).not.toContain(formatMac(mac(2)));
  });

  it('lists the routes of an L3 segment with the session each points to', async () => {
    const t = await node({ segments: [segment({ name: 'routed', mode: 'l3', ipv4: { pool: '198.19.9.0/24' } })] });
    const c = await t.connect();
    clients.push(c);
    const w = await c.join(fx.ticket({ mode: 'l3', seg: 'routed', ipv4: '198.19.9.7/24' }));
    const r = nodeReport(t.node);
    expect(r.table).toContainEqual({ segment: 'routed', key: '198.19.9.7/32', port: w.session });
    expect(r.sessions[0]).toMatchObject({ id: w.session, segment: 'routed', addresses: ['198.19.9.7/24'] });
  });
});
