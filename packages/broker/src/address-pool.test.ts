import { describe, it, expect } from 'vitest';
import { AddressPool } from './address-pool.js';
import { parseIPv4, parseIPv6 } from './ip.js';

const v4 = (s: string) => BigInt(parseIPv4(s));

describe('AddressPool', () => {
  it('never leases the IPv4 network, broadcast or default gateway (first usable)', () => {
    const p = new AddressPool('198.19.0.0/29');
    expect(p.format(p.gateway)).toBe('198.19.0.1');
    expect(p.isLeasable(v4('198.19.0.0'))).toBe(false);
    expect(p.isLeasable(v4('198.19.0.1'))).toBe(false);
    expect(p.isLeasable(v4('198.19.0.7'))).toBe(false);
    for (let i = 2; i <= 6; i++) expect(p.isLeasable(v4(`198.19.0.${i}`))).toBe(true);
    expect(p.capacity).toBe(5n);
  });

  it('honours a configured gateway anywhere in the pool', () => {
    const p = new AddressPool('198.19.0.0/29', '198.19.0.6');
    expect(p.isLeasable(v4('198.19.0.1'))).toBe(true);
    expect(p.isLeasable(v4('198.19.0.6'))).toBe(false);
    expect(p.capacity).toBe(5n);
  });

  it('never leases the IPv6 Subnet-Router anycast address or the gateway', () => {
    const p = new AddressPool('fd00:e1::/64');
    expect(p.format(p.gateway)).toBe('fd00:e1::1');
    expect(p.isLeasable(parseIPv6('fd00:e1::'))).toBe(false);
    expect(p.isLeasable(parseIPv6('fd00:e1::1'))).toBe(false);
    expect(p.isLeasable(parseIPv6('fd00:e1::2'))).toBe(true);
    expect(p.isLeasable(parseIPv6('fd00:e1::ffff:ffff:ffff:ffff'))).toBe(true);
    expect(p.isLeasable(parseIPv6('fd00:e1:0:1::2'))).toBe(false);
    expect(p.capacity).toBe((1n << 64n) - 2n);
    expect(p.formatWithPrefix(parseIPv6('fd00:e1::2'))).toBe('fd00:e1::2/64');
  });

  it('rejects a gateway outside the pool, a pool with nothing to lease, and garbage', () => {
    expect(() => new AddressPool('198.19.0.0/24', '198.20.0.1')).toThrow(expect.objectContaining({ code: 'EL_ERR_CONFIG' }));
    expect(() => new AddressPool('fd00::/128')).toThrow(expect.objectContaining({ code: 'EL_ERR_CONFIG' }));
    expect(() => new AddressPool('198.19.0.0/24', 'fd00::1')).toThrow(expect.objectContaining({ code: 'EL_ERR_CONFIG' }));
    expect(() => new AddressPool('not-a-pool')).toThrow(expect.objectContaining({ code: 'EL_ERR_CONFIG' }));
  });
});
