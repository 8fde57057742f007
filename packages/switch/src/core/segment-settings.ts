import { isDeepStrictEqual } from 'node:util';
import type { L2SegmentDef, L3SegmentDef, SegmentDef } from '@elink/protocol';

/**
 * Segment settings a running node takes from a config reload: each is read when it is
 * used (a frame flooded, a MAC aged, a session welcomed or an ICMP reply budgeted), so a
 * new value needs no new state. Sessions keep the keepalive and MAC limit of their welcome;
 * new sessions get the new ones (as for `dns`: the servers pushed in welcome). Everything else (mode, MTU, pools, ports, inspection,
 * reach, table size) needs a restart.
 */
export const LIVE_SEGMENT_SETTINGS = ['keepalive', 'floodLimit', 'macsPerSession', 'macAgingSeconds', 'maxRoutes', 'icmpPerSession', 'dns'] as const satisfies readonly (keyof L2SegmentDef | keyof L3SegmentDef)[];

/** `def` with the live settings of `next` (same segment); the rest as hosted. */
export function withLiveSettings<D extends SegmentDef>(def: D, next: SegmentDef): D {
  const out: Record<string, unknown> = { ...def };
  const from: Record<string, unknown> = next;
  // Only the keys of def's own mode: an L3 segment has no floodLimit to take. An optional
  // key (dns) may appear or go: taken when either side has it (both are of one mode).
  for (const k of LIVE_SEGMENT_SETTINGS) {
    if (k in def || k in from) {
      if (from[k] === undefined) delete out[k];
      else out[k] = structuredClone(from[k]);
    }
  }
  return out as D;
}

/** Which live settings differ between two definitions of one segment. */
export function liveSettingsChanged(def: SegmentDef, next: SegmentDef): (typeof LIVE_SEGMENT_SETTINGS)[number][] {
  const a: Record<string, unknown> = def;
  const b: Record<string, unknown> = next;
  return LIVE_SEGMENT_SETTINGS.filter((k) => !isDeepStrictEqual(a[k], b[k]));
}
