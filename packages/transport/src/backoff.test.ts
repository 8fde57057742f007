import { describe, expect, it } from 'vitest';
import { Backoff } from './backoff.js';

describe('Backoff', () => {
  it('doubles the ceiling per attempt up to the cap, with full jitter below it', () => {
    const ceilings: number[] = [];
    const b = new Backoff({ baseMs: 100, capMs: 1000, random: () => 0.999999 });
    for (let i = 0; i < 6; i++) ceilings.push(b.next());
    expect(ceilings).toEqual([99, 199, 399, 799, 999, 999]);
  });

  it('draws the delay uniformly from [0, ceiling)', () => {
    const b = new Backoff({ baseMs: 1000, capMs: 1000, random: () => 0 });
    expect(b.next()).toBe(0);
    const seen = new Set<number>();
    const r = new Backoff({ baseMs: 1000, capMs: 1000 });
    for (let i = 0; i < 200; i++) {
      const d = r.next();
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThan(1000);
      seen.add(Math.floor(d / 100));
    }
    // 200 uniform draws over ten buckets leave none empty except with negligible probability.
    expect(seen.size).toBe(10);
  });

  it('starts again from the base after reset', () => {
    const b = new Backoff({ baseMs: 100, capMs: 10_000, random: () => 0.999999 });
    b.next();
    b.next();
    b.next();
    b.reset();
    expect(b.next()).toBe(99);
  });

  it('waits at least a Retry-After, plus jitter of up to a fifth (at least a second), without touching the backoff', () => {
    expect(new Backoff({ random: () => 0 }).after(300)).toBe(300_000);
    expect(new Backoff({ random: () => 0.999999 }).after(300)).toBe(359_999);
    expect(new Backoff({ random: () => 0.999999 }).after(1)).toBe(1999);
    // At most an hour (plus its jitter), whatever the server says.
    expect(new Backoff({ random: () => 0 }).after(999_999_999)).toBe(3_600_000);
    const b = new Backoff({ baseMs: 100, capMs: 10_000, random: () => 0.999999 });
    b.after(5);
    expect(b.next()).toBe(99);
  });
});
