/**
 * Every default of a node's trunks (`switch.trunk`, README), in one place: the hub falls
 * back to these and the config schema uses them.
 */
import type { QueueOptions } from '@elink/transport';
import { DEFAULT_MAC_MOVES } from '../core/l2/mac-moves.js';

export interface TrunkSettings {
  /** Trunk port (TLS, ALPN el-trunk/1). */
  port: number;
  /** Bind address. */
  host: string;
  /** The shared trunk secret (at least 16 characters); may be empty with a cluster CA. */
  secret: string;
  /** A cluster CA: both ends present a certificate of `ca` (PEM) naming their node id
   * (DNS subjectAltName); `cert`/`key` are this node's. Absent: the secret alone. */
  clusterCa?: { ca: string | Buffer; cert: string | Buffer; key: string | Buffer };
  /** With a cluster CA: a peer must show a certificate of it (default true). False while a
   * cluster moves onto a CA or off it: a peer without one (or with one the CA does not
   * verify) is admitted on the secret alone, which must then be set. Changed live with
   * TrunkHub.setCredentials. */
  requireCert?: boolean;
  /** Static peers, "host:port". */
  peers: string[];
  /** Peer nodes at most (trunks, dialed addresses). */
  maxPeers: number;
  /** Endpoints one peer may install per segment (MACs or routes). */
  maxRemotePerSegment: number;
  /** Announcements (entries) per second per trunk, and the burst. */
  announceRate: number;
  announceBurst: number;
  /** L2 loop freezing: more than maxMoves moves of a MAC within windowSeconds freeze it for freezeSeconds. */
  macMoves: { maxMoves: number; windowSeconds: number; freezeSeconds: number };
  /** Reconnect backoff of the dialing side (exponential with full jitter). */
  reconnectMinMs: number;
  reconnectMaxMs: number;
  /** TLS handshake plus trunk_hello. */
  helloTimeoutMs: number;
  /** Ping interval, and how many intervals of silence (no record at all) declare the peer
   * down (a vanished peer sends no FIN): withdrawn at once, redialed with backoff. */
  keepaliveMs: number;
  keepaliveMissed: number;
  /** The trunk's output queue (per tick, high-water mark). */
  queue: Omit<QueueOptions, 'scheduler' | 'now'>;
}

export const DEFAULT_TRUNK_PORT = 4444;

export const DEFAULT_TRUNK: Omit<TrunkSettings, 'secret' | 'host' | 'port' | 'peers' | 'clusterCa' | 'requireCert'> = {
  maxPeers: 64,
  maxRemotePerSegment: 65_536,
  announceRate: 10_000,
  announceBurst: 10_000,
  macMoves: { ...DEFAULT_MAC_MOVES },
  reconnectMinMs: 250,
  reconnectMaxMs: 10_000,
  helloTimeoutMs: 10_000,
  // A peer gone without a FIN is down within 3 × 5 s = 15 s.
  keepaliveMs: 5_000,
  keepaliveMissed: 3,
  // A trunk carries many sessions' traffic: room for more per tick than one session.
  queue: { maxFrames: 16_384, maxBytes: 8 * 1024 * 1024, highWaterBytes: 16 * 1024 * 1024, writeTimeoutMs: 15_000 },
};

/** A trunk port asks its peer for a segment's table again (`resync`, trunk-shadow.ts) at most
 * once per this interval, and answers the peer's requests at most once per it: a request
 * within it waits for its end (once, however many came). */
export const DEFAULT_RESYNC_INTERVAL_MS = 10_000;

/** The trunk port before a peer's proof (connection-guard.ts): few connections per source
 * and in all, few per second. Peers are a handful of nodes reconnecting with backoff. */
export const DEFAULT_TRUNK_CONNECTION_LIMITS = { pending: 64, pendingPerSource: 4, acceptRate: 50, acceptRatePerSource: 5 } as const;
