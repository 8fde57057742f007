import { describe, it, expect } from 'vitest';
import { ElError, segmentSchema, type SegmentDef } from '@elink/protocol';
import { Ipam, leaseKey } from './ipam.js';
import type { LeaseFamily, LeaseRecord, LeaseStore, OwnerCap } from './lease-store.js';
import { MemoryStore } from './store/memory-store.js';

function segment(name: string, ipv4?: string, ipv6?: string, gateway4?: string): SegmentDef {
  return segmentSchema.parse({
    name,
    ...(ipv4 ? { ipv4: { pool: ipv4, ...(gateway4 ? { gateway: gateway4 } : {}) } } : {}),
    ...(ipv6 ? { ipv6: { pool: ipv6 } } : {}),
  });
}

async function errorCode(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (err) {
    return err instanceof ElError ? err.code : String(err);
  }
  return undefined;
}

describe('Ipam', () => {
  it('families narrows the lease (DTCP: host = ipv6 only, network = prefix6 only, tunnelonly = nothing), sticky like any lease', async () => {
    const def = segmentSchema.parse({ name: 'v6', mode: 'l3', ipv4: { pool: '198.19.0.0/24' }, ipv6: { pool: 'fd00:e1::/64' }, delegation: { ipv6: { pool: 'fd00:e1:100::/40', length: 48 }, ipv4: { pool: '198.19.64.0/20', length: 28 } } });
    const store = new MemoryStore();
    const ipam = new Ipam([def], store);
    const host = await ipam.lease('v6', 'phone', 'dtcp', { families: ['ipv6'] });
    expect(Object.keys(host)).toEqual(['ipv6']);
    expect(await ipam.lease('v6', 'iad', 'dtcp', { families: ['prefix6'] })).toEqual({ prefix: 'fd00:e1:100::/48' });
    expect(await ipam.lease('v6', 'bare', 'dtcp', { families: [] })).toEqual({});
    expect(await store.get('v6', leaseKey('bare', 'dtcp'))).toBeUndefined();
    // The same key later asking for more keeps what it has.
    expect((await ipam.lease('v6', 'phone', 'dtcp', { families: ['ipv6', 'prefix6'] })).ipv6).toBe(host.ipv6);
    expect(ipam.delegates6('v6')).toBe(true);
  });

  it('hands out the lowest free IPv4 address with the pool prefix length, skipping network and gateway', async () => {
    const ipam = new Ipam([segment('lan', '198.19.0.0/16')], new MemoryStore());
    expect((await ipam.lease('lan', 'alice', 'default')).ipv4).toBe('198.19.0.2/16');
    expect((await ipam.lease('lan', 'bob', 'default')).ipv4).toBe('198.19.0.3/16');
    expect((await ipam.lease('lan', 'alice', 'phone')).ipv4).toBe('198.19.0.4/16');
  });

  it('is sticky per (segment, user, device)', async () => {
    const ipam = new Ipam([segment('a', '198.19.0.0/24', 'fd00:e1::/64'), segment('b', '198.19.1.0/24', 'fd00:e1:0:1::/64')], new MemoryStore());
    const first = await ipam.lease('a', 'alice', 'laptop');
    await ipam.lease('a', 'bob', 'laptop');
    expect(await ipam.lease('a', 'alice', 'laptop')).toEqual(first);
    const other = await ipam.lease('b', 'alice', 'laptop');
    expect(other.ipv4).toBe('198.19.1.2/24');
    expect(other.ipv6?.startsWith('fd00:e1:0:1:')).toBe(true);
    expect(await ipam.count('a')).toBe(2);
    expect(await ipam.count('b')).toBe(1);
  });

  it('derives IPv6 addresses from the key: stable across stores, distinct across keys, inside the pool', async () => {
    const segs = [segment('v6', undefined, 'fd00:e1::/64')];
    const a = await new Ipam(segs, new MemoryStore()).lease('v6', 'alice', 'default');
    const b = await new Ipam(segs, new MemoryStore()).lease('v6', 'alice', 'default');
    expect(a).toEqual(b);
    expect(a.ipv4).toBeUndefined();
    expect(a.ipv6).toMatch(/^fd00:e1:.*\/64$/);
    const ipam = new Ipam(segs, new MemoryStore());
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) seen.add((await ipam.lease('v6', `user${i}`, 'default')).ipv6!);
    expect(seen.size).toBe(200);
  });

  it('exhausts a /29 after exactly 5 leases, never duplicating, and says EL_ERR_POOL_EXHAUSTED', async () => {
    const ipam = new Ipam([segment('tiny', '198.19.0.0/29')], new MemoryStore());
    const got: string[] = [];
    for (let i = 0; i < 5; i++) got.push((await ipam.lease('tiny', `u${i}`, 'd')).ipv4!);
    expect(got).toEqual(['198.19.0.2/29', '198.19.0.3/29', '198.19.0.4/29', '198.19.0.5/29', '198.19.0.6/29']);
    expect(await errorCode(ipam.lease('tiny', 'u5', 'd'))).toBe('EL_ERR_POOL_EXHAUSTED');
    expect(await errorCode(ipam.lease('tiny', 'u6', 'd'))).toBe('EL_ERR_POOL_EXHAUSTED');
    // Holders keep their addresses after the pool filled up.
    expect((await ipam.lease('tiny', 'u3', 'd')).ipv4).toBe('198.19.0.5/29');
  });

  it('uses the low addresses when the gateway is configured at the top', async () => {
    const ipam = new Ipam([segment('gw', '198.19.0.0/29', undefined, '198.19.0.6')], new MemoryStore());
    const got: string[] = [];
    for (let i = 0; i < 5; i++) got.push((await ipam.lease('gw', `u${i}`, 'd')).ipv4!);
    expect(got).toEqual(['198.19.0.1/29', '198.19.0.2/29', '198.19.0.3/29', '198.19.0.4/29', '198.19.0.5/29']);
    expect(await errorCode(ipam.lease('gw', 'u5', 'd'))).toBe('EL_ERR_POOL_EXHAUSTED');
  });

  it('exhausts a small IPv6 pool exactly (a /125 leaves 6: no anycast, no gateway)', async () => {
    const ipam = new Ipam([segment('v6tiny', undefined, 'fd00:e1::/125')], new MemoryStore());
    const got = new Set<string>();
    for (let i = 0; i < 6; i++) got.add((await ipam.lease('v6tiny', `u${i}`, 'd')).ipv6!);
    expect(got.size).toBe(6);
    expect(got.has('fd00:e1::/125')).toBe(false);
    expect(got.has('fd00:e1::1/125')).toBe(false);
    expect(await errorCode(ipam.lease('v6tiny', 'u6', 'd'))).toBe('EL_ERR_POOL_EXHAUSTED');
  });

  it('gives concurrent logins distinct addresses, and one key one address', async () => {
    const ipam = new Ipam([segment('race', '198.19.0.0/24', 'fd00:e1::/120')], new MemoryStore());
    const users = Array.from({ length: 40 }, (_, i) => `u${i}`);
    // Every user logs in twice at once.
    const leases = await Promise.all([...users, ...users].map((u) => ipam.lease('race', u, 'd')));
    const byUser = new Map<string, string>();
    leases.forEach((l, i) => {
      const u = users[i % users.length];
      const prior = byUser.get(u);
      if (prior) expect(l.ipv4 + ' ' + l.ipv6).toBe(prior);
      else byUser.set(u, l.ipv4 + ' ' + l.ipv6);
    });
    const v4 = new Set(leases.map((l) => l.ipv4));
    const v6 = new Set(leases.map((l) => l.ipv6));
    expect(v4.size).toBe(40);
    expect(v6.size).toBe(40);
    expect(await ipam.count('race')).toBe(40);
  });

  it('returns the address a concurrent claim of the same key won (store contract)', async () => {
    // A store where another broker already leased 198.19.0.9 to this key between get and claim.
    const inner = new MemoryStore();
    const key = leaseKey('alice', 'd');
    await inner.claim('s', key, 'ipv4', '198.19.0.9', 60);
    const racing: LeaseStore = {
      get: async (): Promise<LeaseRecord | undefined> => undefined,
      claim: (seg: string, k: string, f: LeaseFamily, a: string, ttl: number) => inner.claim(seg, k, f, a, ttl),
      claimCapped: (seg: string, k: string, f: LeaseFamily, a: string, ttl: number, owner: OwnerCap) => inner.claimCapped(seg, k, f, a, ttl, owner),
      touch: (seg: string, k: string, ttl: number) => inner.touch(seg, k, ttl),
      release: (seg: string, k: string) => inner.release(seg, k),
      list: (seg: string, limit: number) => inner.list(seg, limit),
      count: (seg: string) => inner.count(seg),
      ping: () => inner.ping(),
    };
    const ipam = new Ipam([segment('s', '198.19.0.0/24')], racing);
    expect((await ipam.lease('s', 'alice', 'd')).ipv4).toBe('198.19.0.9/24');
  });

  it('refuses an unknown segment and bad pool configuration', async () => {
    const ipam = new Ipam([segment('lan', '198.19.0.0/24')], new MemoryStore());
    expect(await errorCode(ipam.lease('nope', 'alice', 'd'))).toBe('EL_ERR_NO_SEGMENT');
    expect(() => new Ipam([segment('bad', '198.19.0.0/24', undefined, '10.0.0.1')], new MemoryStore())).toThrow(/segment "bad" ipv4: gateway 10\.0\.0\.1 is outside/);
  });
});

