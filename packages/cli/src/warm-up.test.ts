import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { register as defaultRegistry, type Registry } from 'prom-client';
import { SwitchLink } from '@elink/client';
import { Session } from '@elink/switch';
import { DeviceWriter } from '@elink/transport';
import { useSwitchHarness, type TestNode } from '../../switch/src/testing/test-node.js';
import { ethFrame, mac } from '../../switch/src/testing/test-frames.js';
import { waitUntil, type TestClient } from '../../switch/src/testing/test-client.js';
import { warmUpFramePath } from './warm-up.js';
import { startupTuning } from './startup-tuning.js';
import { collectGarbage, GC_FLAG, GC_FLAGS, gcTuningWanted, reexecArgs } from './gc-tuning.js';

/** Counts calls of prototype methods while a test runs (the real method still runs). */
const restores: (() => void)[] = [];
function countCalls<T extends object>(proto: T, name: keyof T & string): { calls: number } {
  const c = { calls: 0 };
  const original = proto[name] as unknown as (...a: unknown[]) => unknown;
  (proto as Record<string, unknown>)[name] = function (this: unknown, ...a: unknown[]) {
    c.calls++;
    return original.apply(this, a);
  };
  restores.push(() => ((proto as Record<string, unknown>)[name] = original));
  return c;
}
afterEach(() => {
  for (const r of restores.splice(0)) r();
});

async function frameCount(registry: Registry, direction: 'in' | 'out'): Promise<number> {
  const values = (await registry.getSingleMetric('el_switch_frames_total')?.get())?.values ?? [];
  return values.filter((v) => v.labels.direction === direction).reduce((n, v) => n + v.value, 0);
}

describe('warmUpFramePath', () => {
  const h = useSwitchHarness();

  it('runs frames through the real client and switch code, both modes, offload and plain', async () => {
    const sendVnet = countCalls(SwitchLink.prototype, 'sendVnetPackets');
    const sendFrames = countCalls(SwitchLink.prototype, 'sendFrames');
    const deviceWrites = countCalls(DeviceWriter.prototype, 'write');
    const sessionRecords = countCalls(Session.prototype, 'onRecord');
    const offload = await warmUpFramePath({ modes: ['l2', 'l3'], roundTrips: 200, budgetMs: 20_000 });
    expect(offload.stoppedBy).toBe('round-trips');
    expect(offload.roundTrips).toBe(200);
    // Every lone frame went out and came back, and every 8th round of each mode (100 each)
    // added a batch of 32 datagrams: every other one plain (32 frames), the others with
    // NEEDS_CSUM, merged into one UDP super-frame ("uso": without the merge, 1168).
    const batches = Math.floor(100 / 8);
    expect(offload.switchFramesIn).toBe(2 * 200 + 2 * (Math.ceil(batches / 2) * 32 + Math.floor(batches / 2)));
    expect(offload.framesDelivered).toBe(offload.switchFramesIn);
    expect(sendVnet.calls).toBeGreaterThanOrEqual(2 * 200);
    expect(sendFrames.calls).toBe(0);
    expect(deviceWrites.calls).toBeGreaterThan(0);
    expect(sessionRecords.calls).toBeGreaterThanOrEqual(offload.switchFramesIn);

    const plain = await warmUpFramePath({ modes: ['l2'], offload: false, roundTrips: 40, budgetMs: 20_000 });
    expect(plain.roundTrips).toBe(40);
    expect(sendFrames.calls).toBeGreaterThanOrEqual(2 * 40);
  });

  it('leaves no trace: no frame reaches a real session, and the real node and registries are untouched', async () => {
    const real: TestNode = await h.node();
    const a: TestClient = await real.connect();
    h.clients.push(a);
    await a.join(h.fx.ticket({ sub: 'alice', mac: '02:00:00:00:00:01' }), mac(1));
    const b: TestClient = await real.connect();
    h.clients.push(b);
    await b.join(h.fx.ticket({ sub: 'bob', mac: '02:00:00:00:00:02' }), mac(2));
    // The real path works (so "nothing arrived" below means something).
    a.sendFrames([ethFrame(mac(2), mac(1), 'real')]);
    await waitUntil(() => b.frames.length === 1, 'the real frame');
    const before = { in: await frameCount(real.registry, 'in'), out: await frameCount(real.registry, 'out'), sessions: real.node.stats.sessions, defaults: defaultRegistry.getMetricsAsArray().length };

    const report = await warmUpFramePath({ modes: ['l2', 'l3'], roundTrips: 100, budgetMs: 20_000 });
    expect(report.roundTrips).toBe(100);
    // Anything in flight to the real clients would have arrived by now.
    await new Promise((r) => setTimeout(r, 100));

    expect(a.frames.length).toBe(0);
    expect(b.frames.length).toBe(1);
    expect(await frameCount(real.registry, 'in')).toBe(before.in);
    expect(await frameCount(real.registry, 'out')).toBe(before.out);
    expect(real.node.stats.sessions).toBe(before.sessions);
    expect(defaultRegistry.getMetricsAsArray().length).toBe(before.defaults);
    // And the real path still works afterwards.
    b.sendFrames([ethFrame(mac(1), mac(2), 'after')]);
    await waitUntil(() => a.frames.length === 1, 'the frame after the warm-up');
  });

  it('is bounded by its CPU budget and by its wall-clock bound', async () => {
    const r = await warmUpFramePath({ budgetMs: 40, roundTrips: 10_000_000 });
    expect(r.stoppedBy).toBe('budget');
    expect(r.roundTrips).toBeLessThan(10_000_000);
    expect(r.roundTrips).toBeGreaterThan(0);
    // The set-up alone takes longer than 1 ms: no frame goes once the wall-clock bound is past.
    const w = await warmUpFramePath({ maxWallMs: 1, roundTrips: 10_000_000 });
    expect(w.stoppedBy).toBe('wall-clock');
    expect(w.roundTrips).toBe(0);
  });
});

describe('startupTuning', () => {
  const silent = pino({ level: 'silent' });

  it('with the warm-up off sends no frame and still collects when asked', async () => {
    const sendVnet = countCalls(SwitchLink.prototype, 'sendVnetPackets');
    const sendFrames = countCalls(SwitchLink.prototype, 'sendFrames');
    const t = startupTuning({ warmUp: false, gc: true, logger: silent });
    await t.ready();
    expect(t.report).toBeUndefined();
    expect(sendVnet.calls + sendFrames.calls).toBe(0);
  });

  it("runs the warm-up's last round trips after the collection", async () => {
    // The collection throws away code compiled against objects that died (warm-up.ts): the
    // last round trips after it compile that again before serving.
    const sendVnet = countCalls(SwitchLink.prototype, 'sendVnetPackets');
    let sentAtCollection = -1;
    const t = startupTuning({ warmUp: true, gc: true, collect: () => ((sentAtCollection = sendVnet.calls), collectGarbage()), roundTrips: 100, budgetMs: 20_000, logger: silent });
    await t.ready();
    expect(t.report?.roundTrips).toBe(100);
    // Round trips before the collection, and a fifth of them (two sends each, plus batches) after it.
    expect(sentAtCollection).toBeGreaterThan(0);
    expect(sendVnet.calls - sentAtCollection).toBeGreaterThanOrEqual(2 * 20);
  });

  it('runs the last part after the collection also when the first ran out of its CPU budget', async () => {
    const sendVnet = countCalls(SwitchLink.prototype, 'sendVnetPackets');
    let sentAtCollection = -1;
    const t = startupTuning({ warmUp: true, gc: true, collect: () => ((sentAtCollection = sendVnet.calls), collectGarbage()), roundTrips: 10_000_000, budgetMs: 60, logger: silent });
    await t.ready();
    expect(t.report?.stoppedBy).toBe('budget');
    expect(sentAtCollection).toBeGreaterThan(0);
    // At least 8 round trips (a ping and a pong each) whatever the budget: V8's helper
    // threads, still sweeping after the collection, once spent its 12 ms before the first send.
    expect(sendVnet.calls - sentAtCollection).toBeGreaterThanOrEqual(2 * 8);
  });

  it('gives every mode its round trips after the collection when the budget ran out in the first', async () => {
    const sendVnet = countCalls(SwitchLink.prototype, 'sendVnetPackets');
    let sentAtCollection = -1;
    const t = startupTuning({ warmUp: true, gc: true, modes: ['l2', 'l3'], collect: () => ((sentAtCollection = sendVnet.calls), collectGarbage()), roundTrips: 10_000_000, budgetMs: 60, logger: silent });
    await t.ready();
    expect(t.report?.stoppedBy).toBe('budget');
    // 8 round trips of each of the two modes, a ping and a pong each.
    expect(sendVnet.calls - sentAtCollection).toBeGreaterThanOrEqual(2 * 2 * 8);
  });

  it('with the warm-up on reports it once ready', async () => {
    const t = startupTuning({ warmUp: true, gc: false, roundTrips: 20, budgetMs: 20_000, logger: silent });
    await t.ready();
    expect(t.report?.roundTrips).toBe(20);
  });
});

describe('gc tuning', () => {
  it('re-executes serving commands only, once, unless turned off', () => {
    expect(GC_FLAGS).toEqual(['--no-memory-reducer', '--external-memory-accounted-in-global-limit']);
    expect(reexecArgs(['connect', '--broker', 'x'], [], '/m.js', {})).toEqual([...GC_FLAGS, '/m.js', 'connect', '--broker', 'x']);
    expect(reexecArgs(['up'], ['--cpu-prof'], '/m.js', {})).toEqual([...GC_FLAGS, '--cpu-prof', '/m.js', 'up']);
    expect(reexecArgs(['switch'], [GC_FLAG], '/m.js', {})).toBeUndefined();
    expect(reexecArgs(['up', '--no-gc-tuning'], [], '/m.js', {})).toBeUndefined();
    expect(reexecArgs(['connect'], [], '/m.js', { ELINK_GC_TUNING: '0' })).toBeUndefined();
    for (const cmd of ['status', 'user', 'broker', 'proxy', 'init']) expect(gcTuningWanted([cmd], {})).toBe(false);
  });

  it('collectGarbage runs a full collection', async () => {
    let target: object | undefined = { big: new Array(1000).fill(1) };
    const ref = new WeakRef(target);
    target = undefined;
    // A WeakRef's target is kept until the end of the current job.
    await new Promise((r) => setImmediate(r));
    collectGarbage();
    expect(ref.deref()).toBeUndefined();
  });
});
