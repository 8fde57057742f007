import { describe, it, expect } from 'vitest';
import { contains, formatCidr, formatIPv4, formatIPv6, lastAddress, parseCidr, parseIPv4, parseIPv6, prefixMask } from './ip.js';

describe('IPv4 arithmetic', () => {
  it('parses and formats dotted quads as unsigned 32-bit numbers', () => {
    expect(parseIPv4('0.0.0.0')).toBe(0);
    expect(parseIPv4('198.19.0.2')).toBe(0xc6130002);
    expect(parseIPv4('255.255.255.255')).toBe(0xffffffff);
    expect(formatIPv4(0xc6130002)).toBe('198.19.0.2');
    expect(formatIPv4(0xffffffff)).toBe('255.255.255.255');
  });

  it('rejects what is not an IPv4 address', () => {
    for (const s of ['256.0.0.1', '1.2.3', '1.2.3.4.5', '', 'fd00::1', '01.2.3.4x']) {
      expect(() => parseIPv4(s), s).toThrow(expect.objectContaining({ code: 'EL_ERR_CONFIG' }));
    }
  });

  it('computes network, mask and broadcast of a prefix, clearing host bits', () => {
    const c = parseCidr('198.19.7.9/16');
    expect(c).toEqual({ family: 4, network: 0xc6130000n, prefixLength: 16 });
    expect(formatCidr(c)).toBe('198.19.0.0/16');
    expect(lastAddress(c)).toBe(0xc613ffffn);
    expect(prefixMask(4, 16)).toBe(0xffff0000n);
    expect(prefixMask(4, 0)).toBe(0n);
    expect(prefixMask(4, 32)).toBe(0xffffffffn);
    expect(contains(c, BigInt(parseIPv4('198.19.255.255')))).toBe(true);
    expect(contains(c, BigInt(parseIPv4('198.20.0.0')))).toBe(false);
  });
});

describe('IPv6 arithmetic', () => {
  it('parses every spelling into the same BigInt', () => {
    const v = 0xfd0000e1000000000000000000000002n;
    expect(parseIPv6('fd00:e1::2')).toBe(v);
    expect(parseIPv6('FD00:00E1:0:0:0:0:0:2')).toBe(v);
    expect(parseIPv6('fd00:e1:0::0:2')).toBe(v);
    expect(parseIPv6('::')).toBe(0n);
    expect(parseIPv6('::1')).toBe(1n);
    expect(parseIPv6('1::')).toBe(1n << 112n);
    expect(parseIPv6('::ffff:192.0.2.1')).toBe(0xffffc0000201n);
    expect(parseIPv6('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff')).toBe((1n << 128n) - 1n);
  });

  it('formats in RFC 5952 form: lower case, longest zero run compressed, first on a tie, no single-group ::', () => {
    expect(formatIPv6(0xfd0000e1000000000000000000000002n)).toBe('fd00:e1::2');
    expect(formatIPv6(0n)).toBe('::');
    expect(formatIPv6(1n)).toBe('::1');
    expect(formatIPv6(1n << 112n)).toBe('1::');
    expect(formatIPv6(parseIPv6('2001:db8:0:1:1:1:1:1'))).toBe('2001:db8:0:1:1:1:1:1');
    expect(formatIPv6(parseIPv6('2001:0:0:1:0:0:0:1'))).toBe('2001:0:0:1::1');
    expect(formatIPv6(parseIPv6('2001:db8:0:0:1:0:0:1'))).toBe('2001:db8::1:0:0:1');
    expect(formatIPv6(parseIPv6('2001:DB8::ABCD'))).toBe('2001:db8::abcd');
  });

  it('round-trips random addresses', () => {
    let x = 0x1234_5678_9abc_def0_0fed_cba9_8765_4321n;
    for (let i = 0; i < 200; i++) {
      x = (x * 6364136223846793005n + 1442695040888963407n) & ((1n << 128n) - 1n);
      // Zero some groups so :: compression is exercised too.
      const v = i % 3 === 0 ? x & 0xffff0000ffff00000000ffffffffffffn : x;
      expect(parseIPv6(formatIPv6(v))).toBe(v);
    }
  });

  it('computes the span of a /64 and a /126', () => {
    const c = parseCidr('fd00:e1::77/64');
    expect(formatCidr(c)).toBe('fd00:e1::/64');
    expect(lastAddress(c)).toBe(parseIPv6('fd00:e1::ffff:ffff:ffff:ffff'));
    expect(lastAddress(parseCidr('fd00::/126'))).toBe(3n + parseIPv6('fd00::'));
    expect(contains(c, parseIPv6('fd00:e1:0:1::1'))).toBe(false);
  });

  it('rejects malformed prefixes', () => {
    for (const s of ['fd00::/129', '198.19.0.0/33', '198.19.0.0', 'fd00::/x', 'nonsense/8', '/8']) {
      expect(() => parseCidr(s), s).toThrow(expect.objectContaining({ code: 'EL_ERR_CONFIG' }));
    }
  });
});
