/**
 * Why a frame was dropped. A drop is not an error: it is counted, never thrown.
 * The values are snake_case because they double as the `reason` label of
 * `el_switch_frames_dropped_total`.
 */
export const DROP_REASONS = [
  /** Shorter than an Ethernet header (14 bytes). */
  'runt',
  /** Source MAC has the group bit set: no station sends from a multicast address. */
  'src_multicast',
  /** A session with one MAC sent from another source MAC. */
  'src_mismatch',
  /** A port tried to source more MACs than its limit (segment.macsPerSession). */
  'mac_limit',
  /** The source MAC is pinned to another session. */
  'mac_conflict',
  /** Known unicast whose destination is the port it came in by. */
  'hairpin',
  /** The port's per-tick output queue was full. */
  'queue_full',
  /** The peer's socket already holds more than the high-water mark of unsent bytes. */
  'slow_peer',
] as const;

export type DropReason = (typeof DROP_REASONS)[number];
export type DropCounts = Record<DropReason, number>;

export function newDropCounts(): DropCounts {
  return { runt: 0, src_multicast: 0, src_mismatch: 0, mac_limit: 0, mac_conflict: 0, hairpin: 0, queue_full: 0, slow_peer: 0 };
}

export function addDropCounts(into: DropCounts, from: DropCounts): DropCounts {
  for (const r of DROP_REASONS) into[r] += from[r];
  return into;
}
