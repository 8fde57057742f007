import { describe, expect, it } from 'vitest';
import { Series, SeriesMap } from './series.js';

describe('Series', () => {
  it('keeps the last `capacity` samples in uPlot columns, newest last', () => {
    const s = new Series(['rx', 'tx'], 3);
    for (let t = 1; t <= 5; t++) s.push(t, [t * 10, t * 100]);
    expect(s.data()).toEqual([
      [3, 4, 5],
      [30, 40, 50],
      [300, 400, 500],
    ]);
    expect(s.latest()).toEqual([50, 500]);
    expect(s.length).toBe(3);
  });

  it('ignores a sample not newer than the last one (a replayed event)', () => {
    const s = new Series(['a'], 10);
    s.push(5, [1]);
    s.push(5, [2]);
    s.push(4, [3]);
    expect(s.data()).toEqual([[5], [1]]);
  });
});

describe('SeriesMap', () => {
  it('holds at most maxKeys series, pushing out the least recently used', () => {
    const m = new SeriesMap(10, 2);
    m.get('a', ['x']).push(1, [1]);
    m.get('b', ['x']);
    m.get('a', ['x']); // a used again
    m.get('c', ['x']);
    expect(m.size).toBe(2);
    expect(m.peek('b')).toBeUndefined();
    expect(m.peek('a')?.latest()).toEqual([1]);
  });

  it('starts a series over when its set of lines changes (a new drop reason)', () => {
    const m = new SeriesMap(10, 10);
    m.get('d', ['queue_full']).push(1, [3]);
    const s = m.get('d', ['flood_limit', 'queue_full']);
    expect(s.length).toBe(0);
    expect(s.names).toEqual(['flood_limit', 'queue_full']);
  });
});
