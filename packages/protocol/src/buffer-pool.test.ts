import { describe, expect, it } from 'vitest';
import { BufferPool } from './buffer-pool.js';

describe('BufferPool', () => {
  it('gives a returned buffer out again, by size class, and keeps at most `keep` per class', () => {
    const pool = new BufferPool(1);
    const a = pool.take(1000)!;
    expect(a.length).toBe(64 * 1024);
    pool.give(a);
    expect(pool.take(5000)).toBe(a);
    const big = pool.take(300 * 1024)!;
    expect(big.length).toBe(1024 * 1024);
    expect(pool.take(3 * 1024 * 1024)).toBeUndefined();
    const x = pool.take(10)!;
    const y = pool.take(10)!;
    pool.give(x);
    pool.give(y); // over `keep`: left to the GC
    expect(pool.take(10)).toBe(x);
    expect(pool.take(10)).not.toBe(y);
    pool.give(Buffer.alloc(123)); // not one of ours: ignored
  });
});
