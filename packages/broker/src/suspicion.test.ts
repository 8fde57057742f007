/**
 * Failure detection from trunk peers (suspicion.ts) and what placement does with it
 * (rankNodes' `demoted`, NodeRegistry over a store): a node a peer lost after its last
 * heartbeat is offered after every other node until it heartbeats again; the node a client
 * says it lost is last in that client's reply only.
 */
import { describe, expect, it } from 'vitest';
import type { ReportTrunk } from '@elink/protocol';
import { NodeRegistry, rankNodes } from './node-registry.js';
import { MemoryStore } from './store/memory-store.js';
import type { NodeRecord } from './store/store.js';
import { nodeClock, onBrokerClock } from './node-clock.js';
import { suspects, trunkLosses, trunkReturns } from './suspicion.js';

const NOW = 1_000_000;
const rec = (node: string, x: Partial<NodeRecord> = {}): NodeRecord => ({ node, hosts: [node], port: 4443, capacity: 100, sessions: 0, segments: ['s'], active: [], draining: false, seenAt: NOW, ...x });
const trunk = (peer: string, state: 'up' | 'down', since: number): ReportTrunk => ({ peer, state, since, segments: [], framesIn: 0, bytesIn: 0, framesOut: 0, bytesOut: 0, drops: {}, announced: 0, learned: 0 });

describe('rankNodes with suspects and a lost node', () => {
  const nodes = [rec('most', { sessions: 50, segmentSessions: { s: 50 } }), rec('some', { sessions: 10, segmentSessions: { s: 10 } }), rec('idle'), rec('other')];
  const order = (demoted: Parameters<typeof rankNodes>[5]) => rankNodes(nodes, 's', NOW, 15, undefined, demoted).map((n) => n.node);

  it('puts suspects after every other node, in their own rank order, and never drops them', () => {
    expect(order({})).toEqual(['most', 'some', 'idle', 'other']);
    expect(order({ suspects: new Set(['most']) })).toEqual(['some', 'idle', 'other', 'most']);
    expect(order({ suspects: new Set(['most', 'idle']) })).toEqual(['some', 'other', 'most', 'idle']);
    // All suspect: still all offered, best first (the last resort is not withheld).
    expect(order({ suspects: new Set(['most', 'some', 'idle', 'other']) })).toEqual(['most', 'some', 'idle', 'other']);
  });

  it("puts the client's lost node last, after the suspects; an unknown one changes nothing", () => {
    expect(order({ lost: 'some' })).toEqual(['most', 'idle', 'other', 'some']);
    expect(order({ lost: 'idle', suspects: new Set(['most']) })).toEqual(['some', 'other', 'most', 'idle']);
    expect(order({ lost: 'gone' })).toEqual(['most', 'some', 'idle', 'other']);
  });

  it('still leaves out stale, draining and full nodes', () => {
    const more = [...nodes, rec('stale', { seenAt: NOW - 16_000 }), rec('draining', { draining: true }), rec('full', { sessions: 100 })];
    expect(rankNodes(more, 's', NOW, 15, undefined, { suspects: new Set(['stale', 'draining', 'full']), lost: 'full' }).map((n) => n.node)).toEqual(['most', 'some', 'idle', 'other']);
  });
});

describe('trunkLosses', () => {
  it('takes the peers down since a fresh time, once each, never the reporter, never an old or up one', () => {
    const report = [trunk('b', 'down', NOW - 100), trunk('c', 'up', NOW - 50), trunk('d', 'down', NOW - 20_000), trunk('a', 'down', NOW), trunk('e', 'down', NOW - 15_000)];
    expect(trunkLosses('a', report, NOW, 15_000)).toEqual([
      { node: 'b', since: NOW - 100, downAt: NOW - 100 },
      { node: 'e', since: NOW - 15_000, downAt: NOW - 15_000 },
    ]);
    expect(trunkLosses('a', undefined, NOW, 15_000)).toEqual([]);
  });

  it("reads the reporter's times on the broker's clock when its heartbeat said what its clock read: a node 60 s behind or ahead", () => {
    for (const skew of [-60_000, 60_000]) {
      // The node's clock reads NOW + skew when the broker's reads NOW.
      const clock = nodeClock(NOW + skew, NOW);
      const report = [trunk('fresh', 'down', NOW + skew - 200), trunk('old', 'down', NOW + skew - 20_000)];
      // The loss 200 ms ago is news, the one 20 s ago is not; each keeps the reporter's since (its key).
      expect(trunkLosses('a', report, NOW, 15_000, clock), `skew ${skew}`).toEqual([{ node: 'fresh', since: NOW + skew - 200, downAt: NOW - 200 }]);
    }
    // Without the reading, as before: behind, even the fresh loss reads as old news; ahead, the old one as fresh.
    expect(trunkLosses('a', [trunk('fresh', 'down', NOW - 60_000 - 200)], NOW, 15_000)).toEqual([]);
    expect(trunkLosses('a', [trunk('old', 'down', NOW + 60_000 - 20_000)], NOW, 15_000).map((l) => l.node)).toEqual(['old']);
  });

  it('clamps a time the conversion puts in the future to receipt', () => {
    const clock = nodeClock(NOW - 1000, NOW);
    // Stamped 500 ms after the node's header (its clock stepped): no later than now on ours.
    expect(trunkLosses('a', [trunk('b', 'down', NOW - 500)], NOW, 15_000, clock)).toEqual([{ node: 'b', since: NOW - 500, downAt: NOW }]);
    expect(onBrokerClock(NOW - 500, clock)).toBe(NOW);
    expect(onBrokerClock(5, { offset: -1000, now: NOW })).toBe(0);
    expect(onBrokerClock(NOW + 5, undefined)).toBe(NOW + 5);
  });
});

describe('trunkReturns', () => {
  it("takes the peers up since a time within the window (on the broker's clock), never the reporter, never a down one", () => {
    const report = [trunk('b', 'up', NOW - 100), trunk('c', 'down', NOW - 50), trunk('d', 'up', NOW - 50_000), trunk('a', 'up', NOW)];
    expect(trunkReturns('a', report, NOW, 45_000)).toEqual([{ node: 'b', since: NOW - 100 }]);
    expect(trunkReturns('a', undefined, NOW, 45_000)).toEqual([]);
    // A node 60 s behind: its fresh up is in the window, with its own since.
    expect(trunkReturns('a', [trunk('b', 'up', NOW - 60_100)], NOW, 45_000, nodeClock(NOW - 60_000, NOW))).toEqual([{ node: 'b', since: NOW - 60_100 }]);
  });
});

describe('suspects', () => {
  it('is a node with a loss heard after its last heartbeat; a heartbeat after clears it', () => {
    const records = [rec('x', { seenAt: NOW - 500 }), rec('y', { seenAt: NOW })];
    const downs = [
      { node: 'x', reporter: 'a', since: NOW - 200, at: NOW - 100 },
      { node: 'x', reporter: 'b', since: NOW - 150, at: NOW - 50 },
      // Heard before y's last heartbeat: y is alive (a partition between nodes, not a death).
      { node: 'y', reporter: 'a', since: NOW - 300, at: NOW - 200 },
      // Not registered: nothing to rank.
      { node: 'z', reporter: 'a', since: NOW - 300, at: NOW - 200 },
    ];
    expect([...suspects(downs, records)]).toEqual([['x', NOW - 50]]);
  });
});

describe('NodeRegistry: suspicion through the store', () => {
  function setup() {
    const clock = { t: NOW };
    const store = new MemoryStore({ now: () => clock.t });
    const registry = new NodeRegistry({ store, now: () => clock.t, healthySeconds: 15 });
    const beat = (node: string, sessions: number, trunks?: ReportTrunk[], nodeTime?: number) => {
      const clock = registry.nodeClock(nodeTime);
      return registry.heartbeat({ node, hosts: [node], port: 4443, capacity: 100, sessions, segments: ['s'], active: sessions ? ['s'] : [], segmentSessions: { s: sessions }, draining: false }).then(() => registry.noteTrunks(node, trunks, clock));
    };
    return { clock, store, registry, beat };
  }

  it('a node its peer lost goes last at once, for every broker on the store; its next heartbeat brings it back', async () => {
    const { clock, store, registry, beat } = setup();
    await beat('victim', 30);
    await beat('a', 10);
    await beat('b', 0);
    const first = async (r = registry) => (await r.select('s', [])).map((e) => e.node);
    expect(await first()).toEqual(['victim', 'a', 'b']);
    clock.t += 300;
    // a's trunk to the victim dropped 10 ms ago; a's early heartbeat says so.
    const made = await beat('a', 10, [trunk('victim', 'down', clock.t - 10), trunk('b', 'up', NOW)]);
    expect(made).toEqual({ lost: [{ node: 'victim', reporter: 'a', since: clock.t - 10, at: clock.t, downAt: clock.t - 10 }], back: [] });
    expect(await first()).toEqual(['a', 'b', 'victim']);
    // Another broker on the same store sees it too.
    const other = new NodeRegistry({ store, now: () => clock.t, healthySeconds: 15 });
    expect(await first(other)).toEqual(['a', 'b', 'victim']);
    expect([...(await other.suspects()).keys()]).toEqual(['victim']);
    expect((await registry.list()).find((n) => n.node === 'victim')?.suspectSince).toBe(clock.t);
    // a keeps repeating the loss in its heartbeats: no news, nothing new kept.
    clock.t += 1000;
    expect(await beat('a', 10, [trunk('victim', 'down', NOW + 290)])).toEqual({ lost: [], back: [] });
    // The victim was alive after all (a partition between a and it): its heartbeat ends it, and
    // a's repeats of the same loss do not bring the suspicion back.
    clock.t += 1000;
    await beat('victim', 30);
    expect(await first()).toEqual(['victim', 'a', 'b']);
    clock.t += 1000;
    await beat('a', 10, [trunk('victim', 'down', NOW + 290)]);
    expect(await first()).toEqual(['victim', 'a', 'b']);
    expect((await registry.suspects()).size).toBe(0);
  });

  it("a trunk that comes back withdraws its reporter's loss at once; a loss by another reporter still stands", async () => {
    const { clock, registry, beat } = setup();
    await beat('peer', 30);
    await beat('a', 10);
    await beat('b', 0);
    const first = async () => (await registry.select('s', [])).map((e) => e.node);
    clock.t += 100;
    const lostAt = clock.t - 10;
    await beat('a', 10, [trunk('peer', 'down', lostAt)]);
    await beat('b', 0, [trunk('peer', 'down', lostAt + 2)]);
    expect(await first()).toEqual(['a', 'b', 'peer']);
    // a's trunk flaps back: its next heartbeat lists peer up since after the loss. b's loss stands.
    clock.t += 300;
    expect(await beat('a', 10, [trunk('peer', 'up', clock.t - 50)])).toEqual({ lost: [], back: [{ node: 'peer', reporter: 'a', since: lostAt, at: NOW + 100 }] });
    expect(await first()).toEqual(['a', 'b', 'peer']);
    // A report of b's built before its loss (up since earlier than it) withdraws nothing.
    expect(await beat('b', 0, [trunk('peer', 'up', NOW)])).toEqual({ lost: [], back: [] });
    expect(await first()).toEqual(['a', 'b', 'peer']);
    // b's trunk is back too: the peer is no longer suspect, before its own heartbeat.
    expect((await beat('b', 0, [trunk('peer', 'up', clock.t - 20)])).back).toHaveLength(1);
    expect(await first()).toEqual(['peer', 'a', 'b']);
    expect((await registry.suspects()).size).toBe(0);
    // Repeating the up changes nothing; a new drop is a new loss.
    expect(await beat('a', 10, [trunk('peer', 'up', clock.t - 50)])).toEqual({ lost: [], back: [] });
    clock.t += 500;
    expect((await beat('a', 10, [trunk('peer', 'down', clock.t - 5)])).lost).toHaveLength(1);
    expect(await first()).toEqual(['a', 'b', 'peer']);
  });

  it('judges and withdraws the losses of a node whose clock is a minute off, by its EL-Node-Time', async () => {
    for (const skew of [-60_000, 60_000]) {
      const { clock, registry, beat } = setup();
      await beat('peer', 30);
      await beat('a', 10);
      const first = async () => (await registry.select('s', [])).map((e) => e.node);
      clock.t += 100;
      const nodeNow = () => clock.t + skew;
      // Without the header a node behind reads as old news and one ahead keeps an old loss fresh: with it, neither.
      expect((await beat('a', 10, [trunk('peer', 'down', nodeNow() - 20_000)], nodeNow())).lost, `skew ${skew}`).toEqual([]);
      const lost = await beat('a', 10, [trunk('peer', 'down', nodeNow() - 10)], nodeNow());
      expect(lost.lost, `skew ${skew}`).toEqual([{ node: 'peer', reporter: 'a', since: nodeNow() - 10, at: clock.t, downAt: clock.t - 10 }]);
      expect(await first()).toEqual(['a', 'peer']);
      clock.t += 200;
      expect((await beat('a', 10, [trunk('peer', 'up', nodeNow() - 5)], nodeNow())).back, `skew ${skew}`).toHaveLength(1);
      expect(await first()).toEqual(['peer', 'a']);
    }
  });

  it('a dead node stays last until its heartbeat timeout, then is not offered at all', async () => {
    const { clock, registry, beat } = setup();
    await beat('victim', 30);
    await beat('a', 0);
    clock.t += 100;
    await beat('a', 0, [trunk('victim', 'down', clock.t)]);
    for (const dt of [1000, 5000, 8000]) {
      clock.t += dt;
      await beat('a', 0, [trunk('victim', 'down', NOW + 100)]);
      expect((await registry.select('s', [])).map((e) => e.node)).toEqual(['a', 'victim']);
    }
    clock.t += 2000;
    await beat('a', 0, [trunk('victim', 'down', NOW + 100)]);
    expect((await registry.select('s', [])).map((e) => e.node)).toEqual(['a']);
  });

  it("a client's lost node is last in its own reply only, static nodes included", async () => {
    const { registry, beat } = setup();
    await beat('x', 20);
    await beat('y', 10);
    const statics = [{ node: 'st', host: '198.18.0.9', port: 4443 }];
    expect((await registry.select('s', statics, 'x')).map((e) => e.node)).toEqual(['y', 'st', 'x']);
    expect((await registry.select('s', statics, 'st')).map((e) => e.node)).toEqual(['x', 'y', 'st']);
    expect((await registry.select('s', statics)).map((e) => e.node)).toEqual(['x', 'y', 'st']);
  });
});
