/**
 * An L2 segment's MAC table: 48-bit MACs as numbers → the port they were last
 * heard on.
 *
 * - Bounded: at `capacity` learned entries the least recently used one gives way
 *   (counted in `evictions`); a full table is never an error.
 * - LRU for free: a Map iterates in insertion order, and an entry is re-inserted
 *   when refreshed, so the first key is the least recently seen. Re-inserting on
 *   every frame would cost two hash operations per frame, so it happens at most
 *   once per `refreshMs` per MAC (1 s): LRU with one-second granularity.
 * - Aging: an entry not heard from for `agingMs` is dropped on lookup and by
 *   `sweep()`, which walks from the oldest end and stops at the first fresh entry.
 * - Per-port limit: the caller passes the limit on each learn (segment policy);
 *   the table keeps each port's learned MACs in a Set so the count and
 *   forgetPort() cost O(that port's MACs), not O(table).
 * - Pins: a session's own MAC is pinned to its port. Pins are kept apart from the
 *   learned entries (never aged or evicted while the session lives, bounded by the
 *   number of sessions); another port cannot take a pinned MAC (`mac_conflict`).
 *
 * No method throws or allocates on the refresh/lookup path.
 */
import type { DropReason } from '../drops.js';
import type { Port } from '../port.js';

export interface MacEntry {
  port: Port;
  /** Last refresh, in `now()` milliseconds (coarse: see refreshMs). */
  seen: number;
}

export interface MacTableOptions {
  /** Learned entries at most (segment.macTableSize). */
  capacity: number;
  /** segment.macAgingSeconds × 1000. */
  agingMs: number;
  /** Clock in milliseconds; injectable for tests. Default Date.now. */
  now?: () => number;
  /** Minimum time between LRU refreshes of one entry. Default 1000. */
  refreshMs?: number;
}

export class MacTable {
  readonly capacity: number;
  /** Changes live with a segment's macAgingSeconds (a config reload). */
  agingMs: number;
  readonly now: () => number;
  private readonly refreshMs: number;
  private readonly entries = new Map<number, MacEntry>();
  private readonly byPort = new Map<Port, Set<number>>();
  private readonly pins = new Map<number, Port>();
  private readonly pinsByPort = new Map<Port, Set<number>>();
  /** Entries removed to make room for a new one. */
  evictions = 0;
  /** Entries that moved from one port to another. */
  moves = 0;
  /** Entries forgotten because they were not heard from for agingMs. */
  aged = 0;

  constructor(opts: MacTableOptions) {
    if (!(opts.capacity >= 1)) throw new RangeError(`MAC table capacity must be at least 1, got ${opts.capacity}`);
    this.capacity = opts.capacity;
    this.agingMs = opts.agingMs;
    this.now = opts.now ?? Date.now;
    this.refreshMs = opts.refreshMs ?? 1000;
  }

  /** Learned entries (pins not included). */
  get size(): number {
    return this.entries.size;
  }

  get pinned(): number {
    return this.pins.size;
  }

  /** Learned MACs of `port` (pins not included). */
  countOf(port: Port): number {
    return this.byPort.get(port)?.size ?? 0;
  }

  /** The port `mac` lives on, or undefined (unknown or aged out). */
  lookup(mac: number, now = this.now()): Port | undefined {
    const pinned = this.pins.get(mac);
    if (pinned !== undefined) return pinned;
    const e = this.entries.get(mac);
    if (e === undefined) return undefined;
    if (now - e.seen > this.agingMs) {
      this.remove(mac, e);
      this.aged++;
      return undefined;
    }
    return e.port;
  }

  /**
   * Records that `mac` was heard on `port`. Returns undefined when accepted, or the
   * drop reason: `mac_conflict` (pinned to another port) or `mac_limit` (the port
   * already has `limit` learned MACs).
   */
  learn(mac: number, port: Port, limit = Infinity, now = this.now()): DropReason | undefined {
    const pinned = this.pins.get(mac);
    if (pinned !== undefined) return pinned === port ? undefined : 'mac_conflict';
    const e = this.entries.get(mac);
    if (e !== undefined) {
      if (e.port === port) {
        if (now - e.seen >= this.refreshMs) this.touch(mac, e, now);
        return undefined;
      }
      if (this.countOf(port) >= limit) return 'mac_limit';
      this.byPort.get(e.port)?.delete(mac);
      e.port = port;
      this.portSet(port).add(mac);
      this.touch(mac, e, now);
      this.moves++;
      return undefined;
    }
    if (this.countOf(port) >= limit) return 'mac_limit';
    if (this.entries.size >= this.capacity) this.evictOldest(now);
    this.entries.set(mac, { port, seen: now });
    this.portSet(port).add(mac);
    return undefined;
  }

  /**
   * Pins `mac` to `port`: it then always resolves to `port` and no other port may
   * source it. Returns the port already holding the pin (the caller decides whether
   * to supersede it), or undefined on success. A learned entry for `mac` is taken over.
   */
  pin(mac: number, port: Port): Port | undefined {
    const holder = this.pins.get(mac);
    if (holder !== undefined && holder !== port) return holder;
    const e = this.entries.get(mac);
    if (e !== undefined) this.remove(mac, e);
    this.pins.set(mac, port);
    let set = this.pinsByPort.get(port);
    if (!set) this.pinsByPort.set(port, (set = new Set()));
    set.add(mac);
    return undefined;
  }

  pinHolder(mac: number): Port | undefined {
    return this.pins.get(mac);
  }

  unpin(mac: number, port: Port): void {
    if (this.pins.get(mac) !== port) return;
    this.pins.delete(mac);
    this.pinsByPort.get(port)?.delete(mac);
  }

  /** Forgets every MAC learned on or pinned to `port` (the port went away). */
  forgetPort(port: Port): void {
    const learned = this.byPort.get(port);
    if (learned) {
      for (const mac of learned) this.entries.delete(mac);
      this.byPort.delete(port);
    }
    const pinned = this.pinsByPort.get(port);
    if (pinned) {
      for (const mac of pinned) this.pins.delete(mac);
      this.pinsByPort.delete(port);
    }
  }

  /** Drops entries older than agingMs; returns how many. Cost: O(expired). */
  sweep(now = this.now()): number {
    let n = 0;
    for (const [mac, e] of this.entries) {
      if (now - e.seen <= this.agingMs) break; // insertion order is refresh order
      this.remove(mac, e);
      n++;
    }
    this.aged += n;
    return n;
  }

  private touch(mac: number, e: MacEntry, now: number): void {
    e.seen = now;
    this.entries.delete(mac);
    this.entries.set(mac, e);
  }

  private evictOldest(now: number): void {
    for (const [mac, e] of this.entries) {
      this.remove(mac, e);
      if (now - e.seen > this.agingMs) this.aged++;
      else this.evictions++;
      return;
    }
  }

  private remove(mac: number, e: MacEntry): void {
    this.entries.delete(mac);
    const set = this.byPort.get(e.port);
    if (set) {
      set.delete(mac);
      if (set.size === 0) this.byPort.delete(e.port);
    }
  }

  private portSet(port: Port): Set<number> {
    let set = this.byPort.get(port);
    if (!set) this.byPort.set(port, (set = new Set()));
    return set;
  }
}
