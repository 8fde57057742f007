/**
 * Where the logs go: standard output, through a bounded queue, never blocking the event loop.
 *
 * pino's default destination writes asynchronously too, but queues without bound: a reader
 * that falls behind (a full pipe to journald or a container runtime, a paused `kubectl logs
 * -f`) made the process hold every line in memory for as long as it was stuck, and at exit
 * it retried writing them forever, so SIGTERM never ended it. Here lines are written from
 * the thread pool as they come, many to a write when they come fast; up to `bufferBytes`
 * wait for a slow reader, past that a line is dropped and counted, and once none has been
 * dropped for a second one `warn` line says how many were lost. At exit what is queued is
 * written synchronously, for at most EXIT_FLUSH_MS when the reader takes nothing.
 */
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { setAll } from '@elink/switch';
import sonicBoom, { type SonicBoom } from 'sonic-boom';

/** Default bound of the queue: some 25,000 typical lines. */
export const DEFAULT_LOG_BUFFER = 8 * 1024 * 1024;
/** At exit, how long a stuck reader may hold the process up while the queue is written. */
export const EXIT_FLUSH_MS = 2000;
/** A summary of dropped lines waits for this long without a drop. */
const QUIET_MS = 1000;

export interface LogOutputOptions {
  /** Where to write (default 1, standard output). */
  fd?: number;
  /** Bytes queued at most (default DEFAULT_LOG_BUFFER). */
  bufferBytes?: number;
  now?: () => number;
}

export class LogOutput {
  readonly stream: SonicBoom;
  readonly bufferBytes: number;
  /** Lines dropped because the queue was full, since start. */
  dropped = 0;
  private reported = 0;
  private lastDropAt = 0;
  private summaryTimer: NodeJS.Timeout | undefined;
  private summarizing = false;
  private summaryDropped = false;
  private exitDeadline = Infinity;
  private logger: Logger | undefined;
  private readonly now: () => number;

  constructor(opts: LogOutputOptions = {}) {
    this.bufferBytes = opts.bufferBytes ?? DEFAULT_LOG_BUFFER;
    this.now = opts.now ?? Date.now;
    this.stream = new sonicBoom.SonicBoom({
      fd: opts.fd ?? 1,
      sync: false,
      maxLength: this.bufferBytes,
      // While running: keep retrying (a timer, not a sleep). At exit: up to the deadline.
      retryEAGAIN: () => this.now() < this.exitDeadline,
    });
    this.stream.on('drop', () => this.onDrop());
    this.stream.on('error', () => {
      // The reader is gone (EPIPE) or the descriptor broke: nothing more can be written,
      // and the process must not die of its log. Lines from now on count as dropped.
      this.stream.write = () => (this.onDrop(), true);
      this.stream.flushSync = () => undefined;
    });
  }

  /** The logger whose `warn` reports dropped lines (the one writing here). */
  attach(logger: Logger): void {
    this.logger = logger;
  }

  /** Writes what is queued, synchronously, giving up after `ms` of a reader that takes nothing. */
  flushSync(ms = EXIT_FLUSH_MS): void {
    this.exitDeadline = this.now() + ms;
    try {
      this.stream.flushSync();
    } catch {
      /* the reader is stuck or gone: what is left is lost, as when the process is killed */
    }
  }

  private onDrop(): void {
    if (this.summarizing) {
      this.summaryDropped = true;
      return;
    }
    this.dropped++;
    this.lastDropAt = this.now();
    this.summaryTimer ??= setInterval(() => this.summarize(), QUIET_MS).unref();
  }

  /** Once a second while lines are lost; says how many once none was for QUIET_MS. */
  private summarize(): void {
    if (this.now() - this.lastDropAt < QUIET_MS) return;
    const lost = this.dropped - this.reported;
    if (lost > 0 && this.logger) {
      this.summarizing = true;
      this.summaryDropped = false;
      try {
        this.logger.warn({ dropped: lost, droppedTotal: this.dropped, bufferBytes: this.bufferBytes }, 'log lines dropped: standard output was not read fast enough (its reader fell behind by the whole log buffer); the process served on');
      } finally {
        this.summarizing = false;
      }
      // Still full: the summary itself did not fit; it is tried again (and not counted).
      if (this.summaryDropped) return;
      this.reported = this.dropped;
    }
    clearInterval(this.summaryTimer);
    this.summaryTimer = undefined;
  }
}

let shared: LogOutput | undefined;

/** The process's one standard-output log writer, flushed at exit (the first call's bound holds). */
export function stdoutLog(bufferBytes?: number): LogOutput {
  if (!shared) {
    // Setting up process.stdout makes a pipe's fd 1 non-blocking (Node does so for pipes):
    // a stuck reader then fails writes with EAGAIN, retried on a timer, instead of holding
    // a thread-pool thread, and the exit flush, for as long as it is stuck.
    void process.stdout;
    const out = new LogOutput({ ...(bufferBytes !== undefined ? { bufferBytes } : {}) });
    process.once('exit', () => out.flushSync());
    shared = out;
  }
  return shared;
}

/** `el_log_lines_dropped_total` in `registry`, read from `out`. */
export function registerLogMetrics(registry: Registry, out: LogOutput): void {
  new Counter({
    name: 'el_log_lines_dropped_total',
    help: 'Log lines dropped because standard output was not read fast enough (the queue of log.buffer bytes was full)',
    registers: [registry],
    collect() {
      setAll(this, [[{}, out.dropped]]);
    },
  });
}
