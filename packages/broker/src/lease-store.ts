/**
 * Where address leases live. The broker talks only to this interface so a shared
 * store (Redis) can replace the memory one and several brokers can lease from the
 * same pools. Every method that changes state is one atomic step: `claim` is what
 * guarantees that no address is ever leased twice.
 *
 * Keys are opaque strings (the IPAM builds them from segment, user and device);
 * addresses are stored as plain text without prefix length ("198.19.0.2").
 */
export type LeaseFamily = 'ipv4' | 'ipv6';

export interface LeaseRecord {
  ipv4?: string;
  ipv6?: string;
}

export interface LeaseStore {
  /** The addresses `key` holds in `segment`, if any. */
  get(segment: string, key: string): Promise<LeaseRecord | undefined>;
  /**
   * Atomically binds `address` to `key` unless another key holds it. Returns the
   * address `key` holds for `family` afterwards: `address` when the claim won, the
   * key's earlier address when it already had one (a concurrent login of the same key),
   * or undefined when `address` belongs to another key.
   */
  claim(segment: string, key: string, family: LeaseFamily, address: string): Promise<string | undefined>;
  /** How many keys hold a lease in `segment`. */
  count(segment: string): Promise<number>;
  /** Resolves when the store can answer (`/readyz`). */
  ping(): Promise<void>;
  // Release and expiry come with the Redis store; the memory store keeps leases for the process's life.
}

interface SegmentLeases {
  byKey: Map<string, LeaseRecord>;
  /** `${family} ${address}` → key */
  byAddress: Map<string, string>;
}

/**
 * Leases in this process's memory: sticky while it lives. Bounded by the pools
 * (the IPAM never claims outside one), so it needs no other limit.
 */
export class MemoryLeaseStore implements LeaseStore {
  readonly #segments = new Map<string, SegmentLeases>();

  #segment(name: string): SegmentLeases {
    let s = this.#segments.get(name);
    if (!s) {
      s = { byKey: new Map(), byAddress: new Map() };
      this.#segments.set(name, s);
    }
    return s;
  }

  async get(segment: string, key: string): Promise<LeaseRecord | undefined> {
    const record = this.#segments.get(segment)?.byKey.get(key);
    return record ? { ...record } : undefined;
  }

  async claim(segment: string, key: string, family: LeaseFamily, address: string): Promise<string | undefined> {
    const s = this.#segment(segment);
    const record = s.byKey.get(key);
    const held = record?.[family];
    if (held !== undefined) return held;
    const owner = s.byAddress.get(`${family} ${address}`);
    if (owner !== undefined) return undefined;
    s.byAddress.set(`${family} ${address}`, key);
    if (record) record[family] = address;
    else s.byKey.set(key, { [family]: address });
    return address;
  }

  async count(segment: string): Promise<number> {
    return this.#segments.get(segment)?.byKey.size ?? 0;
  }

  async ping(): Promise<void> {}
}
