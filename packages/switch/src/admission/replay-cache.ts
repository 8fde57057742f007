/**
 * Remembers ticket ids (jti) until their expiry so that a ticket is accepted once
 * per node. Bounded: when full (after forgetting expired ids) it refuses new
 * tickets rather than forget live ones — forgetting would reopen replay. With a
 * ReplayJournal every fresh id is on disk before check() returns, and the journal's
 * ids are loaded at start, so a restart does not reopen replay either.
 */
import type { ReplayJournal } from './replay-journal.js';

export type ReplayVerdict = 'fresh' | 'replayed' | 'full';

/** Ticket ids remembered until they expire (single use); full = new sessions refused. */
export const DEFAULT_REPLAY_CACHE_SIZE = 200_000;

export class ReplayCache {
  private readonly seen = new Map<string, number>();
  private lastPurge = 0;

  private journal: ReplayJournal | undefined;

  constructor(
    readonly capacity = DEFAULT_REPLAY_CACHE_SIZE,
    private readonly nowSeconds: () => number = () => Math.floor(Date.now() / 1000),
  ) {}

  /** Journals every fresh id from now on, after loading the ids the journal holds. */
  persistTo(journal: ReplayJournal, entries: Iterable<{ jti: string; exp: number }>): void {
    const now = this.nowSeconds();
    // Live ids from disk are loaded even beyond capacity: they must stay refused.
    for (const e of entries) if (e.exp > now) this.seen.set(e.jti, e.exp);
    this.journal = journal;
  }

  get size(): number {
    return this.seen.size;
  }

  /** Records `jti` (valid until `exp`, seconds) unless already seen or the cache is full.
   * Throws EL_ERR_UNAVAILABLE when the journal cannot record it (the ticket is then not taken). */
  check(jti: string, exp: number): ReplayVerdict {
    const now = this.nowSeconds();
    const known = this.seen.get(jti);
    if (known !== undefined && known > now) return 'replayed';
    if (known !== undefined) this.seen.delete(jti);
    if (this.seen.size >= this.capacity && now !== this.lastPurge) this.purge(now);
    if (this.seen.size >= this.capacity) return 'full';
    if (this.journal) {
      this.journal.append(jti, exp); // throws before the id is taken
      this.seen.set(jti, exp);
      this.journal.maybeCompact(() => this.entries(), this.seen.size);
    } else this.seen.set(jti, exp);
    return 'fresh';
  }

  private *entries(): Iterable<{ jti: string; exp: number }> {
    for (const [jti, exp] of this.seen) yield { jti, exp };
  }

  /** Forgets expired ids; O(size), so at most once per second from check(). */
  purge(now = this.nowSeconds()): void {
    this.lastPurge = now;
    for (const [jti, exp] of this.seen) if (exp <= now) this.seen.delete(jti);
  }
}
