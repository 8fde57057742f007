/**
 * Remembers ticket ids (jti) until their expiry so that a ticket is accepted once
 * per node. Bounded: when full (after forgetting expired ids) it refuses new
 * tickets rather than forget live ones — forgetting would reopen replay.
 */
export type ReplayVerdict = 'fresh' | 'replayed' | 'full';

export class ReplayCache {
  private readonly seen = new Map<string, number>();
  private lastPurge = 0;

  constructor(
    readonly capacity = 200_000,
    private readonly nowSeconds: () => number = () => Math.floor(Date.now() / 1000),
  ) {}

  get size(): number {
    return this.seen.size;
  }

  /** Records `jti` (valid until `exp`, seconds) unless already seen or the cache is full. */
  check(jti: string, exp: number): ReplayVerdict {
    const now = this.nowSeconds();
    const known = this.seen.get(jti);
    if (known !== undefined && known > now) return 'replayed';
    if (known !== undefined) this.seen.delete(jti);
    if (this.seen.size >= this.capacity && now !== this.lastPurge) this.purge(now);
    if (this.seen.size >= this.capacity) return 'full';
    this.seen.set(jti, exp);
    return 'fresh';
  }

  /** Forgets expired ids; O(size), so at most once per second from check(). */
  purge(now = this.nowSeconds()): void {
    this.lastPurge = now;
    for (const [jti, exp] of this.seen) if (exp <= now) this.seen.delete(jti);
  }
}
