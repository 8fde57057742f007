import { describe, it, expect } from 'vitest';
import { nodesForSegment } from './nodes.js';
import { serverEntries } from './node-registry.js';

describe('nodesForSegment', () => {
  it('keeps the given order, includes nodes without a segment list, drops the others', () => {
    const nodes = [
      { node: 'a', host: 'h1', port: 1, segments: ['x'] },
      { node: 'b', host: 'h2', port: 2 },
      { node: 'c', host: 'h3', port: 3, segments: ['y'], fingerprint: 'FF' },
      { node: 'd', host: 'h4', port: 4, segments: ['y', 'x'] },
    ];
    expect(nodesForSegment(nodes, 'x')).toEqual([
      { node: 'a', host: 'h1', port: 1 },
      { node: 'b', host: 'h2', port: 2 },
      { node: 'd', host: 'h4', port: 4 },
    ]);
    expect(nodesForSegment(nodes, 'y').map((n) => n.node)).toEqual(['b', 'c', 'd']);
    expect(nodesForSegment(nodes, 'y')[1]).toEqual({ node: 'c', host: 'h3', port: 3, fingerprint: 'FF' });
    expect(nodesForSegment([{ node: 'a', host: 'h', port: 1, segments: [] }], 'x')).toEqual([]);
  });
});

describe('the WebSocket URL of a node behind an ingress', () => {
  it('reaches the login reply entries from the static list and from heartbeats', () => {
    const ws = 'wss://vpn.example/v1/el';
    expect(nodesForSegment([{ node: 'a', host: 'h1', port: 1, websocket: ws }], 'x')).toEqual([{ node: 'a', host: 'h1', port: 1, ws }]);
    const record = { node: 'b', hosts: ['h2', 'h3'], port: 2, websocket: ws, capacity: 10, sessions: 0, segments: ['x'], active: [], draining: false, seenAt: 0 };
    expect(serverEntries([record])).toEqual([
      { node: 'b', host: 'h2', port: 2, ws },
      { node: 'b', host: 'h3', port: 2, ws },
    ]);
  });
});
