/**
 * Where address leases live. The IPAM talks only to this interface; a memory store
 * (the embedded default) and a Redis store (shared by broker replicas) implement it.
 * Every method that changes state is one atomic step: `claim` is what guarantees that
 * no address is ever leased twice, even with several brokers racing.
 *
 * Keys are opaque strings (the IPAM builds them from user and device); addresses are
 * plain text without prefix length ("198.19.0.2"); delegated prefixes carry theirs
 * ("fd00:e1:0:100::/56").
 *
 * A lease expires `ttlSeconds` after it was last claimed or touched (every login
 * touches it). An expired lease's addresses are free for others; until someone needs
 * them they stay with the old key, so a device that returns late usually gets them back.
 */
export type LeaseFamily = 'ipv4' | 'ipv6' | 'prefix4' | 'prefix6';

export const LEASE_FAMILIES: readonly LeaseFamily[] = ['ipv4', 'ipv6', 'prefix4', 'prefix6'];

export type LeaseRecord = Partial<Record<LeaseFamily, string>>;

export interface LeaseEntry extends LeaseRecord {
  key: string;
  /** Milliseconds since the epoch. */
  expiresAt: number;
}

/** Keys of one owner (a user's devices) and how many of them may hold a lease at once. */
export interface OwnerCap {
  prefix: string;
  max: number;
}

export interface LeaseStore {
  /** The addresses `key` holds in `segment`, if its lease has not expired. */
  get(segment: string, key: string): Promise<LeaseRecord | undefined>;
  /**
   * Atomically binds `address` to `key` unless another live lease holds it, and
   * (re)starts the key's lease time. Returns the address `key` holds for `family`
   * afterwards: `address` when the claim won, the key's earlier address when it
   * already had one (a concurrent login of the same key), or undefined when
   * `address` belongs to another key. `force` takes the address from its holder
   * (static assignments from configuration win).
   */
  claim(segment: string, key: string, family: LeaseFamily, address: string, ttlSeconds: number, force?: boolean): Promise<string | undefined>;
  /**
   * Like `claim` (never forced), but when `key` holds no live lease in `segment` yet,
   * refuses with ElError EL_ERR_DEVICE_LIMIT if `owner.max` live keys starting with
   * `owner.prefix` already hold one. Count and claim are one atomic step.
   */
  claimCapped(segment: string, key: string, family: LeaseFamily, address: string, ttlSeconds: number, owner: OwnerCap): Promise<string | undefined>;
  /** Restarts the lease time of `key` (a login that needed no new address). */
  touch(segment: string, key: string, ttlSeconds: number): Promise<void>;
  /** Frees every address of `key`; false when it held none. */
  release(segment: string, key: string): Promise<boolean>;
  /** Live leases of `segment`, at most `limit`, soonest expiry first. */
  list(segment: string, limit: number): Promise<LeaseEntry[]>;
  /** How many keys hold a live lease in `segment`. */
  count(segment: string): Promise<number>;
  /** Resolves when the store can answer (`/readyz`). */
  ping(): Promise<void>;
}
