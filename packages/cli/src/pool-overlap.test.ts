import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { segmentSchema } from '@elink/protocol';
import { findPoolOverlaps } from './pool-overlap.js';
import { loadConfig } from './config.js';

const seg = (o: object) => segmentSchema.parse(o);

describe('findPoolOverlaps', () => {
  it('finds L3 pools, delegation pools and uplink routes shared by two L3 segments', () => {
    const found = findPoolOverlaps([
      seg({ name: 'a', mode: 'l3', ipv4: { pool: '198.19.0.0/16' }, ipv6: { pool: 'fd00:e1:1::/64' } }),
      seg({ name: 'b', mode: 'l3', ipv4: { pool: '198.19.7.0/24' } }),
      seg({ name: 'c', mode: 'l3', ipv6: { pool: 'fd00:e1:2::/64' }, delegation: { ipv6: { pool: 'fd00:e1:1::/48', length: 56 } } }),
      seg({ name: 'd', mode: 'l3', ipv4: { pool: '198.20.0.0/24' }, uplink: { tun: 'up0', routes: ['198.19.7.128/25'] } }),
    ]);
    const pairs = found.map((o) => `${o.a.segment}:${o.a.what}~${o.b.segment}:${o.b.what}`);
    expect(pairs).toEqual([
      'a:ipv4.pool~b:ipv4.pool',
      'a:ipv6.pool~c:delegation.ipv6.pool',
      'a:ipv4.pool~d:uplink.routes',
      'b:ipv4.pool~d:uplink.routes',
    ]);
  });

  it('accepts the same pool in L2 segments (separate broadcast domains) and between an L2 and an L3 segment', () => {
    expect(
      findPoolOverlaps([
        seg({ name: 'x', mode: 'l2', ipv4: { pool: '198.19.0.0/16' } }),
        seg({ name: 'y', mode: 'l2', ipv4: { pool: '198.19.0.0/16' } }),
        seg({ name: 'z', mode: 'l3', ipv4: { pool: '198.19.1.0/24' } }),
        seg({ name: 'w', mode: 'l3', ipv4: { pool: '198.19.2.0/24' }, ipv6: { pool: 'fd00:e1:2::/64' } }),
      ]),
    ).toEqual([]);
  });

  it('makes loadConfig refuse the file with EL_ERR_CONFIG naming both segments', () => {
    const d = mkdtempSync(join(tmpdir(), 'elink-overlap-'));
    try {
      const f = join(d, 'elink.yaml');
      writeFileSync(f, 'segments:\n  - { name: phones, mode: l3, ipv4: { pool: 198.19.1.0/24 } }\n  - { name: iads, mode: l3, ipv4: { pool: 198.19.0.0/16 } }\n');
      expect(() => loadConfig(f)).toThrow(expect.objectContaining({ code: 'EL_ERR_CONFIG', message: expect.stringMatching(/segments\.1: L3 segments "phones" \(ipv4\.pool 198\.19\.1\.0\/24\) and "iads" \(ipv4\.pool 198\.19\.0\.0\/16\) overlap/) }));
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});
