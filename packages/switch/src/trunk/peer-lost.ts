/**
 * Which trunk losses say the peer node itself may be gone, and so are worth telling the
 * brokers at once (an early heartbeat: docs/cluster.md "Failure detection"): the connection
 * closed or reset under us (a killed process: its kernel closes its sockets), or the keepalive
 * found the peer silent (a vanished host). Not our own doing (shutdown, segments changed, a
 * duplicate trunk), nor a peer that ended the trunk on purpose (it sent an error record: it is
 * alive), nor a slow or misbehaving peer (alive as well). A trunk that comes back to a peer a
 * heartbeat reported down is told at once as well: the brokers then withdraw that loss.
 */
import type { TrunkDownReason } from './trunk.js';

const LOST: ReadonlySet<TrunkDownReason> = new Set<TrunkDownReason>(['peer_closed', 'timeout']);

export function peerMayBeGone(reason: TrunkDownReason): boolean {
  return LOST.has(reason);
}

/** Why a peer was reported lost: a trunk that went down, or a dial refused (nothing listens). */
export type PeerLostReason = TrunkDownReason | 'refused';

/** Told when a peer node may be gone (TrunkHub.onPeerLost). */
export type PeerLostListener = (peer: string, reason: PeerLostReason) => void;

/** Told when a trunk comes back up to a peer a heartbeat reported down (TrunkHub.onPeerBack). */
export type PeerBackListener = (peer: string) => void;
