/**
 * How close the process is to its file-descriptor limit, cheaply: the limit is read once
 * (from /proc/self/limits, or given), the descriptors that are not connections are
 * counted by listing /proc/self/fd at most once per `sampleMs` (once per FAR_SAMPLE_MS
 * while fewer than half of the limit are in use: listing 10,000 descriptors takes ~7 ms of
 * CPU, and far from the limit a slightly older count changes nothing), and the connections
 * the listeners accepted since are counted as they open and close. Listeners shed new
 * connections while fewer than `reserve` descriptors are left, so a flood of idle
 * connections leaves room for the snapshot file, the store and the sessions we have.
 */
import { readdirSync, readFileSync } from 'node:fs';

export const DEFAULT_FD_RESERVE = 64;
/** How often /proc/self/fd is listed while under half of the limit is in use. */
export const FAR_SAMPLE_MS = 30_000;

export interface FdBudgetOptions {
  /** Descriptors to keep free; new connections are shed below it. */
  reserve?: number;
  /** The limit; default: the soft "Max open files" of /proc/self/limits. */
  limit?: number;
  /** Re-count /proc/self/fd at most this often. Default 1000. */
  sampleMs?: number;
  now?: () => number;
  /** Descriptors open now (default: the entries of /proc/self/fd, less the listing's own). */
  countFds?: () => number;
}

/** The soft limit on open files of this process, or undefined where /proc is missing. */
export function readFdLimit(): number | undefined {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
    const n = Number(soft);
    return Number.isFinite(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

export class FdBudget {
  readonly limit: number | undefined;
  readonly reserve: number;
  private readonly sampleMs: number;
  private readonly now: () => number;
  private readonly countFds: () => number;
  /** Connections open now, as the listeners counted them. */
  private connections = 0;
  /** Descriptors that were not connections at the last sample. */
  private others = 0;
  private sampledAt = -Infinity;

  constructor(opts: FdBudgetOptions = {}) {
    this.limit = opts.limit ?? readFdLimit();
    this.reserve = opts.reserve ?? DEFAULT_FD_RESERVE;
    this.sampleMs = opts.sampleMs ?? 1000;
    this.now = opts.now ?? Date.now;
    // readdir needs a descriptor itself.
    this.countFds = opts.countFds ?? (() => readdirSync('/proc/self/fd').length - 1);
  }

  opened(): void {
    this.connections++;
  }

  closed(): void {
    if (this.connections > 0) this.connections--;
  }

  /** Estimated descriptors in use. */
  get inUse(): number {
    this.sample();
    return this.others + this.connections;
  }

  /** True while fewer than `reserve` descriptors are left. */
  get low(): boolean {
    if (this.limit === undefined) return false;
    return this.inUse >= this.limit - this.reserve;
  }

  private sample(): void {
    const now = this.now();
    const age = now - this.sampledAt;
    if (age < this.sampleMs) return;
    if (age < FAR_SAMPLE_MS && this.limit !== undefined && 2 * (this.others + this.connections) < this.limit) return;
    this.sampledAt = now;
    try {
      this.others = Math.max(0, this.countFds() - this.connections);
    } catch {
      /* no descriptor left for the listing: the last estimate stands */
    }
  }
}
