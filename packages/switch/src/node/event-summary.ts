/**
 * Log volume that strangers cannot control: events before authentication (refused
 * connections, failed handshakes, bad hellos) are counted by reason; the first
 * `sample` of each interval are logged one by one, the rest only as one summary line
 * per interval with the counts by reason.
 */
import type { Logger } from 'pino';

export const DEFAULT_LOG_INTERVAL_MS = 10_000;
export const DEFAULT_LOG_SAMPLE = 5;
/** Distinct reasons kept per interval (they are codes, so few; a bound all the same). */
const MAX_REASONS = 64;

export interface EventSummaryOptions {
  logger: Logger;
  /** The summary line's message, e.g. "pre-auth events". */
  message: string;
  intervalMs?: number;
  /** Events logged individually per interval. */
  sample?: number;
}

export class EventSummary {
  private counts = new Map<string, number>();
  private logged = 0;
  private suppressed = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly intervalMs: number;
  private readonly sample: number;

  constructor(private readonly opts: EventSummaryOptions) {
    this.intervalMs = opts.intervalMs ?? DEFAULT_LOG_INTERVAL_MS;
    this.sample = opts.sample ?? DEFAULT_LOG_SAMPLE;
  }

  /** Counts one event; logs it (at warn) only while this interval's sample lasts. */
  add(reason: string, fields: Record<string, unknown>, message: string): void {
    if (this.counts.has(reason) || this.counts.size < MAX_REASONS) this.counts.set(reason, (this.counts.get(reason) ?? 0) + 1);
    if (this.logged < this.sample) {
      this.logged++;
      this.opts.logger.warn({ reason, ...fields }, message);
    } else this.suppressed++;
    if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), this.intervalMs);
      this.timer.unref();
    }
  }

  /** Logs the summary of the interval (if anything happened) and starts a new one. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.counts.size === 0) return;
    const counts = Object.fromEntries(this.counts);
    const total = [...this.counts.values()].reduce((a, b) => a + b, 0);
    try {
      this.opts.logger.warn({ counts, total, suppressed: this.suppressed, intervalMs: this.intervalMs }, this.opts.message);
    } finally {
      this.counts = new Map();
      this.logged = 0;
      this.suppressed = 0;
    }
  }

  stop(): void {
    this.flush();
  }
}
