import { describe, it, expect } from 'vitest';
import { nodesForSegment } from './nodes.js';

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
