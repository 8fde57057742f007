/**
 * A node's clock read on the broker's (docs/cluster.md "Failure detection"): a heartbeat
 * carrying `EL-Node-Time` says what the node's clock read when it sent it, so the times in its
 * report (a trunk down since when) convert to the broker's clock by the difference. Node and
 * broker clocks then need not agree; a heartbeat without the header is read as before.
 *
 * Pure functions: the heartbeat route takes the reading at receipt, the registry and the
 * console report apply it.
 */
import type { NodeReport } from '@elink/protocol';

/** How a node's clock relates to this broker's, taken when its heartbeat arrived. */
export interface NodeClock {
  /** Add to a node time to get a broker time (ms): broker now − node time at receipt. */
  offset: number;
  /** The broker's clock at receipt: converted times are never later. */
  now: number;
}

/** The reading for a heartbeat whose header said `nodeTime` (undefined: none, read as before). */
export function nodeClock(nodeTime: number | undefined, now: number): NodeClock | undefined {
  return nodeTime === undefined ? undefined : { offset: now - nodeTime, now };
}

/**
 * A node time on the broker's clock. The heartbeat's transit is in the offset, so a converted
 * time errs late (newer) by it, milliseconds; one that would be later than receipt (that, or
 * the node's clock stepped between its report and its header) is clamped to receipt. Without
 * a reading, as given.
 */
export function onBrokerClock(t: number, clock: NodeClock | undefined): number {
  if (!clock) return t;
  return Math.max(0, Math.min(clock.now, t + clock.offset));
}

/** The console's copy of a report with its times (sessions' and trunks' `since`) on the broker's clock. */
export function reportOnBrokerClock(report: NodeReport, clock: NodeClock | undefined): NodeReport {
  if (!clock) return report;
  return {
    ...report,
    sessions: report.sessions.map((s) => ({ ...s, since: onBrokerClock(s.since, clock) })),
    ...(report.trunks ? { trunks: report.trunks.map((t) => ({ ...t, since: onBrokerClock(t.since, clock) })) } : {}),
  };
}
