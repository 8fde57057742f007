/**
 * Reconnect delays (the client's session, the switch's trunks): exponential backoff with full jitter (AWS architecture blog,
 * "Exponential Backoff And Jitter"): delay = random(0, min(cap, base · 2^attempt)).
 * Full jitter spreads a thundering herd of clients after a switch restart.
 */
export interface BackoffOptions {
  baseMs?: number;
  capMs?: number;
  random?: () => number;
}

/** The longest Retry-After obeyed. */
export const MAX_RETRY_AFTER_SECONDS = 3600;

export class Backoff {
  private attempt = 0;
  private readonly baseMs: number;
  private readonly capMs: number;
  private readonly random: () => number;

  constructor(opts: BackoffOptions = {}) {
    this.baseMs = opts.baseMs ?? 500;
    this.capMs = opts.capMs ?? 30_000;
    this.random = opts.random ?? Math.random;
  }

  /** The delay before the next attempt; each call doubles the ceiling up to the cap. */
  next(): number {
    const ceiling = Math.min(this.capMs, this.baseMs * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 30);
    return Math.floor(this.random() * ceiling);
  }

  /**
   * The delay when the server said how long to wait (Retry-After): at least that long,
   * plus up to a fifth more (at least a second) so clients refused together do not
   * return together. At most an hour: a broken or hostile server must not park a client
   * for years.
   */
  after(seconds: number): number {
    const ms = Math.min(seconds, MAX_RETRY_AFTER_SECONDS) * 1000;
    return ms + Math.floor(this.random() * Math.max(1000, ms / 5));
  }

  /** After a session that stayed up, start again from the base. */
  reset(): void {
    this.attempt = 0;
  }
}
