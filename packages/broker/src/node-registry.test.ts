/**
 * The placement policy (rankNodes, pure): which nodes a login is offered for a segment,
 * best first. Affinity by count, spread by load, never a stale, draining or full node.
 */
import { describe, expect, it } from 'vitest';
import { AFFINITY_MAX_LOAD, NodeRegistry, rankNodes, segmentSessionCount } from './node-registry.js';
import { MemoryStore } from './store/memory-store.js';
import type { NodeRecord } from './store/store.js';

const NOW = 100_000;
const rec = (node: string, x: Partial<NodeRecord> = {}): NodeRecord => ({ node, hosts: [node], port: 4443, capacity: 100, sessions: 0, segments: ['s', 't'], active: [], draining: false, seenAt: NOW, ...x });
const order = (nodes: NodeRecord[], segment = 's') => rankNodes(nodes, segment, NOW, 15).map((n) => n.node);

describe('rankNodes', () => {
  it('puts the node holding most of the segment first, whatever its load below the cap', () => {
    const nodes = [
      rec('few', { sessions: 10, active: ['s'], segmentSessions: { s: 3 } }),
      rec('most', { sessions: 80, active: ['s'], segmentSessions: { s: 40, t: 40 } }),
      rec('none', { sessions: 0 }),
      rec('other-seg', { sessions: 50, active: ['t'], segmentSessions: { t: 50 } }),
    ];
    expect(order(nodes)).toEqual(['most', 'few', 'none', 'other-seg']);
    // For segment t the 50 of other-seg beat the 40 of most.
    expect(order(nodes, 't')).toEqual(['other-seg', 'most', 'none', 'few']);
  });

  it('spreads by load when no node holds the segment, and between equal counts', () => {
    const nodes = [rec('b', { sessions: 30 }), rec('a', { sessions: 30 }), rec('idle', { sessions: 5 }), rec('busy', { sessions: 90 })];
    expect(order(nodes)).toEqual(['idle', 'a', 'b', 'busy']);
    // Load is a share of capacity: 30 of 1000 is lighter than 5 of 100.
    expect(order([rec('small', { sessions: 5 }), rec('big', { sessions: 30, capacity: 1000 })])).toEqual(['big', 'small']);
    const tied = [rec('x', { sessions: 60, segmentSessions: { s: 10 } }), rec('y', { sessions: 20, segmentSessions: { s: 10 } })];
    expect(order(tied)).toEqual(['y', 'x']);
  });

  it('never offers a stale, draining or full node, nor one not hosting the segment', () => {
    const nodes = [
      rec('stale', { seenAt: NOW - 16_000, segmentSessions: { s: 99 }, sessions: 99 }),
      rec('draining', { draining: true, sessions: 50, segmentSessions: { s: 50 } }),
      rec('full', { sessions: 100, segmentSessions: { s: 100 } }),
      rec('elsewhere', { segments: ['t'] }),
      rec('ok', { sessions: 1 }),
    ];
    expect(order(nodes)).toEqual(['ok']);
    expect(rankNodes(nodes, 's', NOW + 16_000, 15)).toEqual([]);
  });

  it('a node past AFFINITY_MAX_LOAD gives up its affinity, so the segment spreads before the node is full', () => {
    const hot = Math.ceil(100 * AFFINITY_MAX_LOAD);
    const nodes = [rec('hot', { sessions: hot, segmentSessions: { s: hot } }), rec('warm', { sessions: 40 }), rec('cool', { sessions: 10 })];
    expect(order(nodes)).toEqual(['cool', 'warm', 'hot']);
    // Just below the cap it still attracts its segment.
    nodes[0] = rec('hot', { sessions: hot - 1, segmentSessions: { s: hot - 1 } });
    expect(order(nodes)).toEqual(['hot', 'cool', 'warm']);
  });

  it('counts a node that only sends `active` as one session of each active segment', () => {
    const nodes = [rec('old', { sessions: 70, active: ['s'] }), rec('new', { sessions: 10, segmentSessions: { s: 2 } }), rec('empty', { sessions: 0 })];
    expect(segmentSessionCount(nodes[0]!, 's')).toBe(1);
    expect(order(nodes)).toEqual(['new', 'old', 'empty']);
    // An explicit 0 wins over a stale `active` flag.
    expect(segmentSessionCount(rec('z', { sessions: 3, active: ['s'], segmentSessions: { s: 0 } }), 's')).toBe(0);
  });

  it('never trusts a per-segment count above the node total', () => {
    const liar = rec('liar', { sessions: 2, segmentSessions: { s: 1_000_000 } });
    expect(segmentSessionCount(liar, 's')).toBe(2);
    expect(order([liar, rec('honest', { sessions: 20, segmentSessions: { s: 3 } })])).toEqual(['honest', 'liar']);
  });

  it('ranks on the projected load (reported + placed): affinity until AFFINITY_MAX_LOAD, then spread, never past capacity', () => {
    const nodes = [rec('home', { sessions: 50, segmentSessions: { s: 50 } }), rec('a', { sessions: 10 }), rec('b', { sessions: 10 })];
    const placed = new Map<string, number>();
    const picks: string[] = [];
    // A burst of 300 logins between two heartbeats (more than the 230 free), each placed on the node ranked first.
    for (let i = 0; i < 300; i++) {
      const first = rankNodes(nodes, 's', NOW, 15, placed)[0];
      if (!first) break;
      placed.set(first.node, (placed.get(first.node) ?? 0) + 1);
      picks.push(first.node);
    }
    // 'home' keeps its segment until 95 of 100 are projected, then the rest spread.
    const firstOff = picks.findIndex((p) => p !== 'home');
    expect(firstOff).toBe(Math.ceil(100 * AFFINITY_MAX_LOAD) - 50);
    // Equal candidates alternate instead of one taking them all.
    expect(picks.slice(firstOff, firstOff + 6)).toEqual(['a', 'b', 'a', 'b', 'a', 'b']);
    // Every node filled exactly to capacity, never past it; then nothing is offered.
    expect(picks.length).toBe(300 - 70);
    for (const n of nodes) expect(n.sessions + (placed.get(n.node) ?? 0)).toBe(100);
    expect(rankNodes(nodes, 's', NOW, 15, placed)).toEqual([]);
    // Without the counts the same burst would all have gone to 'home'.
    expect(order(nodes)).toEqual(['home', 'a', 'b']);
  });

  it('never offers an unhealthy or draining node, however few sessions are placed on it', () => {
    const nodes = [rec('stale', { seenAt: NOW - 16_000 }), rec('draining', { draining: true }), rec('busy', { sessions: 98 })];
    const placed = new Map([['busy', 1]]);
    expect(rankNodes(nodes, 's', NOW, 15, placed).map((n) => n.node)).toEqual(['busy']);
    placed.set('busy', 2);
    expect(rankNodes(nodes, 's', NOW, 15, placed)).toEqual([]);
  });

  it('ignores inherited keys in the counts (a segment called "constructor")', () => {
    expect(segmentSessionCount(rec('n', { sessions: 5, segments: ['constructor'], segmentSessions: {} }), 'constructor')).toBe(0);
  });
});

describe('NodeRegistry.select', () => {
  it('offers the registered nodes in rank order, then the static ones hosting the segment', async () => {
    const store = new MemoryStore({ now: () => NOW });
    const registry = new NodeRegistry({ store, now: () => NOW });
    await registry.heartbeat({ node: 'sw-1', hosts: ['198.18.0.1'], port: 4443, capacity: 100, sessions: 30, segments: ['s'], active: ['s'], segmentSessions: { s: 30 }, draining: false });
    await registry.heartbeat({ node: 'sw-2', hosts: ['198.18.0.2'], port: 4443, capacity: 100, sessions: 1, segments: ['s'], active: ['s'], segmentSessions: { s: 1 }, draining: false });
    await registry.heartbeat({ node: 'sw-3', hosts: ['198.18.0.3'], port: 4443, capacity: 100, sessions: 0, segments: ['s'], active: [], draining: false });
    const entries = await registry.select('s', [{ node: 'static', host: '198.18.0.9', port: 4443, segments: ['s'] }, { node: 'not-s', host: '198.18.0.8', port: 4443, segments: ['t'] }]);
    expect(entries.map((e) => e.node)).toEqual(['sw-1', 'sw-2', 'sw-3', 'static']);
  });

  it('counts its placements until the node heartbeats again, so a burst spreads and then starts afresh', async () => {
    const clock = { t: NOW };
    const store = new MemoryStore({ now: () => clock.t });
    const registry = new NodeRegistry({ store, now: () => clock.t });
    const beat = (node: string, sessions: number) => registry.heartbeat({ node, hosts: [node], port: 4443, capacity: 10, sessions, segments: ['s'], active: [], draining: false });
    await beat('sw-1', 0);
    await beat('sw-2', 0);
    const firsts = async (n: number) => {
      const out: string[] = [];
      for (let i = 0; i < n; i++) out.push((await registry.select('s', []))[0]?.node ?? 'none');
      return out;
    };
    expect(await firsts(4)).toEqual(['sw-1', 'sw-2', 'sw-1', 'sw-2']);
    // Concurrent logins see each other's placements too.
    const together = await Promise.all(Array.from({ length: 4 }, () => registry.select('s', [])));
    expect(together.map((e) => e[0]!.node).sort()).toEqual(['sw-1', 'sw-1', 'sw-2', 'sw-2']);
    // 8 of 20 placed; the last 12 fill both to capacity, then no node is left.
    expect((await firsts(13)).filter((n) => n === 'none')).toHaveLength(1);
    // sw-1 heartbeats with 3 sessions (the rest never came): its count starts afresh.
    clock.t += 1000;
    await beat('sw-1', 3);
    expect(await firsts(7)).toEqual(Array(7).fill('sw-1'));
    expect(await firsts(1)).toEqual(['none']);
  });
});
