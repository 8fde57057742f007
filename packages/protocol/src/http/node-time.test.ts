import { describe, expect, it } from 'vitest';
import { formatNodeTime, parseNodeTimeHeader } from './node-time.js';

describe('EL-Node-Time header', () => {
  it('carries a clock reading in ms since the epoch, both ways', () => {
    expect(formatNodeTime(1_764_500_000_123.7)).toBe('1764500000123');
    expect(parseNodeTimeHeader(formatNodeTime(1_764_500_000_123))).toBe(1_764_500_000_123);
    expect(parseNodeTimeHeader('0')).toBe(0);
    expect(parseNodeTimeHeader('9'.repeat(15))).toBe(999_999_999_999_999);
  });

  it('ignores an absent, repeated, empty, signed, fractional or too long value, never throwing', () => {
    expect(parseNodeTimeHeader(undefined)).toBeUndefined();
    expect(parseNodeTimeHeader(['1', '2'])).toBeUndefined();
    for (const bad of ['', '-5', '+5', '1.5', '1e12', ' 17', '17 ', '0x10', '9'.repeat(16), 'now']) expect(parseNodeTimeHeader(bad), JSON.stringify(bad)).toBeUndefined();
  });
});
