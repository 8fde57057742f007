/**
 * A device that moved between nodes (docs/cluster.md "A device that moved"). A client whose
 * connection broke may be admitted at another node before the node it left notices (its
 * keepalive timeout): that node still routes the device's MAC or addresses to the old
 * session, as a local endpoint wins over a peer's announcement. So, between nodes that both
 * name "mobility", the adds of a client session's endpoints carry the session's owner
 * (endpointOwner: its user and device) and age; a node holding such a key in a session of
 * the same owner that began clearly earlier ends that session as superseded, as a node
 * does when the same device connects again to it. Ages, not times: the nodes' clocks need
 * not agree; the trunk's transit makes the peer's session look older, never newer.
 */
import { MAX_ENDPOINT_AGE_MS, type TrunkUpdate } from '@elink/protocol';
import type { Port } from '../core/port.js';
import type { RemoteEndpoints } from '../core/endpoints.js';

/** An update's add: key, seq, and for a client session's endpoint its owner and age. */
export type AddEntry = TrunkUpdate['add'][number];

/** The peer's session must have begun this much later than the local one: two sessions
 * of one device begun closer than this (two clients with one device id) are left alone. */
export const MOVE_MARGIN_MS = 1000;

/** The add of local `key`, with its holder's owner and age when a client session holds it. */
export function withOwner(seg: RemoteEndpoints, key: string, seq: number, now = Date.now()): AddEntry {
  const holder = seg.localHolder(key);
  const owner = holder?.owner;
  const since = holder?.since;
  if (owner === undefined || since === undefined) return [key, seq];
  return [key, seq, owner, Math.min(MAX_ENDPOINT_AGE_MS, Math.max(0, now - since))];
}

/** The local session holding `key` if it is `owner`'s and began at least MOVE_MARGIN_MS
 * before `peerSince` (the peer's session's start, on this node's clock): it is to end. */
export function movedAway(seg: RemoteEndpoints, key: string, owner: string, peerSince: number): Port | undefined {
  const holder = seg.localHolder(key);
  if (holder?.movedAway === undefined || holder.owner !== owner || holder.since === undefined) return undefined;
  return peerSince - holder.since >= MOVE_MARGIN_MS ? holder : undefined;
}
