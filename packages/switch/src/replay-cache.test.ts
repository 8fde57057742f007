import { describe, it, expect } from 'vitest';
import { ReplayCache } from './replay-cache.js';

describe('ReplayCache', () => {
  it('accepts a ticket id once until it expires', () => {
    let now = 1000;
    const c = new ReplayCache(10, () => now);
    expect(c.check('jti-00001', 1060)).toBe('fresh');
    expect(c.check('jti-00001', 1060)).toBe('replayed');
    now = 1061;
    expect(c.check('jti-00001', 1120)).toBe('fresh');
  });

  it('refuses new ids when full of live ones instead of forgetting them', () => {
    let now = 1000;
    const c = new ReplayCache(2, () => now);
    expect(c.check('a-000000', 1010)).toBe('fresh');
    expect(c.check('b-000000', 1100)).toBe('fresh');
    expect(c.check('c-000000', 1100)).toBe('full');
    expect(c.check('a-000000', 1010)).toBe('replayed');
    now = 1011; // a expired: its room is reused
    expect(c.check('c-000000', 1100)).toBe('fresh');
    expect(c.size).toBe(2);
  });
});
