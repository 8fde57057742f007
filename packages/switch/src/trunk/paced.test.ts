import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Paced } from './paced.js';

describe('Paced', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs at once, then once at the end of the interval however many calls came in it', () => {
    let runs = 0;
    const p = new Paced(1000, () => runs++);
    expect(p.run()).toBe('now');
    expect(runs).toBe(1);
    vi.advanceTimersByTime(200);
    expect(p.run()).toBe('later');
    for (let i = 0; i < 50; i++) expect(p.run()).toBe('waiting');
    vi.advanceTimersByTime(799);
    expect(runs).toBe(1);
    vi.advanceTimersByTime(1);
    expect(runs).toBe(2);
    // The run at the end starts the next interval.
    expect(p.run()).toBe('later');
    vi.advanceTimersByTime(1000);
    expect(runs).toBe(3);
    vi.advanceTimersByTime(5000);
    expect(p.run()).toBe('now');
    expect(runs).toBe(4);
  });

  it('stop() drops a waiting run', () => {
    let runs = 0;
    const p = new Paced(1000, () => runs++);
    p.run();
    expect(p.run()).toBe('later');
    p.stop();
    vi.advanceTimersByTime(5000);
    expect(runs).toBe(1);
  });
});
