/** PlacementCounts: per-node placements since the node's last heartbeat, forgotten when it beats again or leaves. */
import { describe, expect, it } from 'vitest';
import { MAX_PLACED_NODES, PlacementCounts } from './placement-counts.js';
import type { NodeRecord } from './store/store.js';

const rec = (node: string, seenAt: number): NodeRecord => ({ node, hosts: [node], port: 4443, capacity: 100, sessions: 0, segments: ['s'], active: [], draining: false, seenAt });

describe('PlacementCounts', () => {
  it('counts per node until a newer heartbeat (seen through the store, from any broker) or the node leaves', () => {
    const c = new PlacementCounts();
    c.add('a', 1);
    c.add('a', 1);
    c.add('b', 1);
    expect([...c.current([rec('a', 1), rec('b', 1)])]).toEqual([['a', 2], ['b', 1]]);
    // a heartbeated (its seenAt moved), b left the registry.
    expect([...c.current([rec('a', 2)])]).toEqual([]);
    expect(c.size).toBe(0);
    // A placement under the new heartbeat starts at 1.
    c.add('a', 2);
    expect(c.current([rec('a', 2)]).get('a')).toBe(1);
    // A heartbeat here at 2 keeps what was placed under it; one at 3 drops it.
    c.drop('a', 2);
    expect(c.size).toBe(1);
    c.drop('a', 3);
    expect(c.size).toBe(0);
  });

  it('restarts a count recorded under an older heartbeat', () => {
    const c = new PlacementCounts();
    c.add('a', 1);
    c.add('a', 5);
    expect(c.current([rec('a', 5)]).get('a')).toBe(1);
  });

  it('holds at most MAX_PLACED_NODES entries', () => {
    const c = new PlacementCounts();
    for (let i = 0; i <= MAX_PLACED_NODES; i++) c.add(`n${i}`, 1);
    expect(c.size).toBe(MAX_PLACED_NODES);
    // Known nodes still count.
    c.add('n0', 1);
    expect(c.current([rec('n0', 1)]).get('n0')).toBe(2);
  });
});
