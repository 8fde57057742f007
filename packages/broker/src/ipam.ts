/**
 * Address assignment: sticky leases per (segment, user, device) from each segment's
 * pools, kept in a LeaseStore.
 *
 * - IPv4: the lowest free address. A per-pool hint remembers the lowest address not yet
 *   known to be taken, so filling a pool costs O(pool) claims in total, not per login.
 *   (While there is no release, every address below the hint is taken; release will
 *   have to lower the hint.)
 * - IPv6: an interface id derived from the key (SHA-256 → offset in the pool), so a
 *   device keeps its address even across a memory store's restart; on collision the
 *   next addresses are probed (linear, wrapping), at most MAX_IPV6_PROBES of them.
 *
 * A pool with no free address gives ElError EL_ERR_POOL_EXHAUSTED; `claim` in the
 * store is what makes a duplicate impossible, even with concurrent logins.
 */
import { createHash } from 'node:crypto';
import { ElError, type SegmentDef } from '@elink/protocol';
import { AddressPool } from './address-pool.js';
import type { LeaseFamily, LeaseStore } from './lease-store.js';

/** Bounds the IPv6 probe loop; only a nearly full small pool (≤ /112) could reach it. */
export const MAX_IPV6_PROBES = 65536;

export interface Lease {
  /** With the pool's prefix length: "198.19.0.2/16". */
  ipv4?: string;
  ipv6?: string;
}

interface SegmentPools {
  ipv4?: AddressPool;
  ipv6?: AddressPool;
  /** Lowest IPv4 address not known to be taken. */
  ipv4Hint: bigint;
}

/** The store key for a lease: unambiguous whatever characters the names contain. */
export function leaseKey(user: string, device: string): string {
  return JSON.stringify([user, device]);
}

export class Ipam {
  readonly #store: LeaseStore;
  readonly #segments = new Map<string, SegmentPools>();

  /** Throws ElError EL_ERR_CONFIG for a pool or gateway that does not parse or fit. */
  constructor(segments: readonly SegmentDef[], store: LeaseStore) {
    this.#store = store;
    for (const seg of segments) {
      const where = (family: string) => `segment "${seg.name}" ${family}`;
      const ipv4 = seg.ipv4 ? wrapConfig(where('ipv4'), () => new AddressPool(seg.ipv4!.pool, seg.ipv4!.gateway)) : undefined;
      const ipv6 = seg.ipv6 ? wrapConfig(where('ipv6'), () => new AddressPool(seg.ipv6!.pool, seg.ipv6!.gateway)) : undefined;
      if (ipv4 && ipv4.family !== 4) throw new ElError('EL_ERR_CONFIG', `${where('ipv4')}: pool ${ipv4} is not IPv4`);
      if (ipv6 && ipv6.family !== 6) throw new ElError('EL_ERR_CONFIG', `${where('ipv6')}: pool ${ipv6} is not IPv6`);
      this.#segments.set(seg.name, { ipv4, ipv6, ipv4Hint: ipv4?.first ?? 0n });
    }
  }

  pools(segment: string): { ipv4?: AddressPool; ipv6?: AddressPool } | undefined {
    const s = this.#segments.get(segment);
    return s && { ipv4: s.ipv4, ipv6: s.ipv6 };
  }

  /** The (sticky) addresses of `user` on `device` in `segment`; leases new ones as needed. */
  async lease(segment: string, user: string, device: string): Promise<Lease> {
    const s = this.#segments.get(segment);
    if (!s) throw new ElError('EL_ERR_NO_SEGMENT', `no segment "${segment}"`);
    const key = leaseKey(user, device);
    const held = await this.#store.get(segment, key);
    const lease: Lease = {};
    if (s.ipv4) {
      const address = held?.ipv4 ?? (await this.#leaseIPv4(segment, s, s.ipv4, key));
      lease.ipv4 = `${address}/${s.ipv4.cidr.prefixLength}`;
    }
    if (s.ipv6) {
      const address = held?.ipv6 ?? (await this.#leaseIPv6(segment, s.ipv6, key));
      lease.ipv6 = `${address}/${s.ipv6.cidr.prefixLength}`;
    }
    return lease;
  }

  async count(segment: string): Promise<number> {
    return this.#store.count(segment);
  }

  async #leaseIPv4(segment: string, s: SegmentPools, pool: AddressPool, key: string): Promise<string> {
    for (let a = s.ipv4Hint; a <= pool.last; a++) {
      if (!pool.isLeasable(a)) continue;
      const got = await this.#store.claim(segment, key, 'ipv4', pool.format(a));
      // Another login may have moved the hint past us meanwhile; never move it back.
      if (got === undefined || got === pool.format(a)) {
        if (s.ipv4Hint <= a) s.ipv4Hint = a + 1n;
      }
      if (got !== undefined) return got;
    }
    throw exhausted(segment, 'ipv4', pool);
  }

  async #leaseIPv6(segment: string, pool: AddressPool, key: string): Promise<string> {
    const span = pool.last - pool.first + 1n;
    const digest = createHash('sha256').update(`el-ipv6\0${segment}\0${key}`).digest();
    const start = BigInt(`0x${digest.subarray(0, 16).toString('hex')}`) % span;
    const probes = span < BigInt(MAX_IPV6_PROBES) ? Number(span) : MAX_IPV6_PROBES;
    for (let i = 0; i < probes; i++) {
      const a = pool.first + ((start + BigInt(i)) % span);
      if (!pool.isLeasable(a)) continue;
      const got = await this.#store.claim(segment, key, 'ipv6', pool.format(a));
      if (got !== undefined) return got;
    }
    throw exhausted(segment, 'ipv6', pool);
  }
}

function exhausted(segment: string, family: LeaseFamily, pool: AddressPool): ElError {
  return new ElError('EL_ERR_POOL_EXHAUSTED', `segment "${segment}": no free ${family === 'ipv4' ? 'IPv4' : 'IPv6'} address in ${pool} (${pool.capacity} leasable); enlarge the pool`);
}

function wrapConfig<T>(where: string, make: () => T): T {
  try {
    return make();
  } catch (err) {
    if (err instanceof ElError) throw new ElError(err.code, `${where}: ${err.message}`, { cause: err });
    throw err;
  }
}
