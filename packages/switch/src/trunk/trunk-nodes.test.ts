/**
 * Two SwitchNodes in one process joined by a real TLS trunk (static peers): frames of an
 * L2 segment cross it, a wrong secret is refused, and the node's stats show the trunk.
 */
import { describe, expect, it } from 'vitest';
import { useSwitchHarness, segment, type TestNode } from '../testing/test-node.js';
import { BROADCAST, ethFrame, mac } from '../testing/test-frames.js';
import { MemoryPort } from '../ports/memory-port.js';
import type { L2Segment } from '../core/l2/l2-segment.js';

const SECRET = 'trunk-secret-0123456789';

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

    // The trunk breaks: what A learned over it is withdrawn at once (synchronously).
    a.node.trunks!.trunkTo('node-b')!.close('test');
    expect(segA.table.remoteOf(mac(2))).toBeUndefined();
    expect(segA.remoteCount()).toBe(0);
    expect(a.node.trunks!.upCount).toBe(0);
    // … and the dialer reconnects with backoff, then the full table sync brings it back.
    await until(() => a.node.trunks!.upCount === 1 && segA.table.remoteOf(mac(2)) !== undefined);
  });

  it('refuses a peer with the wrong secret: logged, counted, closed', async () => {
    const [a, b] = await pair('another-secret-987654321');
    await until(() => b.logs.some((l) => l.code === 'EL_ERR_TRUNK_AUTH' || String(l.msg).includes('trunk connections refused')));
    expect(a.node.trunks!.upCount).toBe(0);
    expect(b.node.trunks!.upCount).toBe(0);
    await until(async () => (await b.registry.metrics()).includes('result="auth_failed"'));
  });
});
