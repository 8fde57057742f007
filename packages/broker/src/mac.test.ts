import { describe, it, expect } from 'vitest';
import { parseMac } from '@elink/protocol';
import { deriveMac } from './mac.js';

describe('deriveMac', () => {
  it('is a stable locally administered unicast MAC per (segment, user, device)', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 500; i++) {
      const mac = deriveMac('lan', `user${i}`, 'default');
      expect(mac).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
      const first = parseInt(mac.slice(0, 2), 16);
      expect(first & 0x02).toBe(0x02); // locally administered
      expect(first & 0x01).toBe(0); // unicast
      expect(parseMac(mac)).toBeGreaterThan(0);
      expect(deriveMac('lan', `user${i}`, 'default')).toBe(mac);
      seen.add(mac);
    }
    expect(seen.size).toBe(500);
  });

  it('differs when any part of the key differs, without ambiguity between the parts', () => {
    const base = deriveMac('lan', 'alice', 'phone');
    expect(deriveMac('lan2', 'alice', 'phone')).not.toBe(base);
    expect(deriveMac('lan', 'alice2', 'phone')).not.toBe(base);
    expect(deriveMac('lan', 'alice', 'phone2')).not.toBe(base);
    expect(deriveMac('lan', 'a', 'b:c')).not.toBe(deriveMac('lan', 'a:b', 'c'));
  });
});
