/**
 * Failure detection from trunk peers (docs/cluster.md "Failure detection"). A node that is
 * killed keeps its place in the registry until its heartbeat is overdue (broker.nodeTimeout),
 * but its trunk peers see their trunks to it drop at once, and say so in their next heartbeat
 * (sent early for that: the switch's early-heartbeat.ts): `report.trunks` lists the peer
 * `down` since when. The broker keeps each such loss in the store (every broker sees it), and
 * a node with a loss heard after its own last heartbeat is **suspect**: logins rank it after
 * every other node until it heartbeats again. A live node cut off from a peer (a partition
 * between nodes) heartbeats within one interval and is back in service.
 *
 * The reporter's times are read on the broker's clock (node-clock.ts) when its heartbeat said
 * what its clock read; the loss is still known by the reporter's own `since` (it names the loss,
 * and the reporter's later reports compare with it on the same clock).
 *
 * Pure functions: the registry (node-registry.ts) reads the store and applies them.
 */
import type { ReportTrunk } from '@elink/protocol';
import { onBrokerClock, type NodeClock } from './node-clock.js';
import type { NodeRecord, TrunkDownRecord } from './store/store.js';

/** A loss a report tells of: `since` as the reporter said (the key), `downAt` on the broker's clock. */
export interface TrunkLoss {
  node: string;
  since: number;
  downAt: number;
}

/**
 * The losses a heartbeat's trunk report tells of: peers `down` since a time within
 * `freshMs` of `now` (an older loss is no news: the heartbeat timeout has caught a dead
 * node by then), once each, never the reporter itself.
 */
export function trunkLosses(reporter: string, trunks: readonly ReportTrunk[] | undefined, now: number, freshMs: number, clock?: NodeClock): TrunkLoss[] {
  if (!trunks) return [];
  const out = new Map<string, TrunkLoss>();
  for (const t of trunks) {
    if (t.state !== 'down' || t.peer === reporter) continue;
    const downAt = onBrokerClock(t.since, clock);
    if (downAt < now - freshMs || (out.get(t.peer)?.since ?? -1) >= t.since) continue;
    out.set(t.peer, { node: t.peer, since: t.since, downAt });
  }
  return [...out.values()];
}

/**
 * The peers a heartbeat's trunk report lists `up` since a time within `windowMs` of `now`: a
 * trunk that came back, whose earlier loss by this reporter (if the store keeps one with an
 * older `since`) is withdrawn. Older ups cannot match a loss the store still keeps (it keeps
 * one `windowMs` at most), so a steady report costs the store nothing. `since` as reported.
 */
export function trunkReturns(reporter: string, trunks: readonly ReportTrunk[] | undefined, now: number, windowMs: number, clock?: NodeClock): Array<{ node: string; since: number }> {
  if (!trunks) return [];
  const out: Array<{ node: string; since: number }> = [];
  for (const t of trunks) {
    if (t.state !== 'up' || t.peer === reporter || onBrokerClock(t.since, clock) < now - windowMs) continue;
    out.push({ node: t.peer, since: t.since });
  }
  return out;
}

/**
 * Suspect nodes, each with when the loss that made it suspect was heard (ms, broker clock):
 * a loss heard after the node's last heartbeat. Nodes not in `records` are left out.
 */
export function suspects(downs: readonly TrunkDownRecord[], records: readonly NodeRecord[]): Map<string, number> {
  const seen = new Map<string, number>();
  for (const r of records) seen.set(r.node, r.seenAt);
  const out = new Map<string, number>();
  for (const d of downs) {
    const seenAt = seen.get(d.node);
    if (seenAt === undefined || d.at <= seenAt) continue;
    out.set(d.node, Math.max(d.at, out.get(d.node) ?? 0));
  }
  return out;
}
