/**
 * `EL-Node-Time: <ms since the epoch>` on POST /v1/nodes/heartbeat: the node's clock when it
 * sent the heartbeat. The broker reads the times in `report` (a trunk down `since` when)
 * against it, so a node's clock need not agree with the brokers' (docs/protocol.md §6.3). A
 * header, not a body field: a broker that predates it ignores an unknown header, while the
 * strict heartbeat schema would refuse an unknown field.
 */

/** The header's name (node:http gives header names lower-case). */
export const NODE_TIME_HEADER = 'el-node-time';

/** 1..15 decimal digits: any time up to the year 33658, no sign, no fraction. */
const NODE_TIME_VALUE = /^[0-9]{1,15}$/;

/** The header's value for a clock reading `ms`. */
export function formatNodeTime(ms: number): string {
  return String(Math.max(0, Math.floor(ms)));
}

/**
 * The node's clock a request's header gives, as node:http hands it over, or undefined when
 * absent or invalid (repeated, empty, not 1..15 digits): the heartbeat is then read as
 * before, on the broker's clock. Never throws.
 */
export function parseNodeTimeHeader(value: string | string[] | undefined): number | undefined {
  if (typeof value !== 'string' || !NODE_TIME_VALUE.test(value)) return undefined;
  return Number(value);
}
