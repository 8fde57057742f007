import { describe, it, expect } from 'vitest';
import { l2SegmentSchema, l3SegmentSchema, segmentSchema, type SegmentDef } from './segment.js';

/** The first issue's message, and its path, for an input the schema must reject. */
function rejection(input: unknown): { path: string; message: string } {
  const r = segmentSchema.safeParse(input);
  expect(r.success, JSON.stringify(input)).toBe(false);
  const issue = r.error!.issues[0];
  return { path: issue.path.join('.'), message: issue.message };
}

describe('segment definitions', () => {
  it('applies every L2 default to a bare name (no mode means L2)', () => {
    expect(segmentSchema.parse({ name: 'office' })).toEqual({
      name: 'office',
      mode: 'l2',
      mtu: 1500,
      macsPerSession: 1,
      macTableSize: 65536,
      macAgingSeconds: 300,
      inspection: { arp: true, nd: true },
      bridgeRanges: [],
      floodLimit: { rate: 1000, burst: 2000 },
      keepalive: { interval: 15, timeout: 45 },
    });
  });

  it('applies every L3 default to an L3 segment, and no L2 key', () => {
    expect(segmentSchema.parse({ name: 'core', mode: 'l3' })).toEqual({
      name: 'core',
      mode: 'l3',
      mtu: 1500,
      reach: [],
      maxRoutes: 262144,
      icmpPerSession: { rate: 20, burst: 20 },
      keepalive: { interval: 15, timeout: 45 },
    });
  });

  it('dns: IPv4/IPv6 servers and search domains, bounded, strict, search only with a server', () => {
    const dns = { servers: ['198.19.0.53', 'fd00:e1::53'], search: ['corp.example', 'lab'] };
    expect(segmentSchema.parse({ name: 'office', dns }).dns).toEqual(dns);
    expect(segmentSchema.parse({ name: 'core', mode: 'l3', dns: { servers: ['198.19.0.53'] } }).dns).toEqual({ servers: ['198.19.0.53'], search: [] });
    expect(rejection({ name: 'office', dns: { servers: ['dns.example'] } })).toMatchObject({ path: 'dns.servers.0', message: expect.stringMatching(/IPv4 or IPv6 address/) });
    expect(rejection({ name: 'office', dns: { servers: ['198.19.0.0/24'] } }).path).toBe('dns.servers.0');
    expect(rejection({ name: 'office', dns: { servers: ['198.19.0.999'] } }).path).toBe('dns.servers.0');
    expect(rejection({ name: 'office', dns: { servers: ['198.19.0.1', '198.19.0.2', '198.19.0.3', '198.19.0.4', '198.19.0.5'] } }).path).toBe('dns.servers');
    expect(rejection({ name: 'office', dns: { servers: ['198.19.0.1'], search: ['a', 'b', 'c', 'd', 'e', 'f', 'g'] } }).path).toBe('dns.search');
    for (const bad of ['-corp.example', 'corp..example', 'corp.example.', 'a b', 'x'.repeat(64)]) expect(rejection({ name: 'office', dns: { servers: ['198.19.0.1'], search: [bad] } }).path, bad).toBe('dns.search.0');
    expect(rejection({ name: 'office', dns: { search: ['corp.example'] } })).toEqual({ path: 'dns.search', message: 'search domains need at least one server' });
    expect(rejection({ name: 'office', dns: { servers: ['198.19.0.53'], domain: 'corp.example' } }).path).toBe('dns');
    // Not configured, not there: a broker's heartbeat then carries nothing a switch node that predates dns refuses.
    expect('dns' in segmentSchema.parse({ name: 'office' })).toBe(false);
    expect(segmentSchema.parse({ name: 'office', dns: {} }).dns).toEqual({ servers: [], search: [] });
  });

  it('refuses keys of the other mode and unknown keys, at every level', () => {
    const l3 = { name: 'c', mode: 'l3' };
    for (const key of ['bridge', 'macsPerSession', 'macTableSize', 'macAgingSeconds', 'inspection', 'bridgeRanges', 'floodLimit']) {
      const r = segmentSchema.safeParse({ ...l3, [key]: {} });
      expect(r.success, key).toBe(false);
      expect(r.error!.issues.some((i) => i.code === 'unrecognized_keys' && i.keys.includes(key)), key).toBe(true);
    }
    for (const key of ['reach', 'maxRoutes', 'delegation', 'uplink', 'icmpPerSession']) {
      const r = segmentSchema.safeParse({ name: 'b', [key]: {} });
      expect(r.success, key).toBe(false);
      expect(r.error!.issues.some((i) => i.code === 'unrecognized_keys' && i.keys.includes(key)), key).toBe(true);
    }
    const nested: [unknown, string][] = [
      [{ name: 'a', drainSecond: 1 }, ''],
      [{ name: 'a', keepalive: { intervall: 3 } }, 'keepalive'],
      [{ name: 'a', ipv4: { pool: '198.19.0.0/24', gw: '198.19.0.1' } }, 'ipv4'],
      [{ name: 'a', inspection: { arp: true, ndp: false } }, 'inspection'],
      [{ name: 'a', floodLimit: { rate: 5, bursts: 5 } }, 'floodLimit'],
      [{ name: 'a', bridge: { tap: 't', attach: 'br0', mtu: 1500 } }, 'bridge'],
      [{ name: 'a', mode: 'l3', uplink: { tun: 'u', route: [] } }, 'uplink'],
      [{ name: 'a', mode: 'l3', delegation: { ipv6: { pool: 'fd00::/48', len: 56 } } }, 'delegation.ipv6'],
      [{ name: 'a', mode: 'l3', delegation: { ipv7: {} } }, 'delegation'],
      [{ name: 'a', mode: 'l3', icmpPerSession: { rate: 5, brust: 5 } }, 'icmpPerSession'],
    ];
    for (const [input, path] of nested) {
      const r = segmentSchema.safeParse(input);
      expect(r.success, JSON.stringify(input)).toBe(false);
      expect(r.error!.issues.find((i) => i.code === 'unrecognized_keys')?.path.join('.'), JSON.stringify(input)).toBe(path);
    }
  });

  it('parses each variant with its own schema and types it by mode', () => {
    const def: SegmentDef = segmentSchema.parse({ name: 'r', mode: 'l3', reach: ['b'] });
    // The discriminant narrows: only an L3 definition has reach.
    expect(def.mode === 'l3' ? def.reach : undefined).toEqual(['b']);
    expect(l3SegmentSchema.safeParse({ name: 'r' }).success).toBe(false); // an L3 segment says so
    expect(l2SegmentSchema.parse({ name: 'r' }).mode).toBe('l2');
    expect(rejection({ name: 'a', mode: 'l4' }).message).toBe('mode must be "l2" or "l3"');
  });

  it('takes bridge ranges of either family and rejects what is not a prefix', () => {
    const pools = { ipv4: { pool: '198.19.0.0/24' }, ipv6: { pool: 'fd00:e1::/64' } };
    expect(l2SegmentSchema.parse({ name: 'b', ...pools, bridgeRanges: ['192.168.7.0/24', 'fd00:50::/64'] }).bridgeRanges).toEqual(['192.168.7.0/24', 'fd00:50::/64']);
    expect(rejection({ name: 'b', bridgeRanges: ['10.0.0.0/8', 'lan'] }).path).toBe('bridgeRanges.1');
    expect(rejection({ name: 'b', bridgeRanges: ['10.0.0.1'] }).path).toBe('bridgeRanges.0');
  });

  it('fills a partly given flood limit and ICMP budget from the defaults and rejects zero', () => {
    expect(l2SegmentSchema.parse({ name: 'f', floodLimit: { rate: 50 } }).floodLimit).toEqual({ rate: 50, burst: 2000 });
    expect(l3SegmentSchema.parse({ name: 'f', mode: 'l3', icmpPerSession: { burst: 5 } }).icmpPerSession).toEqual({ rate: 20, burst: 5 });
    expect(rejection({ name: 'f', floodLimit: { rate: 0 } }).path).toBe('floodLimit.rate');
  });

  it('fills a partly given keepalive from the defaults', () => {
    expect(segmentSchema.parse({ name: 'a', keepalive: { interval: 5 } }).keepalive).toEqual({ interval: 5, timeout: 45 });
    expect(segmentSchema.parse({ name: 'a', keepalive: {} }).keepalive).toEqual({ interval: 15, timeout: 45 });
  });

  it('keeps given values and address pools', () => {
    const seg = l2SegmentSchema.parse({
      name: 'lab_2-b',
      mtu: 9000,
      ipv4: { pool: '198.19.0.0/16', gateway: '198.19.0.1' },
      ipv6: { pool: 'fd00:e1::/64' },
      macsPerSession: 16,
      macTableSize: 16,
      macAgingSeconds: 10,
      keepalive: { interval: 1, timeout: 3 },
    });
    expect(seg.mode).toBe('l2');
    expect(seg.ipv4).toEqual({ pool: '198.19.0.0/16', gateway: '198.19.0.1' });
    expect(seg.ipv6).toEqual({ pool: 'fd00:e1::/64' });
    expect(seg.macsPerSession).toBe(16);
    const l3 = l3SegmentSchema.parse({ name: 'core', mode: 'l3', reach: ['lab'], maxRoutes: 16, delegation: { ipv6: { pool: 'fd00:e2::/48' } }, uplink: { tun: 'up0' } });
    expect(l3.delegation).toEqual({ ipv6: { pool: 'fd00:e2::/48', length: 56 } });
    expect(l3.uplink).toEqual({ tun: 'up0', routes: [] });
  });

  it('accepts prefix lengths from 0 to the address width', () => {
    for (const pool of ['0.0.0.0/0', '10.0.0.0/8', '192.0.2.1/32']) expect(segmentSchema.safeParse({ name: 'a', ipv4: { pool } }).success, pool).toBe(true);
    for (const pool of ['::/0', 'fd00::/8', 'fd00:e1::1/128', '2001:db8:0:0:0:0:0:0/64']) expect(segmentSchema.safeParse({ name: 'a', ipv6: { pool } }).success, pool).toBe(true);
  });

  it('rejects invalid names with a message saying what is allowed', () => {
    for (const name of ['', 'Office', '-lead', '_lead', 'has space', 'dot.ted', 'a'.repeat(64), 'ümlaut']) {
      const r = rejection({ name });
      expect(r.path, name).toBe('name');
      expect(r.message, name).toMatch(/lower-case letters, digits/);
    }
    expect(segmentSchema.safeParse({ name: 'a'.repeat(63) }).success).toBe(true);
    expect(rejection({}).path).toBe('name');
  });

  it('rejects invalid IPv4 pools with an example of a valid one', () => {
    for (const pool of ['198.19.0.0', '198.19.0.0/33', '198.19.0/16', '256.1.1.1/8', '198.19.0.0/-1', 'fd00::/64', '198.19.0.0/16 ', 'x/8', '198.19.0.0/123']) {
      const r = rejection({ name: 'a', ipv4: { pool } });
      expect(r.path, pool).toBe('ipv4.pool');
      expect(r.message, pool).toMatch(/IPv4 prefix like 198\.19\.0\.0\/16/);
    }
  });

  it('rejects invalid IPv6 pools with an example of a valid one', () => {
    for (const pool of ['fd00:e1::', 'fd00:e1::/129', 'fd00:::e1/64', '198.19.0.0/16', 'fd00:e1::/', 'gggg::/64', 'fd00:e1::/1234']) {
      const r = rejection({ name: 'a', ipv6: { pool } });
      expect(r.path, pool).toBe('ipv6.pool');
      expect(r.message, pool).toMatch(/IPv6 prefix like fd00:e1::\/64/);
    }
  });

  it('rejects out-of-range numbers and unknown modes, naming the field', () => {
    expect(rejection({ name: 'a', mode: 'l4' }).path).toBe('mode');
    expect(rejection({ name: 'a', mtu: 1279 }).path).toBe('mtu');
    expect(rejection({ name: 'a', mtu: 9001 }).path).toBe('mtu');
    expect(rejection({ name: 'a', mtu: 1500.5 }).path).toBe('mtu');
    expect(rejection({ name: 'a', macsPerSession: 0 }).path).toBe('macsPerSession');
    expect(rejection({ name: 'a', macTableSize: 15 }).path).toBe('macTableSize');
    expect(rejection({ name: 'a', macAgingSeconds: 9 }).path).toBe('macAgingSeconds');
    expect(rejection({ name: 'a', keepalive: { interval: 0.5 } }).path).toBe('keepalive.interval');
    expect(rejection({ name: 'a', keepalive: { timeout: 2 } }).path).toBe('keepalive.timeout');
  });
});

describe('segment keepalive', () => {
  it('refuses a timeout shorter than two intervals, naming the field', () => {
    const r = segmentSchema.safeParse({ name: 'k', keepalive: { interval: 10, timeout: 15 } });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual(['keepalive', 'timeout']);
    expect(r.error?.issues[0]?.message).toMatch(/twice the interval/);
    expect(segmentSchema.parse({ name: 'k', keepalive: { interval: 10, timeout: 20 } }).keepalive).toEqual({ interval: 10, timeout: 20 });
  });
});
