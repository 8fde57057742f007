// A LAN device port's drops are the node's: frames its kernel refuses (device_drop) and a
// full tick (queue_full) show in the node's stats and in el_switch_frames_dropped_total,
// on a real TAP attached to a real Linux bridge (root; never skipped under CI=true).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ip, kernelSkipReason, uniqueName } from '../../../tuntap/src/test-support.js';
import { ethFrame, mac } from '../testing/test-frames.js';
import { waitUntil } from '../testing/test-client.js';
import { segment, useSwitchHarness } from '../testing/test-node.js';

if (process.env.CI === 'true' && kernelSkipReason) throw new Error(`CI=true but device ports cannot be tested: ${kernelSkipReason}`);

describe.skipIf(kernelSkipReason !== undefined)('a TAP bridge port’s drops reach the node’s stats and metrics', () => {
  const h = useSwitchHarness();
  const bridge = uniqueName('elbr');
  beforeAll(() => {
    ip('link', 'add', bridge, 'type', 'bridge');
    ip('link', 'set', bridge, 'up');
  });
  afterAll(() => {
    ip('link', 'del', bridge);
  });

  it('counts a frame the kernel refuses as device_drop and a full tick as queue_full', async () => {
    const t = await h.node({ segments: [segment({ name: 'lan', bridge: { tap: uniqueName('eltp'), attach: bridge } })] });
    const port = t.node.devicePort('lan')!;
    expect(port.kind).toBe('tap');
    // Shorter than an Ethernet header: the kernel refuses it (EINVAL).
    port.enqueue(Buffer.alloc(6));
    await waitUntil(() => port.output.drops.device_drop === 1, 'the refused frame counted');
    const frame = ethFrame(mac(9), mac(8), 'x');
    for (let i = 0; i < port.output.maxFrames + 3; i++) port.enqueue(frame);
    await waitUntil(() => port.output.queued === 0, 'the tick flushed');
    expect(port.output.drops.queue_full).toBe(3);
    expect(t.node.stats.drops).toMatchObject({ device_drop: 1, queue_full: 3 });
    const text = await t.registry.getSingleMetricAsString('el_switch_frames_dropped_total');
    expect(text).toContain('el_switch_frames_dropped_total{reason="device_drop"} 1');
    expect(text).toContain('el_switch_frames_dropped_total{reason="queue_full"} 3');
  });
});
