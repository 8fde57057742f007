import { describe, expect, it } from 'vitest';
import { FAR_SAMPLE_MS, FdBudget } from './fd-budget.js';

describe('FdBudget', () => {
  it('counts the real /proc/self/fd: what is open now, at least stdio', () => {
    const fds = new FdBudget({ limit: 1_000_000 });
    expect(fds.inUse).toBeGreaterThanOrEqual(3);
    expect(fds.low).toBe(false);
  });

  it('lists the descriptors once per sampleMs near the limit, once per FAR_SAMPLE_MS under half of it', () => {
    let t = 0;
    let open = 100;
    let listings = 0;
    const fds = new FdBudget({ limit: 1000, reserve: 10, sampleMs: 1000, now: () => t, countFds: () => (listings++, open) });
    expect(fds.inUse).toBe(100);
    expect(listings).toBe(1);
    // Far from the limit: the count of a second ago stands, connections counted as they come.
    t = 5000;
    open = 300;
    fds.opened();
    expect(fds.inUse).toBe(101);
    expect(listings).toBe(1);
    t = FAR_SAMPLE_MS;
    expect(fds.inUse).toBe(300);
    expect(listings).toBe(2);
    // Past half: every sampleMs again, so shedding starts on time.
    open = 700;
    t += FAR_SAMPLE_MS;
    expect(fds.inUse).toBe(700);
    t += 1000;
    open = 995;
    expect(fds.inUse).toBe(995);
    expect(fds.low).toBe(true);
    expect(listings).toBe(4);
  });

  it('keeps the last estimate when the listing fails (no descriptor left for it)', () => {
    let t = 0;
    let fail = false;
    const fds = new FdBudget({ limit: 100, reserve: 5, sampleMs: 1000, now: () => t, countFds: () => { if (fail) throw new Error('EMFILE'); return 96; } });
    expect(fds.low).toBe(true);
    fail = true;
    t = 2000;
    expect(fds.inUse).toBe(96);
    expect(fds.low).toBe(true);
  });
});
