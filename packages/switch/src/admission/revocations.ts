/**
 * Device key revocations as a node knows them (the brokers push them in heartbeat
 * replies, docs/protocol.md §6.3): a ticket of a revoked user or device issued at or
 * before the revocation is refused, and established sessions with such tickets are
 * closed. Entries are dropped once every ticket they refuse has expired (`until`).
 * Bounded: at MAX_NODE_REVOCATIONS the entry nearest to its end gives way.
 */
import type { Revocation, TicketClaims } from '@elink/protocol';

export const MAX_NODE_REVOCATIONS = 4096;

const ALL_DEVICES = '\0*';

export class Revocations {
  readonly #entries = new Map<string, Revocation>();

  constructor(
    private readonly capacity = MAX_NODE_REVOCATIONS,
    private readonly nowSeconds: () => number = () => Math.floor(Date.now() / 1000),
  ) {}

  get size(): number {
    return this.#entries.size;
  }

  /** Takes a broker's list; returns the entries that are new or later than known (their sessions are to be closed). */
  apply(list: readonly Revocation[]): Revocation[] {
    const now = this.nowSeconds();
    for (const [k, r] of this.#entries) if (r.until <= now) this.#entries.delete(k);
    const fresh: Revocation[] = [];
    for (const r of list) {
      if (r.until <= now) continue;
      const key = r.user + (r.device === undefined ? ALL_DEVICES : `\0${r.device}`);
      const known = this.#entries.get(key);
      if (known && known.at >= r.at) continue;
      if (!known && this.#entries.size >= this.capacity) this.#evictOne();
      this.#entries.set(key, r);
      fresh.push(r);
    }
    return fresh;
  }

  /** The revocation that refuses these claims, if any. */
  refusing(claims: Pick<TicketClaims, 'sub' | 'dev' | 'iat'>): Revocation | undefined {
    if (this.#entries.size === 0) return undefined;
    const all = this.#entries.get(claims.sub + ALL_DEVICES);
    if (all && claims.iat <= all.at && all.until > this.nowSeconds()) return all;
    const one = claims.dev === undefined ? undefined : this.#entries.get(`${claims.sub}\0${claims.dev}`);
    if (one && claims.iat <= one.at && one.until > this.nowSeconds()) return one;
    return undefined;
  }

  #evictOne(): void {
    let victim: string | undefined;
    let soonest = Infinity;
    for (const [k, r] of this.#entries) {
      if (r.until < soonest) {
        soonest = r.until;
        victim = k;
      }
    }
    if (victim !== undefined) this.#entries.delete(victim);
  }
}

/** Whether a revocation applies to a session's claims (the same rule as refusing()). */
export function revokes(r: Revocation, claims: Pick<TicketClaims, 'sub' | 'dev' | 'iat'>): boolean {
  return r.user === claims.sub && (r.device === undefined || r.device === claims.dev) && claims.iat <= r.at;
}
