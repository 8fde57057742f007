/**
 * Paced: runs an action at most once per interval. A call within the interval after the
 * last run is not lost but runs once at the interval's end, however many calls came (a
 * trunk's resync requests and answers, trunk-shadow.ts: neither end sends a table in a loop).
 */
export class Paced {
  private last = -Infinity;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly intervalMs: number,
    private readonly action: () => void,
  ) {}

  /** Runs the action now, or at the interval's end ('later'), or not at all when a run waits already. */
  run(): 'now' | 'later' | 'waiting' {
    if (this.timer !== undefined) return 'waiting';
    const wait = this.last + this.intervalMs - Date.now();
    if (wait <= 0) {
      this.fire();
      return 'now';
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.fire();
    }, wait);
    this.timer.unref();
    return 'later';
  }

  /** A waiting run is dropped (its trunk went down). */
  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private fire(): void {
    this.last = Date.now();
    this.action();
  }
}
