import { describe, it, expect } from 'vitest';
import { BROADCAST_MAC, formatMac, isGroupMac, macAt, macBytes, parseMac } from './mac.js';

const cases: [string, number][] = [
  ['00:00:00:00:00:00', 0],
  ['ff:ff:ff:ff:ff:ff', 0xffffffffffff],
  ['02:00:5e:10:00:01', 0x02005e100001],
  ['80:00:00:00:00:00', 0x800000000000], // high first byte: beyond 32-bit arithmetic
  ['fe:dc:ba:98:76:54', 0xfedcba987654],
  ['00:00:80:00:00:00', 0x000080000000], // bit 31 set: the `<< 24` sign trap
  ['01:00:5e:00:00:fb', 0x01005e0000fb],
  ['33:33:00:00:00:01', 0x333300000001],
  ['00:00:00:00:00:01', 1],
];

describe('MAC addresses as numbers', () => {
  it('round-trips text → number → text → bytes → number for edge values', () => {
    for (const [text, n] of cases) {
      expect(parseMac(text), text).toBe(n);
      expect(formatMac(n), text).toBe(text);
      const bytes = macBytes(n);
      expect(bytes, text).toHaveLength(6);
      expect(bytes.toString('hex'), text).toBe(text.replaceAll(':', ''));
      expect(macAt(bytes, 0), text).toBe(n);
    }
  });

  it('is exact and non-negative for all 48-bit values (random sample, fixed seed)', () => {
    let x = 0x12345678;
    for (let i = 0; i < 2000; i++) {
      const bytes = Buffer.alloc(6);
      for (let j = 0; j < 6; j++) {
        x = (Math.imul(x, 1103515245) + 12345) >>> 0;
        bytes[j] = x >>> 24;
      }
      const n = macAt(bytes, 0);
      expect(Number.isInteger(n) && n >= 0 && n <= 0xffffffffffff).toBe(true);
      expect(macBytes(n).equals(bytes)).toBe(true);
      expect(parseMac(formatMac(n))).toBe(n);
    }
  });

  it('reads a MAC at an offset inside a frame (destination at 0, source at 6)', () => {
    const frame = Buffer.from('ffffffffffff' + '02005e100001' + '0800', 'hex');
    expect(macAt(frame, 0)).toBe(BROADCAST_MAC);
    expect(macAt(frame, 6)).toBe(0x02005e100001);
    expect(macAt(frame.subarray(6), 0)).toBe(0x02005e100001);
  });

  it('parses upper case, dashes and bare hex, and formats lower case with colons', () => {
    expect(parseMac('02:00:5E:10:00:0A')).toBe(0x02005e10000a);
    expect(parseMac('02-00-5e-10-00-0a')).toBe(0x02005e10000a);
    expect(parseMac('02005e10000a')).toBe(0x02005e10000a);
    expect(formatMac(0x02005e10000a)).toBe('02:00:5e:10:00:0a');
  });

  it('rejects text that is not a MAC with a RangeError naming the input', () => {
    for (const bad of ['', '02:00:5e:10:00', '02:00:5e:10:00:01:02', '02:00:5e:10:00:0g', 'hello', ' 02:00:5e:10:00:01', '2:0:5e:10:0:1']) {
      expect(() => parseMac(bad), bad).toThrow(RangeError);
    }
    expect(() => parseMac('nope')).toThrow(/"nope"/);
  });

  it('tells group (broadcast and multicast) addresses by the I/G bit of the first byte', () => {
    const at = (text: string) => isGroupMac(macBytes(parseMac(text)), 0);
    expect(at('ff:ff:ff:ff:ff:ff')).toBe(true); // broadcast
    expect(at('01:00:5e:00:00:fb')).toBe(true); // IPv4 multicast (mDNS)
    expect(at('33:33:00:00:00:01')).toBe(true); // IPv6 multicast
    expect(at('03:00:00:00:00:00')).toBe(true); // locally administered group
    expect(at('00:00:00:00:00:00')).toBe(false);
    expect(at('02:00:5e:10:00:01')).toBe(false); // locally administered unicast
    expect(at('fe:dc:ba:98:76:54')).toBe(false);
    const frame = Buffer.from('02005e100001' + '01005e0000fb', 'hex');
    expect(isGroupMac(frame, 0)).toBe(false);
    expect(isGroupMac(frame, 6)).toBe(true);
  });

  it('BROADCAST_MAC is ff:ff:ff:ff:ff:ff', () => {
    expect(formatMac(BROADCAST_MAC)).toBe('ff:ff:ff:ff:ff:ff');
  });
});
