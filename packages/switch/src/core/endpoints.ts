/**
 * What a segment tells its trunks, and what it takes from them (trunk/trunk.ts): the
 * local endpoints it has (L2: MACs of client sessions and the TAP bridge; L3: addresses,
 * delegated prefixes and uplink routes of its ports) and the remote ones a peer node
 * announced. Keys are text: a MAC "02:00:5e:10:00:01" or a prefix "198.19.0.5/32".
 *
 * Rules (docs/cluster.md "Trunks"):
 * - a local endpoint wins over a remote one (an announcement for it is ignored; a port
 *   attaching with it takes it over from the trunk); between peers, the higher sequence
 *   number (what is not installed is kept shadowed by the trunk: trunk/trunk-shadow.ts);
 * - L2 learned MACs move by sequence number (RFC 7432 §15): a higher sequence from a peer
 *   takes a MAC learned on a local port away, a local learn of a remote MAC takes it back
 *   with the remote sequence + 1; at an equal sequence the lower node id wins (RFC 7432
 *   breaks the tie by address), so a LAN reached through two nodes (a loop) flaps and is
 *   frozen rather than settling on both; a MAC that moves more than `maxMoves` times within
 *   `moveWindowMs` is frozen: not announced, not taken from peers, and frames from trunks
 *   with it as source are dropped (`mac_frozen`) until `freezeMs` has passed.
 */
import type { Port } from './port.js';

/** Told of local endpoints appearing and going (set by the trunk hub when trunks are on). */
export interface EndpointListener {
  /** `key` is now local with sequence `seq` (announce it). */
  added(key: string, seq: number): void;
  /** `key` is no longer local (withdraw it). */
  removed(key: string): void;
  /** `key` was frozen after `moves` moves in the window (report it). */
  frozen?(key: string, moves: number): void;
}

/** L2 loop freezing: more than `maxMoves` moves of one MAC within `windowMs` freeze it for `freezeMs`. */
export interface MoveLimits {
  maxMoves: number;
  windowMs: number;
  freezeMs: number;
}

/** Why a remote announcement was not installed ('ok' when it was; 'stale': another peer's
 * newer one holds the key). */
export type RemoteVerdict = 'ok' | 'local' | 'frozen' | 'full' | 'stale' | 'bad';

export interface RemoteEndpoints {
  /** Local endpoints now, with their sequence numbers (the full table sync at trunk up). */
  localEndpoints(): [string, number][];
  /** A peer announced `key` (sequence `seq`) behind trunk port `port`; `winsTies`: the peer's
   * node id is the lower one, so at an equal sequence its MAC wins over one learned here. */
  learnRemote(port: Port, key: string, seq: number, limit: number, winsTies?: boolean): RemoteVerdict;
  /** A peer withdrew `key`; only what `port` holds is removed. Returns the key as the
   * segment writes it when something was removed (another peer's shadowed announcement of
   * it may take its place), else undefined. */
  forgetRemote(port: Port, key: string): string | undefined;
  /** Something holds `key` here — a local endpoint or a peer's announcement — other than
   * `except`'s (L3: in the node's one routing table, whatever the segment). */
  holds(key: string, except?: Port): boolean;
  /** The local port holding `key` (L2: a session's pinned MAC; L3: the port a prefix is
   * routed to, not a trunk), if any. */
  localHolder(key: string): Port | undefined;
  /** The keys installed from `port` (a trunk going down: what it frees). */
  remoteKeys(port: Port): string[];
  /** Endpoints installed from `port`. */
  remoteCount(port?: Port): number;
  /** Frozen MACs now (L2; 0 in L3). */
  frozenCount(): number;
  /** MAC freezes since start (L2; 0 in L3). */
  freezeCount(): number;
  /** From now on local endpoints are reported to `listener` (once, when trunks are on);
   * `moves`: the L2 loop freezing thresholds. */
  listen(listener: EndpointListener, moves: MoveLimits): void;
  /** Attaches a trunk port: trusted for the sources it announced, never learning, and
   * what it brings is never sent to another trunk (split horizon). */
  attachTrunk(port: Port): void;
}
