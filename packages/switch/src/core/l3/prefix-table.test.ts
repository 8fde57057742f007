import { describe, expect, it } from 'vitest';
import { PrefixTable } from './prefix-table.js';
import { parseAddress, parsePrefix } from './ip.js';

const addr = (s: string) => parseAddress(s)!.words;
function put<V>(t: PrefixTable<V>, cidr: string, v: V): boolean {
  const p = parsePrefix(cidr)!;
  return t.insert(p.words, p.length, v);
}

describe('PrefixTable', () => {
  it('finds the longest matching IPv4 prefix', () => {
    const t = new PrefixTable<string>(4);
    put(t, '0.0.0.0/0', 'default');
    put(t, '198.19.0.0/16', 'seg');
    put(t, '198.19.64.0/28', 'delegated');
    put(t, '198.19.64.5/32', 'host');
    expect(t.lookup(addr('198.19.64.5'))).toBe('host');
    expect(t.lookup(addr('198.19.64.6'))).toBe('delegated');
    expect(t.lookup(addr('198.19.64.16'))).toBe('seg');
    expect(t.lookup(addr('203.0.113.1'))).toBe('default');
    expect(t.size).toBe(4);
  });

  it('finds the longest matching IPv6 prefix across word boundaries', () => {
    const t = new PrefixTable<string>(6);
    put(t, 'fd00:e1::/48', 'seg48');
    put(t, 'fd00:e1:0:100::/56', 'p56');
    put(t, 'fd00:e1:0:1ff::/64', 'p64');
    put(t, 'fd00:e1::17/128', 'host');
    put(t, 'fd00:e1:0:100::/63', 'p63');
    expect(t.lookup(addr('fd00:e1::17'))).toBe('host');
    expect(t.lookup(addr('fd00:e1::18'))).toBe('seg48');
    expect(t.lookup(addr('fd00:e1:0:101::9'))).toBe('p63');
    expect(t.lookup(addr('fd00:e1:0:102::9'))).toBe('p56');
    expect(t.lookup(addr('fd00:e1:0:1ff::1'))).toBe('p64');
    expect(t.lookup(addr('fd00:e2::1'))).toBeUndefined();
  });

  it('reads addresses straight from packet bytes', () => {
    const t = new PrefixTable<number>(6);
    put(t, '2001:db8::/32', 1);
    const pkt = Buffer.alloc(40);
    pkt.set([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], 24);
    expect(t.lookupAt(pkt, 24)).toBe(1);
    expect(t.lookupAt(pkt, 8)).toBeUndefined();
  });

  it('removes routes (only the expected value when asked) and falls back to shorter ones', () => {
    const t = new PrefixTable<string>(4);
    put(t, '198.19.0.0/16', 'seg');
    put(t, '198.19.0.7/32', 'a');
    const p = parsePrefix('198.19.0.7/32')!;
    expect(t.remove(p.words, p.length, 'b')).toBe(false);
    expect(t.lookup(addr('198.19.0.7'))).toBe('a');
    expect(t.remove(p.words, p.length, 'a')).toBe(true);
    expect(t.lookup(addr('198.19.0.7'))).toBe('seg');
    expect(t.size).toBe(1);
    expect(t.remove(p.words, p.length)).toBe(false);
  });

  it('refuses routes beyond its limit and keeps the ones it has', () => {
    const t = new PrefixTable<number>(4, 3);
    for (let i = 1; i <= 3; i++) expect(put(t, `10.0.0.${i}/32`, i)).toBe(true);
    expect(put(t, '10.0.0.4/32', 4)).toBe(false);
    expect(put(t, '10.0.0.2/32', 22)).toBe(true); // replacing is not growing
    expect(t.size).toBe(3);
    expect(t.lookup(addr('10.0.0.4'))).toBeUndefined();
    expect(t.lookup(addr('10.0.0.2'))).toBe(22);
  });

  it('agrees with a linear scan on 20,000 random routes and lookups', () => {
    let seed = 12345;
    const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0), seed);
    const t = new PrefixTable<number>(4);
    const routes: { w: number; len: number; v: number }[] = [];
    for (let i = 0; i < 20_000; i++) {
      const len = [8, 16, 20, 24, 28, 32][rnd() % 6];
      const w = (rnd() & (len === 0 ? 0 : ~0 << (32 - len))) >>> 0;
      const v = i;
      t.insert([w], len, v);
      const old = routes.findIndex((r) => r.w === w && r.len === len);
      if (old >= 0) routes.splice(old, 1);
      routes.push({ w, len, v });
    }
    const byLen = [...routes].sort((a, b) => b.len - a.len);
    for (let i = 0; i < 2000; i++) {
      // Half the probes hit a known route's range.
      const base = i % 2 === 0 ? routes[rnd() % routes.length].w : rnd();
      const a = (base | (rnd() & 0xff)) >>> 0;
      const want = byLen.find((r) => (r.len === 0 ? true : ((a & (~0 << (32 - r.len))) >>> 0) === r.w))?.v;
      expect(t.lookup([a])).toBe(want);
    }
  });
});
