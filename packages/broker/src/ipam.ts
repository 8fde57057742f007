/**
 * Address assignment: sticky leases per (segment, user, device) from each segment's
 * pools, kept in a LeaseStore (shared by every broker when it is Redis).
 *
 * - Static assignments from configuration win: the user+device gets exactly that
 *   address (taken from any dynamic holder), and it is never handed to anyone else.
 * - IPv4: the lowest free address. A per-pool hint remembers where the last search
 *   ended so filling a pool costs O(pool) claims in total; the search wraps around
 *   once, since expired leases free addresses below the hint.
 * - IPv6: an interface id derived from the key (SHA-256 → offset in the pool), so a
 *   device keeps its address even after its lease expired or a memory store was lost;
 *   on collision the next addresses are probed, at most MAX_IPV6_PROBES of them.
 * - Delegated prefixes (a client asking for `prefix`): the lowest free one of the
 *   segment's delegation pool, for IPv6 and IPv4 alike.
 *
 * - A user holds leases for at most `maxDevicesPerUser` devices per segment: a new
 *   device beyond that gets EL_ERR_DEVICE_LIMIT (counted and claimed in one atomic
 *   store step), so one account cannot drain a pool; its existing devices keep theirs,
 *   and a device idle for `leaseIdleSeconds` no longer counts.
 *
 * Every login restarts the lease's idle time (`leaseIdleSeconds`). A pool with nothing
 * free gives ElError EL_ERR_POOL_EXHAUSTED; `claim` in the store is what makes a
 * duplicate impossible, even with concurrent logins on several brokers.
 */
import { createHash } from 'node:crypto';
import { ElError, type SegmentDef } from '@elink/protocol';
import { AddressPool } from './address-pool.js';
import type { LeaseFamily, LeaseStore } from './lease-store.js';
import { PrefixPool } from './prefix-pool.js';

/** Bounds the IPv6 probe loop; only a nearly full small pool (≤ /112) could reach it. */
export const MAX_IPV6_PROBES = 65536;
/** Default idle time after which an unused lease may go to another device: 30 days. */
export const DEFAULT_LEASE_IDLE_SECONDS = 30 * 86400;
/** Default devices (leases) per user and segment. */
export const DEFAULT_MAX_DEVICES_PER_USER = 8;

export interface Lease {
  /** With the pool's prefix length: "198.19.0.2/16". */
  ipv4?: string;
  ipv6?: string;
  /** Delegated prefixes, when asked for: "fd00:e1:0:100::/56", "198.19.64.16/28". */
  prefix?: string;
  prefix4?: string;
}

/** A fixed address for one user (and device, default any) in a segment. */
export interface StaticAssignment {
  segment: string;
  user: string;
  /** Absent = every device of the user (then give the user one device). */
  device?: string;
  ipv4?: string;
  ipv6?: string;
}

export interface IpamOptions {
  leaseIdleSeconds?: number;
  /** Devices per user and segment holding a lease at once. Default DEFAULT_MAX_DEVICES_PER_USER. */
  maxDevicesPerUser?: number;
  statics?: readonly StaticAssignment[];
}

interface SegmentPools {
  ipv4?: AddressPool;
  ipv6?: AddressPool;
  prefix6?: PrefixPool;
  prefix4?: PrefixPool;
  /** Where the next IPv4 search starts. */
  ipv4Hint: bigint;
  prefixHint: { prefix4: number; prefix6: number };
  /** Addresses of static assignments, `${family} ${address}`: never leased dynamically. */
  reserved: Set<string>;
}

/** The store key for a lease: unambiguous whatever characters the names contain. */
export function leaseKey(user: string, device: string): string {
  return JSON.stringify([user, device]);
}

/** What every lease key of `user` starts with (`["alice",`), whatever the device. */
export function leaseKeyPrefix(user: string): string {
  return `${JSON.stringify([user]).slice(0, -1)},`;
}

type Claim = (family: LeaseFamily, address: string) => Promise<string | undefined>;

export class Ipam {
  readonly #store: LeaseStore;
  readonly #segments = new Map<string, SegmentPools>();
  readonly #ttl: number;
  readonly #maxDevices: number;
  readonly #statics: readonly StaticAssignment[];

  /** Throws ElError EL_ERR_CONFIG for a pool, gateway or static address that does not parse or fit. */
  constructor(segments: readonly SegmentDef[], store: LeaseStore, opts: IpamOptions = {}) {
    this.#store = store;
    this.#ttl = opts.leaseIdleSeconds ?? DEFAULT_LEASE_IDLE_SECONDS;
    this.#maxDevices = opts.maxDevicesPerUser ?? DEFAULT_MAX_DEVICES_PER_USER;
    this.#statics = opts.statics ?? [];
    this.addSegments(segments);
    for (const st of this.#statics) {
      const s = this.#segments.get(st.segment);
      if (!s) throw new ElError('EL_ERR_CONFIG', `static assignment for "${st.user}": no segment "${st.segment}"`);
      for (const family of ['ipv4', 'ipv6'] as const) {
        const text = st[family];
        if (text === undefined) continue;
        const pool = s[family];
        if (!pool) throw new ElError('EL_ERR_CONFIG', `static assignment for "${st.user}": segment "${st.segment}" has no ${family} pool`);
        const a = wrapConfig(`static assignment for "${st.user}"`, () => pool.parse(text));
        if (!pool.isLeasable(a)) throw new ElError('EL_ERR_CONFIG', `static assignment for "${st.user}": ${text} is not a leasable address of ${pool}`);
        const slot = `${family} ${pool.format(a)}`;
        if (s.reserved.has(slot)) throw new ElError('EL_ERR_CONFIG', `static address ${text} in segment "${st.segment}" is assigned twice`);
        s.reserved.add(slot);
      }
    }
  }

  /**
   * Pools for segments not known yet (at construction, or a config reload that adds
   * segments). All of them parse before any is added, so a bad one adds none.
   * Throws ElError EL_ERR_CONFIG like the constructor.
   */
  addSegments(segments: readonly SegmentDef[]): void {
    const next = new Map<string, SegmentPools>();
    for (const seg of segments) {
      if (this.#segments.has(seg.name) || next.has(seg.name)) throw new ElError('EL_ERR_CONFIG', `segment "${seg.name}" is defined twice`);
      const where = (family: string) => `segment "${seg.name}" ${family}`;
      const ipv4 = seg.ipv4 ? wrapConfig(where('ipv4'), () => new AddressPool(seg.ipv4!.pool, seg.ipv4!.gateway)) : undefined;
      const ipv6 = seg.ipv6 ? wrapConfig(where('ipv6'), () => new AddressPool(seg.ipv6!.pool, seg.ipv6!.gateway)) : undefined;
      if (ipv4 && ipv4.family !== 4) throw new ElError('EL_ERR_CONFIG', `${where('ipv4')}: pool ${ipv4} is not IPv4`);
      if (ipv6 && ipv6.family !== 6) throw new ElError('EL_ERR_CONFIG', `${where('ipv6')}: pool ${ipv6} is not IPv6`);
      const d = seg.mode === 'l3' ? seg.delegation : undefined;
      const prefix6 = d?.ipv6 ? wrapConfig(where('delegation.ipv6'), () => new PrefixPool(d.ipv6!.pool, d.ipv6!.length)) : undefined;
      const prefix4 = d?.ipv4 ? wrapConfig(where('delegation.ipv4'), () => new PrefixPool(d.ipv4!.pool, d.ipv4!.length)) : undefined;
      if (prefix6 && prefix6.family !== 6) throw new ElError('EL_ERR_CONFIG', `${where('delegation.ipv6')}: pool ${prefix6} is not IPv6`);
      if (prefix4 && prefix4.family !== 4) throw new ElError('EL_ERR_CONFIG', `${where('delegation.ipv4')}: pool ${prefix4} is not IPv4`);
      next.set(seg.name, { ipv4, ipv6, prefix6, prefix4, ipv4Hint: ipv4?.first ?? 0n, prefixHint: { prefix4: 0, prefix6: 0 }, reserved: new Set() });
    }
    for (const [name, pools] of next) this.#segments.set(name, pools);
  }

  pools(segment: string): { ipv4?: AddressPool; ipv6?: AddressPool } | undefined {
    const s = this.#segments.get(segment);
    return s && { ipv4: s.ipv4, ipv6: s.ipv6 };
  }

  /** True when the segment can delegate prefixes. */
  delegates(segment: string): boolean {
    const s = this.#segments.get(segment);
    return !!(s?.prefix4 || s?.prefix6);
  }

  /** True when the segment can delegate IPv6 prefixes (DTCP `network` tunnels). */
  delegates6(segment: string): boolean {
    return this.#segments.get(segment)?.prefix6 !== undefined;
  }

  /**
   * The (sticky) addresses of `user` on `device` in `segment`; leases new ones as needed.
   * `families` narrows what is leased (a DTCP `host` tunnel: only `ipv6`; `network`: only
   * `prefix6`; `tunnelonly`: nothing); absent = every pool the segment has, prefixes only with `prefix`.
   */
  async lease(segment: string, user: string, device: string, opts: { prefix?: boolean; families?: readonly LeaseFamily[] } = {}): Promise<Lease> {
    const s = this.#segments.get(segment);
    if (!s) throw new ElError('EL_ERR_NO_SEGMENT', `no segment "${segment}"`);
    const key = leaseKey(user, device);
    const held = (await this.#store.get(segment, key)) ?? {};
    const st = this.#statics.find((x) => x.segment === segment && x.user === user && (x.device === undefined || x.device === device));
    // Static assignments are the operator's choice: not capped.
    const owner = { prefix: leaseKeyPrefix(user), max: this.#maxDevices };
    const claim: Claim = st
      ? (family, address) => this.#store.claim(segment, key, family, address, this.#ttl)
      : async (family, address) => {
          try {
            return await this.#store.claimCapped(segment, key, family, address, this.#ttl, owner);
          } catch (err) {
            if (err instanceof ElError && err.code === 'EL_ERR_DEVICE_LIMIT') {
              throw new ElError('EL_ERR_DEVICE_LIMIT', `user "${user}" already has ${this.#maxDevices} devices with a lease in segment "${segment}"; use one of their device ids, or have an administrator free one (a lease unused for broker.leaseIdle frees itself)`, { cause: err });
            }
            throw err;
          }
        };
    const lease: Lease = {};
    let claimed = false;
    const wanted = (family: LeaseFamily): boolean => (opts.families ? opts.families.includes(family) : family === 'ipv4' || family === 'ipv6' || opts.prefix === true);
    for (const family of ['ipv4', 'ipv6'] as const) {
      const pool = s[family];
      if (!pool || !wanted(family)) continue;
      let address: string;
      const fixed = st?.[family];
      if (fixed !== undefined) {
        address = pool.format(pool.parse(fixed));
        if (held[family] !== address) {
          await this.#store.claim(segment, key, family, address, this.#ttl, true);
          claimed = true;
        }
      } else if (held[family] !== undefined && !s.reserved.has(`${family} ${held[family]}`)) {
        address = held[family]!;
      } else {
        address = family === 'ipv4' ? await this.#leaseIPv4(segment, s, pool, claim) : await this.#leaseIPv6(segment, s, pool, key, claim);
        claimed = true;
      }
      lease[family] = `${address}/${pool.cidr.prefixLength}`;
    }
    for (const family of ['prefix6', 'prefix4'] as const) {
      const pool = s[family];
      if (!pool || !wanted(family)) continue;
      const got = held[family] ?? (await this.#leasePrefix(segment, s, family, pool, claim));
      if (held[family] === undefined) claimed = true;
      lease[family === 'prefix6' ? 'prefix' : 'prefix4'] = got;
    }
    // Nothing new was claimed: restart the idle time of what the key holds.
    if (!claimed) await this.#store.touch(segment, key, this.#ttl);
    return lease;
  }

  async count(segment: string): Promise<number> {
    return this.#store.count(segment);
  }

  async #leaseIPv4(segment: string, s: SegmentPools, pool: AddressPool, claim: Claim): Promise<string> {
    // From the hint to the end, then once around from the start.
    const span = pool.last - pool.first + 1n;
    for (let i = 0n; i < span; i++) {
      let a = s.ipv4Hint + i;
      if (a > pool.last) a -= span;
      if (!pool.isLeasable(a) || s.reserved.has(`ipv4 ${pool.format(a)}`)) continue;
      const got = await claim('ipv4', pool.format(a));
      if (got === undefined || got === pool.format(a)) s.ipv4Hint = a + 1n > pool.last ? pool.first : a + 1n;
      if (got !== undefined) return got;
    }
    throw exhausted(segment, 'IPv4 address', pool.toString(), pool.capacity);
  }

  async #leaseIPv6(segment: string, s: SegmentPools, pool: AddressPool, key: string, claim: Claim): Promise<string> {
    const span = pool.last - pool.first + 1n;
    const digest = createHash('sha256').update(`el-ipv6\0${segment}\0${key}`).digest();
    const start = BigInt(`0x${digest.subarray(0, 16).toString('hex')}`) % span;
    const probes = span < BigInt(MAX_IPV6_PROBES) ? Number(span) : MAX_IPV6_PROBES;
    for (let i = 0; i < probes; i++) {
      const a = pool.first + ((start + BigInt(i)) % span);
      if (!pool.isLeasable(a) || s.reserved.has(`ipv6 ${pool.format(a)}`)) continue;
      const got = await claim('ipv6', pool.format(a));
      if (got !== undefined) return got;
    }
    throw exhausted(segment, 'IPv6 address', pool.toString(), pool.capacity);
  }

  async #leasePrefix(segment: string, s: SegmentPools, family: 'prefix4' | 'prefix6', pool: PrefixPool, claim: Claim): Promise<string> {
    for (let i = 0; i < pool.capacity; i++) {
      const index = (s.prefixHint[family] + i) % pool.capacity;
      const got = await claim(family, pool.format(index));
      if (got === undefined || got === pool.format(index)) s.prefixHint[family] = (index + 1) % pool.capacity;
      if (got !== undefined) return got;
    }
    throw exhausted(segment, family === 'prefix6' ? `IPv6 /${pool.length} prefix` : `IPv4 /${pool.length} prefix`, pool.toString(), BigInt(pool.capacity));
  }
}

function exhausted(segment: string, what: string, pool: string, capacity: bigint): ElError {
  return new ElError('EL_ERR_POOL_EXHAUSTED', `segment "${segment}": no free ${what} in ${pool} (${capacity} in all); enlarge the pool or release stale leases`);
}

function wrapConfig<T>(where: string, make: () => T): T {
  try {
    return make();
  } catch (err) {
    if (err instanceof ElError) throw new ElError(err.code, `${where}: ${err.message}`, { cause: err });
    throw err;
  }
}
