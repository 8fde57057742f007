/**
 * Sessions this broker has placed on each node since that node's last heartbeat.
 *
 * A login burst (a node died and its clients come back within seconds) is over before any
 * survivor heartbeats again, so the reported counts alone would send the whole herd to the
 * same node. Adding these counts to the reported ones (the projected load) lets affinity stop
 * at AFFINITY_MAX_LOAD and capacity hold during the burst. Per broker: each broker counts
 * only its own placements (a shared counter would cost a store round trip per login).
 */
import type { NodeRecord } from './store/store.js';

/** One entry per registered node at most; the store holds at most MAX_NODES (4,096) nodes. */
export const MAX_PLACED_NODES = 4096;

export class PlacementCounts {
  /** node → placements since the heartbeat that stored `since` as its seenAt. */
  readonly #byNode = new Map<string, { since: number; count: number }>();

  /**
   * The counts that still apply to `records` (the registry as just read): an entry whose node
   * heartbeated since (another broker may have received it) or left the registry is dropped.
   */
  current(records: readonly NodeRecord[]): ReadonlyMap<string, number> {
    const seen = new Map<string, number>();
    for (const r of records) seen.set(r.node, r.seenAt);
    const out = new Map<string, number>();
    for (const [node, e] of this.#byNode) {
      if (seen.get(node) !== e.since) this.#byNode.delete(node);
      else out.set(node, e.count);
    }
    return out;
  }

  /** One more session sent to `node` (whose current heartbeat is from `since`). */
  add(node: string, since: number): void {
    const e = this.#byNode.get(node);
    if (e && e.since === since) {
      e.count++;
      return;
    }
    // Full only if the registry outgrew its own bound: forget the placements, as before them.
    if (!e && this.#byNode.size >= MAX_PLACED_NODES) return;
    this.#byNode.set(node, { since, count: 1 });
  }

  /**
   * The node heartbeated here at `seenAt`: its report now includes what was placed on it
   * before. Placements already made under this heartbeat (a login that read the store
   * between its write and this call) stay.
   */
  drop(node: string, seenAt: number): void {
    const e = this.#byNode.get(node);
    if (e && e.since < seenAt) this.#byNode.delete(node);
  }

  get size(): number {
    return this.#byNode.size;
  }
}
