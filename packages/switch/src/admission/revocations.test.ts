import { describe, expect, it } from 'vitest';
import { Revocations, revokes } from './revocations.js';

describe('Revocations', () => {
  it('refuses claims of a revoked user or device issued up to the revocation, until it ends', () => {
    let now = 1000;
    const r = new Revocations(10, () => now);
    expect(r.apply([{ user: 'amy', device: 'pc', at: 1000, until: 1060 }, { user: 'bob', at: 990, until: 1050 }])).toHaveLength(2);
    expect(r.refusing({ sub: 'amy', dev: 'pc', iat: 1000 })?.device).toBe('pc');
    expect(r.refusing({ sub: 'amy', dev: 'phone', iat: 1000 })).toBeUndefined();
    expect(r.refusing({ sub: 'amy', dev: 'pc', iat: 1001 })).toBeUndefined();
    expect(r.refusing({ sub: 'bob', dev: 'x', iat: 990 })?.user).toBe('bob');
    expect(r.refusing({ sub: 'bob', iat: 991 })).toBeUndefined();
    // The same list again brings nothing new (no session is closed twice); a later one does.
    expect(r.apply([{ user: 'amy', device: 'pc', at: 1000, until: 1060 }])).toEqual([]);
    expect(r.apply([{ user: 'amy', device: 'pc', at: 1010, until: 1070 }])).toHaveLength(1);
    now = 1051;
    expect(r.refusing({ sub: 'bob', iat: 900 })).toBeUndefined();
    r.apply([]);
    expect(r.size).toBe(1);
  });

  it('stays bounded: at capacity the entry nearest its end gives way', () => {
    const r = new Revocations(3, () => 0);
    r.apply([1, 2, 3, 4].map((i) => ({ user: `u${i}`, at: 0, until: 100 + (i === 2 ? -50 : i) })));
    expect(r.size).toBe(3);
    expect(r.refusing({ sub: 'u2', iat: 0 })).toBeUndefined();
    expect(r.refusing({ sub: 'u4', iat: 0 })).toBeDefined();
  });

  it('revokes() matches what refusing() refuses', () => {
    const rev = { user: 'amy', at: 10, until: 20 };
    expect(revokes(rev, { sub: 'amy', dev: 'a', iat: 10 })).toBe(true);
    expect(revokes(rev, { sub: 'amy', iat: 11 })).toBe(false);
    expect(revokes({ ...rev, device: 'a' }, { sub: 'amy', dev: 'b', iat: 1 })).toBe(false);
  });
});
