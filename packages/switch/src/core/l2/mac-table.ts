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
 * - Remote entries (trunks): MACs a peer node announced, kept apart from the local ones
 *   (no aging: they live until withdrawn or their trunk goes), below them in lookup, and
 *   taken over by a local learn or pin (a local endpoint wins). `local` hears of local
 *   MACs appearing (new learned entry or pin) and going (so the segment announces them).
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

export interface RemoteMac {
  port: Port;
  /** The sequence number the peer announced it with. */
  seq: number;
}

/** Local MACs appearing and going (L2Segment → trunks). */
export interface LocalMacEvents {
  /** `mac` is local now (learned or pinned); `displaced`: the remote entry it took over. */
  added(mac: number, port: Port, displaced: RemoteMac | undefined): void;
  removed(mac: number, port: Port): void;
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
  private readonly remote = new Map<number, RemoteMac>();
  private readonly remoteByPort = new Map<Port, Set<number>>();
  /** Set by the segment when trunks listen; undefined costs nothing. */
  local: LocalMacEvents | undefined;
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
    if (e === undefined) return this.remote.get(mac)?.port;
    if (now - e.seen > this.agingMs) {
      this.remove(mac, e);
      this.aged++;
      return this.remote.get(mac)?.port;
    }
    return e.port;
  }

  /** The learned (not pinned, not remote) entry of `mac`, fresh or not. */
  learned(mac: number): MacEntry | undefined {
    return this.entries.get(mac);
  }

  /** The remote entry of `mac`, if a peer announced it. */
  remoteOf(mac: number): RemoteMac | undefined {
    return this.remote.get(mac);
  }

  /** Remote entries in all, or of one trunk port. */
  remoteCount(port?: Port): number {
    return port === undefined ? this.remote.size : (this.remoteByPort.get(port)?.size ?? 0);
  }

  /** The MACs `port` announced and has installed. */
  remoteMacs(port: Port): number[] {
    const set = this.remoteByPort.get(port);
    return set === undefined ? [] : [...set];
  }

  /** Installs (or moves, or refreshes) a remote entry; the caller has checked that no local one exists. */
  setRemote(mac: number, port: Port, seq: number): void {
    const r = this.remote.get(mac);
    if (r !== undefined) {
      if (r.port !== port) {
        this.remoteByPort.get(r.port)?.delete(mac);
        r.port = port;
        this.remoteSet(port).add(mac);
      }
      r.seq = seq;
      return;
    }
    this.remote.set(mac, { port, seq });
    this.remoteSet(port).add(mac);
  }

  /** Removes the remote entry of `mac` if `port` holds it (undefined: whoever does). */
  removeRemote(mac: number, port?: Port): boolean {
    const r = this.remote.get(mac);
    if (r === undefined || (port !== undefined && r.port !== port)) return false;
    this.remote.delete(mac);
    const set = this.remoteByPort.get(r.port);
    if (set) {
      set.delete(mac);
      if (set.size === 0) this.remoteByPort.delete(r.port);
    }
    return true;
  }

  /** Every entry with its port: pinned, learned, then those peers announced (the console's MAC table view). */
  *allEntries(): IterableIterator<[number, Port]> {
    for (const [mac, port] of this.pins) yield [mac, port];
    for (const [mac, e] of this.entries) yield [mac, e.port];
    for (const [mac, r] of this.remote) yield [mac, r.port];
  }

  /** Every local MAC (learned and pinned), for a full table sync. */
  *localMacs(): IterableIterator<number> {
    yield* this.pins.keys();
    yield* this.entries.keys();
  }

  private remoteSet(port: Port): Set<number> {
    let set = this.remoteByPort.get(port);
    if (!set) this.remoteByPort.set(port, (set = new Set()));
    return set;
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
    if (this.local !== undefined) this.localAdded(mac, port);
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
    const wasLocal = e !== undefined || holder !== undefined;
    if (e !== undefined) this.remove(mac, e, false);
    this.pins.set(mac, port);
    let set = this.pinsByPort.get(port);
    if (!set) this.pinsByPort.set(port, (set = new Set()));
    set.add(mac);
    if (!wasLocal && this.local !== undefined) this.localAdded(mac, port);
    return undefined;
  }

  pinHolder(mac: number): Port | undefined {
    return this.pins.get(mac);
  }

  unpin(mac: number, port: Port): void {
    if (this.pins.get(mac) !== port) return;
    this.pins.delete(mac);
    this.pinsByPort.get(port)?.delete(mac);
    this.local?.removed(mac, port);
  }

  /** A MAC became local: it takes over a remote entry (a local endpoint wins). */
  private localAdded(mac: number, port: Port): void {
    const r = this.remote.get(mac);
    if (r !== undefined) this.removeRemote(mac);
    this.local!.added(mac, port, r);
  }

  /** Forgets every MAC learned on or pinned to `port` (the port went away). */
  forgetPort(port: Port): void {
    const learned = this.byPort.get(port);
    const local = this.local;
    if (learned) {
      for (const mac of learned) {
        this.entries.delete(mac);
        local?.removed(mac, port);
      }
      this.byPort.delete(port);
    }
    const pinned = this.pinsByPort.get(port);
    if (pinned) {
      for (const mac of pinned) {
        this.pins.delete(mac);
        local?.removed(mac, port);
      }
      this.pinsByPort.delete(port);
    }
    const remote = this.remoteByPort.get(port);
    if (remote) {
      for (const mac of remote) this.remote.delete(mac);
      this.remoteByPort.delete(port);
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

  /** Forgets a learned entry; `gone` false when the MAC stays local (a pin takes it over). */
  remove(mac: number, e: MacEntry, gone = true): void {
    this.entries.delete(mac);
    const set = this.byPort.get(e.port);
    if (set) {
      set.delete(mac);
      if (set.size === 0) this.byPort.delete(e.port);
    }
    if (gone) this.local?.removed(mac, e.port);
  }

  private portSet(port: Port): Set<number> {
    let set = this.byPort.get(port);
    if (!set) this.byPort.set(port, (set = new Set()));
    return set;
  }
}
