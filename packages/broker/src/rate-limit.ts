/**
 * Brute-force protection: failed logins are counted per user name and per source
 * address in the store, so every broker sees the same counts. Once a key reaches its
 * limit, logins for it answer 429 EL_ERR_RATE_LIMITED with Retry-After until the
 * window (started by the first failure) ends. A successful login clears the user's count.
 * Failures are counted, not attempts: a user who knows the password is never slowed.
 */
import { ElError } from '@elink/protocol';
import type { BrokerStore } from './store/store.js';

export interface RateLimits {
  /** Failed logins per user name per window. Default 10. */
  perUser: number;
  /** Failed logins per source address per window. Default 50. */
  perAddress: number;
  /** Seconds. Default 300. */
  windowSeconds: number;
}

export const DEFAULT_RATE_LIMITS: Readonly<RateLimits> = { perUser: 10, perAddress: 50, windowSeconds: 300 };

/** A 429 with the seconds to wait. */
export class RateLimitedError extends ElError {
  constructor(
    readonly retryAfter: number,
    message: string,
  ) {
    super('EL_ERR_RATE_LIMITED', message);
  }
}

export class LoginRateLimiter {
  readonly #store: BrokerStore;
  readonly #limits: RateLimits;

  constructor(store: BrokerStore, limits: Partial<RateLimits> = {}) {
    this.#store = store;
    this.#limits = { ...DEFAULT_RATE_LIMITS, ...limits };
  }

  /** Throws RateLimitedError when the user or the address is over its limit. */
  async check(user: string, address: string | undefined): Promise<void> {
    const [u, a] = await Promise.all([this.#store.failures(userKey(user)), address ? this.#store.failures(addressKey(address)) : { count: 0, retryAfter: 0 }]);
    if (u.count >= this.#limits.perUser) throw new RateLimitedError(u.retryAfter, `too many failed logins for this user; try again in ${u.retryAfter} s`);
    if (a.count >= this.#limits.perAddress) throw new RateLimitedError(a.retryAfter, `too many failed logins from this address; try again in ${a.retryAfter} s`);
  }

  async failed(user: string, address: string | undefined): Promise<void> {
    await Promise.all([this.#store.addFailure(userKey(user), this.#limits.windowSeconds), address ? this.#store.addFailure(addressKey(address), this.#limits.windowSeconds) : undefined]);
  }

  async succeeded(user: string): Promise<void> {
    await this.#store.clearFailures(userKey(user));
  }
}

const userKey = (user: string) => `u:${user}`;
const addressKey = (address: string) => `a:${address.startsWith('::ffff:') ? address.slice(7) : address}`;
