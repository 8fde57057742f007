import { describe, expect, it } from 'vitest';
import { age, bitRate, bitRateBps, bytes, packetRate, si } from './units.js';

describe('units', () => {
  it('rates in SI bits per second with three significant digits', () => {
    expect(bitRateBps(0)).toBe('0 bit/s');
    expect(bitRateBps(999)).toBe('999 bit/s');
    expect(bitRateBps(1000)).toBe('1.00 kbit/s');
    expect(bitRateBps(12_345_678)).toBe('12.3 Mbit/s');
    expect(bitRateBps(943_000_000)).toBe('943 Mbit/s');
    expect(bitRateBps(2.5e9)).toBe('2.50 Gbit/s');
    expect(bitRate(125_000)).toBe('1.00 Mbit/s'); // bytes/s in, bits/s out
    expect(packetRate(81_234)).toBe('81.2 kpkt/s');
    expect(si(1.5, 'x')).toBe('1.50 x');
    expect(si(Number.NaN, 'bit/s')).toBe('– bit/s');
  });

  it('volumes in IEC bytes', () => {
    expect(bytes(0)).toBe('0 B');
    expect(bytes(1023)).toBe('1023 B');
    expect(bytes(1536)).toBe('1.50 KiB');
    expect(bytes(10 * 1024 ** 3)).toBe('10.0 GiB');
  });

  it('ages from an ISO time', () => {
    const now = Date.parse('2026-01-01T12:00:00Z');
    expect(age('2026-01-01T11:59:30Z', now)).toBe('30 s');
    expect(age('2026-01-01T11:15:00Z', now)).toBe('45 min');
    expect(age('2026-01-01T09:58:00Z', now)).toBe('2 h 2 min');
    expect(age('2025-12-29T10:00:00Z', now)).toBe('3 d 2 h');
  });
});
