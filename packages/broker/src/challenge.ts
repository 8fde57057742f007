/**
 * DTCP-style challenge–response for legacy devices that cannot send a password:
 *
 *   GET  /v1/challenge                           → {challenge, expiresAt}
 *   POST /v1/login {user, challenge, digest}     digest = hex(MD5(user + challenge + secret))
 *
 * A challenge is random (128 bits), single-use (taken from the store on the first
 * login that names it, whatever the outcome) and short-lived. The digest is compared
 * case-insensitively and in constant time. It needs the user's secret in the clear
 * on the broker (`digestSecret`), which is why it is off unless enabled per user.
 * Issuing is rate-limited per source, and the live challenges of a store are bounded
 * (RateLimiter.challenge), on Redis as in memory.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { RateLimiter } from './rate-limit.js';
import type { BrokerStore } from './store/store.js';

export const DEFAULT_CHALLENGE_TTL_SECONDS = 30;

export function digestFor(user: string, challenge: string, secret: string): string {
  return createHash('md5').update(`${user}${challenge}${secret}`, 'utf8').digest('hex');
}

/** Constant-time comparison of two hex digests, ignoring case. */
export function digestMatches(expectedHex: string, givenHex: string): boolean {
  const a = Buffer.from(expectedHex.toLowerCase(), 'utf8');
  const b = Buffer.from(givenHex.toLowerCase(), 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

export class Challenges {
  readonly #store: BrokerStore;
  readonly #ttl: number;
  readonly #now: () => number;
  readonly #limiter: RateLimiter | undefined;

  constructor(store: BrokerStore, ttlSeconds = DEFAULT_CHALLENGE_TTL_SECONDS, now: () => number = Date.now, limiter?: RateLimiter) {
    this.#store = store;
    this.#ttl = ttlSeconds;
    this.#now = now;
    this.#limiter = limiter;
  }

  /** Throws RateLimitedError when `address` asked for too many, or the store holds too many. */
  async issue(address?: string): Promise<{ challenge: string; expiresAt: string }> {
    await this.#limiter?.challenge(address, this.#ttl);
    const challenge = randomBytes(16).toString('hex');
    await this.#store.putChallenge(challenge, this.#ttl);
    return { challenge, expiresAt: new Date(this.#now() + this.#ttl * 1000).toISOString() };
  }

  /** True once for a live challenge; false for an unknown, used or expired one. */
  take(challenge: string): Promise<boolean> {
    return this.#store.takeChallenge(challenge);
  }
}
