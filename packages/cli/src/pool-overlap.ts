/**
 * Address ranges that two L3 segments must not share. All L3 segments of a node route
 * through one table per family (docs/l3.md), so a prefix in two of them would send one
 * segment's packets to the other's sessions. L2 segments are separate broadcast domains
 * with no shared table: the same pool in two L2 segments (or an L2 and an L3 one) is
 * legitimate, like the same subnet on two VLANs.
 */
import { contains, parseCidr, type Cidr } from '@elink/broker';
import type { SegmentDef } from '@elink/protocol';

export interface PoolOverlap {
  a: { segment: string; range: string; what: string };
  b: { segment: string; range: string; what: string };
}

interface Range {
  segment: string;
  range: string;
  what: string;
  cidr: Cidr;
}

function routedRanges(s: SegmentDef): Range[] {
  const list: Array<[string, string | undefined]> = [
    ['ipv4.pool', s.ipv4?.pool],
    ['ipv6.pool', s.ipv6?.pool],
    ...(s.mode === 'l3'
      ? [
          ['delegation.ipv4.pool', s.delegation?.ipv4?.pool] as [string, string | undefined],
          ['delegation.ipv6.pool', s.delegation?.ipv6?.pool] as [string, string | undefined],
          ...(s.uplink?.routes ?? []).map((r): [string, string] => ['uplink.routes', r]),
        ]
      : []),
  ];
  return list.flatMap(([what, range]) => {
    if (!range) return [];
    try {
      return [{ segment: s.name, range, what, cidr: parseCidr(range) }];
    } catch {
      return []; // not a prefix: the schema reports it (this check may run on a config with issues)
    }
  });
}

const overlaps = (x: Cidr, y: Cidr) => x.family === y.family && (contains(x, y.network) || contains(y, x.network));

/** Every pair of routed ranges of different L3 segments that share addresses (bounded by the schema's limits). */
export function findPoolOverlaps(segments: readonly SegmentDef[]): PoolOverlap[] {
  const ranges = segments.filter((s) => s?.mode === 'l3').map(routedRanges);
  const found: PoolOverlap[] = [];
  for (let i = 0; i < ranges.length; i++)
    for (let j = i + 1; j < ranges.length; j++)
      for (const x of ranges[i]!)
        for (const y of ranges[j]!)
          if (overlaps(x.cidr, y.cidr)) found.push({ a: { segment: x.segment, range: x.range, what: x.what }, b: { segment: y.segment, range: y.range, what: y.what } });
  return found;
}
