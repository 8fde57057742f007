import { isDeepStrictEqual } from 'node:util';
import type { SegmentDef } from '@elink/protocol';

/**
 * Segment settings a running node takes from a config reload: each is read when it is
 * used (a frame flooded, a MAC aged, a session welcomed or an ICMP reply budgeted), so a
 * new value needs no new state. Sessions keep the keepalive and MAC limit of their welcome;
 * new sessions get the new ones. Everything else (mode, MTU, pools, ports, inspection,
 * reach, table size) needs a restart.
 */
export const LIVE_SEGMENT_SETTINGS = ['keepalive', 'floodLimit', 'macsPerSession', 'macAgingSeconds', 'maxRoutes', 'icmpPerSession'] as const satisfies readonly (keyof SegmentDef)[];

/** `def` with the live settings of `next` (same segment); the rest as hosted. */
export function withLiveSettings(def: SegmentDef, next: SegmentDef): SegmentDef {
  const out: Record<string, unknown> = { ...def };
  for (const k of LIVE_SEGMENT_SETTINGS) out[k] = structuredClone(next[k]);
  return out as SegmentDef;
}

/** Which live settings differ between two definitions of one segment. */
export function liveSettingsChanged(def: SegmentDef, next: SegmentDef): (typeof LIVE_SEGMENT_SETTINGS)[number][] {
  return LIVE_SEGMENT_SETTINGS.filter((k) => !isDeepStrictEqual(def[k], next[k]));
}
