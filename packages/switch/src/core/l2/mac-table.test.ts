import { describe, it, expect } from 'vitest';
import { MacTable } from './mac-table.js';
import { MemoryPort } from '../../ports/memory-port.js';

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('MacTable', () => {
  it('learns a MAC and looks it up on its port', () => {
    const a = new MemoryPort('a');
    const t = new MacTable({ capacity: 16, agingMs: 300_000 });
    expect(t.lookup(0x020000000001)).toBeUndefined();
    expect(t.learn(0x020000000001, a)).toBeUndefined();
    expect(t.lookup(0x020000000001)).toBe(a);
    expect(t.size).toBe(1);
  });

  it('forgets an entry not heard from for the aging time, on lookup and by sweep', () => {
    const c = clock();
    const a = new MemoryPort('a');
    const t = new MacTable({ capacity: 16, agingMs: 10_000, now: c.now });
    t.learn(1, a);
    t.learn(2, a);
    c.advance(5_000);
    t.learn(2, a); // refreshed: younger than 1
    c.advance(6_000);
    expect(t.lookup(1)).toBeUndefined();
    expect(t.lookup(2)).toBe(a);
    expect(t.size).toBe(1);
    c.advance(5_000);
    expect(t.sweep()).toBe(1);
    expect(t.size).toBe(0);
    expect(t.aged).toBe(2);
  });

  it('evicts the least recently used entry when the table is full, and counts it', () => {
    const c = clock();
    const a = new MemoryPort('a');
    const t = new MacTable({ capacity: 3, agingMs: 300_000, now: c.now });
    t.learn(1, a);
    c.advance(2000);
    t.learn(2, a);
    c.advance(2000);
    t.learn(3, a);
    c.advance(2000);
    t.learn(1, a); // 1 is now the most recent: 2 is the LRU one
    t.learn(4, a);
    expect(t.size).toBe(3);
    expect(t.evictions).toBe(1);
    expect(t.lookup(2)).toBeUndefined();
    expect(t.lookup(1)).toBe(a);
    expect(t.lookup(3)).toBe(a);
    expect(t.lookup(4)).toBe(a);
  });

  it('never exceeds its capacity under 100,000 random MACs', () => {
    const a = new MemoryPort('a');
    const t = new MacTable({ capacity: 1000, agingMs: 300_000 });
    let max = 0;
    for (let i = 0; i < 100_000; i++) {
      const mac = Math.floor(Math.random() * 2 ** 47) * 2; // random 48-bit unicast
      t.learn(mac, a);
      if (t.size > max) max = t.size;
    }
    expect(max).toBe(1000);
    expect(t.size).toBe(1000);
    expect(t.evictions).toBeGreaterThanOrEqual(99_000 - 1000);
    expect(t.countOf(a)).toBe(1000);
  });

  it('enforces the per-port limit', () => {
    const a = new MemoryPort('a');
    const b = new MemoryPort('b');
    const t = new MacTable({ capacity: 100, agingMs: 300_000 });
    for (let i = 1; i <= 4; i++) expect(t.learn(i, a, 4)).toBeUndefined();
    expect(t.learn(5, a, 4)).toBe('mac_limit');
    expect(t.learn(1, a, 4)).toBeUndefined(); // a known one is still fine
    expect(t.learn(5, b, 4)).toBeUndefined(); // the limit is per port
    expect(t.learn(1, b, 1)).toBe('mac_limit'); // moving counts against the new port's limit
    expect(t.countOf(a)).toBe(4);
  });

  it('moves a MAC heard on another port and counts the move', () => {
    const a = new MemoryPort('a');
    const b = new MemoryPort('b');
    const t = new MacTable({ capacity: 100, agingMs: 300_000 });
    t.learn(7, a);
    t.learn(7, b);
    expect(t.lookup(7)).toBe(b);
    expect(t.moves).toBe(1);
    expect(t.countOf(a)).toBe(0);
    expect(t.countOf(b)).toBe(1);
  });

  it('does not let another port take a pinned MAC', () => {
    const a = new MemoryPort('a');
    const b = new MemoryPort('b');
    const t = new MacTable({ capacity: 16, agingMs: 10_000 });
    expect(t.pin(9, a)).toBeUndefined();
    expect(t.learn(9, b)).toBe('mac_conflict');
    expect(t.pin(9, b)).toBe(a);
    expect(t.learn(9, a)).toBeUndefined();
    expect(t.lookup(9)).toBe(a);
    expect(t.moves).toBe(0);
  });

  it('keeps a pinned MAC beyond the aging time', () => {
    const c = clock();
    const a = new MemoryPort('a');
    const t = new MacTable({ capacity: 16, agingMs: 10_000, now: c.now });
    t.pin(9, a);
    c.advance(60_000);
    t.sweep();
    expect(t.lookup(9)).toBe(a);
  });

  it('forgets every MAC of a port that goes away, pins included', () => {
    const a = new MemoryPort('a');
    const b = new MemoryPort('b');
    const t = new MacTable({ capacity: 100, agingMs: 300_000 });
    t.learn(1, a);
    t.learn(2, a);
    t.pin(3, a);
    t.learn(4, b);
    t.forgetPort(a);
    expect(t.lookup(1)).toBeUndefined();
    expect(t.lookup(2)).toBeUndefined();
    expect(t.lookup(3)).toBeUndefined();
    expect(t.lookup(4)).toBe(b);
    expect(t.size).toBe(1);
    expect(t.pinned).toBe(0);
    expect(t.pin(3, b)).toBeUndefined();
  });
});
