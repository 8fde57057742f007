/**
 * Everything several brokers must agree on lives behind this one interface: address
 * leases, single-use login challenges (the replay set), the switch node registry,
 * rate-limit counters, and (optionally) users. Two implementations:
 *
 *   MemoryStore  one process (the embedded default), optionally snapshotted to a file
 *   RedisStore   standalone, Sentinel or Cluster via ioredis; brokers become stateless
 *
 * A store that cannot be reached fails with ElError EL_ERR_UNAVAILABLE (HTTP 503), and
 * recovers by itself when the backend returns: nothing here is cached across calls.
 */
import type { HeartbeatRequest, NodeReport, Revocation } from '@elink/protocol';
import type { LeaseStore } from '../lease-store.js';
import type { UserRecord } from '../users.js';

/** What a switch node reports in its heartbeat (the contract in @elink/protocol), plus when the broker heard it. */
export type NodeRecord = HeartbeatRequest & {
  /** Milliseconds since the epoch, set by the broker. */
  seenAt: number;
};

/** A peer node's report that its trunk to `node` went down, as the store keeps it. */
export interface TrunkDownRecord {
  node: string;
  /** The node whose heartbeat said so. */
  reporter: string;
  /** When the trunk went down (ms since the epoch, the reporter's clock): tells a new loss from a repeated one. */
  since: number;
  /** When a broker first heard of it (ms since the epoch, that broker's clock). */
  at: number;
}

/** A user as the store keeps it. */
export type StoredUser = UserRecord;

export interface FailureCount {
  count: number;
  /** Seconds until the window ends (0 when count is 0). */
  retryAfter: number;
}

/** One counter a reservation takes a unit of: refused at `limit` within `windowSeconds` from its first unit. */
export interface CounterLimit {
  key: string;
  limit: number;
  windowSeconds: number;
}

/**
 * The outcome of `reserve`: every counter took one unit, or none did and `index` says
 * which counter was at its limit (-1: the counter table is full, see MAX_COUNTERS).
 * `retryAfter` (s) is the rest of the window when settled failures fill the limit, and
 * 1 when attempts still in flight do (they settle within a hash's time).
 */
export type Reservation = { ok: true } | { ok: false; index: number; retryAfter: number };

export interface BrokerStore extends LeaseStore {
  readonly kind: 'memory' | 'redis';

  /** Remembers a challenge for `ttlSeconds`. */
  putChallenge(id: string, ttlSeconds: number): Promise<void>;
  /** True exactly once for a live challenge: it is deleted as it is taken. */
  takeChallenge(id: string): Promise<boolean>;

  /**
   * Atomically: when every counter is below its limit, adds one unit to each, marked
   * in flight (a counter's window starts with its first unit); otherwise changes
   * nothing. This is what lets the rate limiter count an attempt *before* the expensive
   * check, so concurrent attempts on any number of brokers never pass more than the
   * limit. New counters are refused while the table holds MAX_COUNTERS live ones.
   */
  reserve(counters: readonly CounterLimit[]): Promise<Reservation>;
  /**
   * Ends a reservation's flight on each live counter: a failure keeps its unit (it is
   * the failure count), a success (`giveBack`) returns it.
   */
  settle(keys: readonly string[], giveBack: boolean): Promise<void>;
  counter(key: string): Promise<FailureCount>;
  clearCounter(key: string): Promise<void>;

  /** Records a node's heartbeat; records not refreshed for `retainSeconds` are dropped. */
  putNode(record: NodeRecord, retainSeconds: number): Promise<void>;
  listNodes(): Promise<NodeRecord[]>;
  deleteNode(node: string): Promise<boolean>;

  /**
   * Peers' reports that their trunk to a node went down (a heartbeat's `report.trunks`,
   * state down), kept where the registry is so every broker sees them (suspicion.ts). One
   * entry per (node, reporter): a report naming the `since` already kept changes nothing (a
   * heartbeat repeats it until the trunk is up again), another `since` replaces the entry with
   * `at` = now. Each entry lives `ttlSeconds` from its `at`. Returns the entries made now. While
   * MAX_TRUNK_DOWNS entries are live, new ones are not kept (and not returned). A new entry
   * on a full table first has the ended entries dropped, by a scan of the whole table: at
   * most one scan per TRUNK_DOWNS_SWEEP_MS (by the callers' clock), so a table full of live
   * entries does not cost a scan at every put (in Redis, a scan stops every other command).
   * One atomic step, as clearTrunkDowns: two brokers may handle one reporter's heartbeats at once.
   */
  putTrunkDowns(reporter: string, downs: readonly { node: string; since: number }[], ttlSeconds: number): Promise<TrunkDownRecord[]>;
  /** The live entries, at most MAX_TRUNK_DOWNS. */
  listTrunkDowns(): Promise<TrunkDownRecord[]>;
  /**
   * The reporter's trunks to these nodes came back up since `since` (its clock): its entries for
   * them with an older `since` are removed (an entry with the same or a later `since` is a loss
   * after that, and stays). Other reporters' entries stay. Returns the live entries removed.
   */
  clearTrunkDowns(reporter: string, ups: readonly { node: string; since: number }[]): Promise<TrunkDownRecord[]>;

  /**
   * Registers (or refreshes) the public key of a user's device for `ttlSeconds` (the
   * lease's idle time: the key lives as long as the device's addresses would). At most
   * MAX_DEVICE_KEYS_PER_USER per user: beyond, the key nearest its end gives way (that
   * device logs in with its password again).
   */
  putDeviceKey(user: string, device: string, key: string, ttlSeconds: number): Promise<void>;
  /** The live key of a user's device (raw Ed25519, base64url), if registered. */
  getDeviceKey(user: string, device: string): Promise<string | undefined>;
  /**
   * Forgets the key of `r.device` (or every key of `r.user`) and records the revocation
   * until `r.until`, for the heartbeat replies. Returns how many keys it forgot. Refuses
   * with EL_ERR_UNAVAILABLE while MAX_REVOCATIONS are live.
   */
  revoke(r: Revocation): Promise<number>;
  /** Live revocations (until > now), at most MAX_REVOCATIONS. */
  listRevocations(): Promise<Revocation[]>;

  /** Keeps a node's latest console report (heartbeat `report`) for `retainSeconds`, apart from the registry so logins never read it. */
  putNodeReport(node: string, report: NodeReport, retainSeconds: number): Promise<void>;
  /** The latest report of each node that sent one, with when (ms since the epoch). */
  listNodeReports(): Promise<Array<{ node: string; at: number; report: NodeReport }>>;

  /**
   * Bounded lists shared by every broker (the audit log, commands waiting for a node's
   * heartbeat): `pushList` adds at the head and keeps the newest `maxLength`; the list
   * expires `ttlSeconds` after its last push. At most MAX_LISTS lists (EL_ERR_UNAVAILABLE beyond).
   */
  pushList(name: string, value: string, maxLength: number, ttlSeconds: number): Promise<void>;
  /** The newest `limit` values, newest first. */
  readList(name: string, limit: number): Promise<string[]>;
  /** Removes and returns the oldest `limit` values, oldest first (each is taken by one caller only). */
  takeList(name: string, limit: number): Promise<string[]>;

  getUser(name: string): Promise<StoredUser | undefined>;
  putUser(user: StoredUser): Promise<void>;
  deleteUser(name: string): Promise<boolean>;
  listUsers(): Promise<StoredUser[]>;

  close(): Promise<void>;
}

/** Upper bound on live rate-limit counters (per store; shared by every broker on Redis). */
export const MAX_COUNTERS = 100_000;
/** Upper bound on nodes a store keeps: a misconfigured fleet must not grow it without end. */
export const MAX_NODES = 4096;
/** Upper bound on trunk-down reports kept at once (each lives a few heartbeats). */
export const MAX_TRUNK_DOWNS = 4 * MAX_NODES;
/** A full trunk-loss table is scanned for ended entries at most this often (ms). */
export const TRUNK_DOWNS_SWEEP_MS = 1000;
/** Device keys one user may have registered at once (the oldest gives way). */
export const MAX_DEVICE_KEYS_PER_USER = 64;
/** A registered device key as the stores keep it: the key and, ms since the epoch, its end. */
export interface DeviceKeyRecord {
  key: string;
  until: number;
}
/** Upper bound on users kept in a store. */
export const MAX_USERS = 1_000_000;
/** Upper bound on bounded lists (one per node with pending commands, plus the audit log). */
export const MAX_LISTS = MAX_NODES + 16;
