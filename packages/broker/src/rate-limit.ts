/**
 * Brute-force and flood protection, with counters in the store so every broker sees
 * the same counts. An attempt is *reserved* (one atomic step in the store, for all of
 * its counters) before the expensive check, so N concurrent attempts on any number of
 * brokers never check more than the limit; a successful one gives its units back.
 *
 * Login counters, each a fixed window (`windowSeconds`) from its first unit:
 *
 *   (user, source)  `perUser`       a guesser locks out only itself, not the user elsewhere
 *   source          `perAddress`    one source guessing many user names
 *   user            `perUserTotal`  many sources guessing one user; a device that has
 *                                   logged in before (a valid remember token, see
 *                                   remember.ts) skips it, so a distributed guesser cannot
 *                                   lock the user's own devices out either
 *
 * A source is an IPv4 address or an IPv6 /64 (what one host usually has). Challenges
 * (`challenges` per source, and at most MAX_CHALLENGES live on the whole store) and
 * failed admin tokens and cluster secrets (`admin` per source, each) are limited the same way. Over a limit:
 * RateLimitedError (429 EL_ERR_RATE_LIMITED with Retry-After).
 */
import { isIPv6 } from 'node:net';
import { ElError } from '@elink/protocol';
import { formatIPv6, parseIPv6, prefixMask } from './ip.js';
import type { BrokerStore, CounterLimit } from './store/store.js';

export interface RateLimits {
  /** Failed logins per user name from one source per window. Default 10. */
  perUser: number;
  /** Failed logins per source per window. Default 50. */
  perAddress: number;
  /** Failed logins per user name from all sources per window (remembered devices pass). Default 100. */
  perUserTotal: number;
  /** Challenges issued per source per window. Default 60. */
  challenges: number;
  /** Failed admin-token attempts per source per window, and failed cluster secrets (heartbeats) the same. Default 10. */
  admin: number;
  /** Seconds. Default 300. */
  windowSeconds: number;
  /** Live challenges on the whole store at most. Default MAX_CHALLENGES (not a config key). */
  liveChallenges: number;
}

/** Live challenges on one store at most (the memory store also evicts beyond it). */
export const MAX_CHALLENGES = 100_000;

export const DEFAULT_RATE_LIMITS: Readonly<RateLimits> = { perUser: 10, perAddress: 50, perUserTotal: 100, challenges: 60, admin: 10, windowSeconds: 300, liveChallenges: MAX_CHALLENGES };

/** Which limit refused: the `limit` label of el_broker_rate_limited_total. */
export type LimitName = 'user_source' | 'source' | 'user' | 'challenge_source' | 'challenges' | 'admin_source' | 'cluster_source' | 'table_full';

export const LIMIT_NAMES: readonly LimitName[] = ['user_source', 'source', 'user', 'challenge_source', 'challenges', 'admin_source', 'cluster_source', 'table_full'];

/** The shared secrets a bearer token is checked against: each source has a counter per kind. */
export type SecretKind = 'admin' | 'cluster';
const SECRETS: Record<SecretKind, { prefix: string; name: LimitName; what: string }> = {
  admin: { prefix: 'adm', name: 'admin_source', what: 'too many failed admin-token attempts from this address' },
  cluster: { prefix: 'cl', name: 'cluster_source', what: 'too many failed cluster-secret attempts from this address' },
};

/** A 429 with the seconds to wait. */
export class RateLimitedError extends ElError {
  constructor(
    readonly retryAfter: number,
    readonly limit: LimitName,
    message: string,
  ) {
    super('EL_ERR_RATE_LIMITED', message);
  }
}

/** Units an attempt holds until it is known to have succeeded. */
export interface Held {
  keys: string[];
  /** Cleared on success (the user's own typos from that source are forgiven). */
  clear?: string;
}

interface Named extends CounterLimit {
  name: LimitName;
  what: string;
}

/** The counter key of a client address: IPv4 as is, IPv6 by its /64. */
export function sourceKey(address: string | undefined): string {
  if (address === undefined || address === '') return 'unknown';
  if (address.startsWith('::ffff:') && !address.slice(7).includes(':')) return address.slice(7);
  if (!isIPv6(address)) return address;
  return `${formatIPv6(parseIPv6(address) & prefixMask(6, 64))}/64`;
}

export class RateLimiter {
  readonly #store: BrokerStore;
  readonly #limits: RateLimits;

  constructor(store: BrokerStore, limits: Partial<RateLimits> = {}) {
    this.#store = store;
    this.#limits = { ...DEFAULT_RATE_LIMITS, ...limits };
  }

  get limits(): Readonly<RateLimits> {
    return this.#limits;
  }

  /** Reserves one login attempt; throws RateLimitedError when a counter is at its limit. */
  async reserveLogin(user: string, address: string | undefined, remembered: boolean): Promise<Held> {
    const src = sourceKey(address);
    const w = this.#limits.windowSeconds;
    const counters: Named[] = [
      { key: `us:${JSON.stringify([src, user])}`, limit: this.#limits.perUser, windowSeconds: w, name: 'user_source', what: 'too many failed logins for this user from this address' },
      { key: `s:${src}`, limit: this.#limits.perAddress, windowSeconds: w, name: 'source', what: 'too many failed logins from this address' },
    ];
    if (!remembered) counters.push({ key: `u:${user}`, limit: this.#limits.perUserTotal, windowSeconds: w, name: 'user', what: 'too many failed logins for this user (devices that logged in before still pass)' });
    await this.#reserve(counters);
    return { keys: counters.map((c) => c.key), clear: counters[0]!.key };
  }

  /**
   * Checks a bearer secret (`check` throws when it is wrong) with the attempt reserved
   * first, so guesses from one source are limited however many run at once.
   * `onResult` sees 'ok', 'bad_token' or 'rate_limited'.
   */
  async guardSecret(kind: SecretKind, address: string | undefined, check: () => void, onResult?: (result: 'ok' | 'bad_token' | 'rate_limited') => void): Promise<void> {
    const s = SECRETS[kind];
    const key = `${s.prefix}:${sourceKey(address)}`;
    try {
      await this.#reserve([{ key, limit: this.#limits.admin, windowSeconds: this.#limits.windowSeconds, name: s.name, what: s.what }]);
    } catch (err) {
      if (err instanceof RateLimitedError) onResult?.('rate_limited');
      throw err;
    }
    const held = { keys: [key] };
    try {
      check();
    } catch (err) {
      onResult?.('bad_token');
      await this.failed(held);
      throw err;
    }
    onResult?.('ok');
    await this.succeeded(held);
  }

  /** Counts one challenge for `address` and one live challenge on the store. */
  async challenge(address: string | undefined, ttlSeconds: number): Promise<void> {
    const counters: Named[] = [
      { key: `ch:${sourceKey(address)}`, limit: this.#limits.challenges, windowSeconds: this.#limits.windowSeconds, name: 'challenge_source', what: 'too many challenges requested from this address' },
      // A window as long as a challenge lives: any moment's live challenges were issued in at
      // most two consecutive windows, so half the bound per window keeps them under it.
      { key: 'ch:*', limit: Math.max(1, Math.floor(this.#limits.liveChallenges / 2)), windowSeconds: ttlSeconds, name: 'challenges', what: 'too many live challenges on this broker' },
    ];
    await this.#reserve(counters);
    // Nothing to wait for: an issued challenge counts until its window ends.
    await this.#store.settle(counters.map((c) => c.key), false);
  }

  /** The attempt succeeded: give its units back. */
  async succeeded(held: Held): Promise<void> {
    await this.#store.settle(held.keys, true);
    if (held.clear) await this.#store.clearCounter(held.clear);
  }

  /** The attempt failed: its units stay, as the failure count. */
  async failed(held: Held): Promise<void> {
    await this.#store.settle(held.keys, false);
  }

  /** The attempt could not be judged (the store or directory failed): give its units back. */
  async abandoned(held: Held): Promise<void> {
    await this.#store.settle(held.keys, true);
  }

  async #reserve(counters: Named[]): Promise<void> {
    const r = await this.#store.reserve(counters);
    if (r.ok) return;
    const c = counters[r.index];
    if (!c) throw new RateLimitedError(r.retryAfter, 'table_full', `the broker is tracking too many clients right now; try again in ${r.retryAfter} s`);
    throw new RateLimitedError(r.retryAfter, c.name, `${c.what}; try again in ${r.retryAfter} s`);
  }
}
