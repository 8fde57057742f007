/**
 * A heartbeat sent before its time, at most one a `minIntervalMs` (default one a second):
 * when a trunk peer may be gone (trunk/peer-lost.ts) the brokers hear it now, not at the next
 * beat, so they stop handing out that node (docs/cluster.md "Failure detection"). Requests
 * while one is waiting or under way fold into it or into the one after: a host that takes
 * many peers with it costs one early beat, not one per trunk.
 */

/** Early heartbeats one a second at most. */
export const EARLY_HEARTBEAT_MIN_MS = 1000;

/** The timers it uses (a parameter, so the rate limit is tested without waiting). */
export interface BeatTimers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

const REAL_TIMERS: BeatTimers = {
  set: (fn, ms) => setTimeout(fn, ms).unref(),
  clear: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface EarlyHeartbeatOptions {
  /** One heartbeat round (BrokerLink.beat); its failures are its own to log. */
  beat: () => Promise<unknown>;
  minIntervalMs?: number;
  now?: () => number;
  timers?: BeatTimers;
}

export class EarlyHeartbeat {
  readonly #beat: () => Promise<unknown>;
  readonly #minMs: number;
  readonly #now: () => number;
  readonly #timers: BeatTimers;
  #lastAt = Number.NEGATIVE_INFINITY;
  #timer: unknown;
  #running = false;
  /** A request came while one was under way: its report may predate what changed. */
  #again = false;
  #stopped = false;
  /** Early heartbeats started. */
  sent = 0;

  constructor(opts: EarlyHeartbeatOptions) {
    this.#beat = opts.beat;
    this.#minMs = opts.minIntervalMs ?? EARLY_HEARTBEAT_MIN_MS;
    this.#now = opts.now ?? Date.now;
    this.#timers = opts.timers ?? REAL_TIMERS;
  }

  /** Something the brokers should hear of now: a beat as soon as the rate limit allows. */
  request(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    if (this.#timer !== undefined) return;
    const wait = Math.max(0, this.#lastAt + this.#minMs - this.#now());
    this.#timer = this.#timers.set(() => {
      this.#timer = undefined;
      void this.#fire();
    }, wait);
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) this.#timers.clear(this.#timer);
    this.#timer = undefined;
  }

  async #fire(): Promise<void> {
    if (this.#stopped) return;
    this.#running = true;
    this.#lastAt = this.#now();
    this.sent++;
    try {
      await this.#beat();
    } catch {
      // BrokerLink.beat logs and counts each broker's failure; nothing more to say here.
    } finally {
      this.#running = false;
      if (this.#again) {
        this.#again = false;
        this.request();
      }
    }
  }
}
