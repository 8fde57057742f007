import { describe, expect, it } from 'vitest';
import type { ServerInfo } from './login.js';
import { lostNodeLast, reconnectOrder } from './reconnect-order.js';

const servers: ServerInfo[] = [
  { node: 'a', host: '10.0.0.1', port: 4443 },
  { node: 'a', host: 'fd00::1', port: 4443 },
  { node: 'b', host: '10.0.0.2', port: 4443 },
  { node: 'c', host: '10.0.0.3', port: 4443 },
  { node: 'c', host: 'fd00::3', port: 4443 },
  { node: 'd', host: '10.0.0.4', port: 4443 },
];

describe('reconnectOrder', () => {
  it('tries the lost node last, keeps every entry once and each node’s addresses together in order', () => {
    for (let round = 0; round < 50; round++) {
      const order = reconnectOrder(servers, 'a');
      expect(order).toHaveLength(servers.length);
      expect(new Set(order)).toEqual(new Set(servers));
      expect(order.slice(-2)).toEqual([servers[0], servers[1]]);
      const c = order.findIndex((s) => s.node === 'c');
      expect(order[c + 1]).toBe(servers[4]);
    }
  });

  it('spreads the clients of a lost node over all the others', () => {
    const firsts = new Map<string, number>();
    for (let round = 0; round < 600; round++) {
      const first = reconnectOrder(servers, 'a')[0]!.node;
      firsts.set(first, (firsts.get(first) ?? 0) + 1);
    }
    expect([...firsts.keys()].sort()).toEqual(['b', 'c', 'd']);
    // Uniform: 200 each expected; 100 is more than 8 standard deviations away.
    for (const n of firsts.values()) expect(n).toBeGreaterThan(100);
  });

  it('without a lost node (or one not listed) shuffles them all', () => {
    const seq = [0.99, 0.0, 0.5];
    let i = 0;
    const order = reconnectOrder(servers, undefined, () => seq[i++ % seq.length]!);
    expect(order.map((s) => s.node)).toEqual(['c', 'c', 'b', 'a', 'a', 'd']);
    expect(reconnectOrder(servers, 'zz')).toHaveLength(servers.length);
  });

  it('keeps a fresh list’s order but for the lost node, moved last', () => {
    expect(lostNodeLast(servers, 'c').map((s) => s.host)).toEqual(['10.0.0.1', 'fd00::1', '10.0.0.2', '10.0.0.4', '10.0.0.3', 'fd00::3']);
    expect(lostNodeLast(servers, undefined)).toEqual(servers);
  });
});
