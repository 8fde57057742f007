/**
 * The store of a single broker process (the embedded default). State lives in Maps;
 * with `snapshotFile` it is also written to disk (atomically: temp file + rename, at
 * most once per `snapshotDelayMs` after a change, and on close) and read back at
 * start, so a single-node install keeps its leases and users across restarts.
 * A snapshot that cannot be written (disk full, out of file descriptors) never throws
 * from the timer: it is reported to `onSnapshotError`, counted, and retried with
 * exponential backoff up to `MAX_SNAPSHOT_BACKOFF_MS`; the state stays in memory.
 * Challenges, rate-limit counters and node heartbeats are short-lived and not saved.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ElError, MAX_REVOCATIONS, type NodeReport, type Revocation } from '@elink/protocol';
import { LEASE_FAMILIES, type LeaseEntry, type LeaseFamily, type LeaseRecord, type OwnerCap } from '../lease-store.js';
import { MAX_COUNTERS, MAX_DEVICE_KEYS_PER_USER, MAX_LISTS, MAX_NODES, MAX_TRUNK_DOWNS, MAX_USERS, TRUNK_DOWNS_SWEEP_MS, type BrokerStore, type TrunkDownRecord, type DeviceKeyRecord, type CounterLimit, type FailureCount, type NodeRecord, type Reservation, type StoredUser } from './store.js';

/** Challenges are bounded; the oldest gives way (the broker also caps how many it issues). */
export const MAX_CHALLENGES = 100_000;
/** The longest wait between two attempts to write a failing snapshot. */
export const MAX_SNAPSHOT_BACKOFF_MS = 60_000;

interface Lease {
  record: LeaseRecord;
  expiresAt: number;
}

interface SegmentLeases {
  byKey: Map<string, Lease>;
  /** `${family} ${address}` → key */
  byAddress: Map<string, string>;
}

interface Snapshot {
  version: 1;
  leases: Record<string, Array<{ key: string; expiresAt: number } & LeaseRecord>>;
  users: StoredUser[];
  /** Device keys by user and device, and live revocations: a restart must not revive a revoked key. */
  deviceKeys?: Record<string, Record<string, DeviceKeyRecord>>;
  revocations?: Revocation[];
  /** Bounded lists (the audit log, commands waiting for nodes) with their end (ms since the epoch). */
  lists?: Record<string, { values: string[]; until: number }>;
}

export interface MemoryStoreOptions {
  /** Where to keep a snapshot (a JSON file in the state directory); absent = memory only. */
  snapshotFile?: string;
  /** Default 1000. */
  snapshotDelayMs?: number;
  /** Milliseconds since the epoch; a parameter so tests need no fake clock. */
  now?: () => number;
  /** Live rate-limit counters at most. Default MAX_COUNTERS. */
  maxCounters?: number;
  /** Live trunk-loss entries at most. Default MAX_TRUNK_DOWNS. */
  maxTrunkDowns?: number;
  /** A timed snapshot failed; it is retried after `retryInMs` (logged and counted by the caller). */
  onSnapshotError?: (err: Error, retryInMs: number) => void;
}

export class MemoryStore implements BrokerStore {
  readonly kind = 'memory' as const;
  readonly #segments = new Map<string, SegmentLeases>();
  readonly #challenges = new Map<string, number>();
  /** Insertion order is (nearly) expiry order: the oldest are found at the front. */
  readonly #counters = new Map<string, { count: number; pending: number; until: number }>();
  readonly #maxCounters: number;
  readonly #maxTrunkDowns: number;
  readonly #nodes = new Map<string, { record: NodeRecord; until: number }>();
  /** Trunk-down reports by JSON [node, reporter]. Put and clear await nothing: each call is one step (what the Redis store's scripts do). */
  readonly #downs = new Map<string, TrunkDownRecord & { until: number }>();
  /** When the full trunk-loss table was last scanned for ended entries. */
  #downsSweptAt = -Infinity;
  readonly #users = new Map<string, StoredUser>();
  readonly #reports = new Map<string, { at: number; report: NodeReport; until: number }>();
  readonly #lists = new Map<string, { values: string[]; until: number }>();
  readonly #deviceKeys = new Map<string, Map<string, DeviceKeyRecord>>();
  #revocations: Revocation[] = [];
  readonly #now: () => number;
  readonly #file: string | undefined;
  readonly #delay: number;
  #timer: NodeJS.Timeout | undefined;
  readonly #onSnapshotError: ((err: Error, retryInMs: number) => void) | undefined;
  /** Consecutive failed timed snapshots (0 after a success): the backoff exponent. */
  #failedInARow = 0;
  /** Snapshots written, and timed snapshots that failed (metrics). */
  snapshotsSaved = 0;
  snapshotFailures = 0;

  constructor(opts: MemoryStoreOptions = {}) {
    this.#now = opts.now ?? Date.now;
    this.#file = opts.snapshotFile;
    this.#delay = opts.snapshotDelayMs ?? 1000;
    this.#maxCounters = opts.maxCounters ?? MAX_COUNTERS;
    this.#maxTrunkDowns = opts.maxTrunkDowns ?? MAX_TRUNK_DOWNS;
    this.#onSnapshotError = opts.onSnapshotError;
    if (this.#file && existsSync(this.#file)) this.#load(this.#file);
  }

  // ---- leases ----

  #segment(name: string): SegmentLeases {
    let s = this.#segments.get(name);
    if (!s) {
      s = { byKey: new Map(), byAddress: new Map() };
      this.#segments.set(name, s);
    }
    return s;
  }

  #drop(s: SegmentLeases, key: string): void {
    const lease = s.byKey.get(key);
    if (!lease) return;
    for (const f of LEASE_FAMILIES) if (lease.record[f] !== undefined) s.byAddress.delete(`${f} ${lease.record[f]}`);
    s.byKey.delete(key);
  }

  async get(segment: string, key: string): Promise<LeaseRecord | undefined> {
    const lease = this.#segments.get(segment)?.byKey.get(key);
    return lease && lease.expiresAt > this.#now() ? { ...lease.record } : undefined;
  }

  async claim(segment: string, key: string, family: LeaseFamily, address: string, ttlSeconds: number, force = false): Promise<string | undefined> {
    return this.#claim(segment, key, family, address, ttlSeconds, force);
  }

  async claimCapped(segment: string, key: string, family: LeaseFamily, address: string, ttlSeconds: number, owner: OwnerCap): Promise<string | undefined> {
    const now = this.#now();
    const s = this.#segment(segment);
    const own = s.byKey.get(key);
    if (!own || own.expiresAt <= now) {
      let n = 0;
      for (const [k, l] of s.byKey) if (l.expiresAt > now && k.startsWith(owner.prefix)) n++;
      if (n >= owner.max) throw deviceLimit(segment, owner.max);
    }
    return this.#claim(segment, key, family, address, ttlSeconds, false);
  }

  // Synchronous, so check and claim cannot interleave with another call.
  #claim(segment: string, key: string, family: LeaseFamily, address: string, ttlSeconds: number, force: boolean): string | undefined {
    const s = this.#segment(segment);
    const now = this.#now();
    let lease = s.byKey.get(key);
    if (lease && lease.expiresAt <= now) {
      this.#drop(s, key);
      lease = undefined;
    }
    const held = lease?.record[family];
    if (held !== undefined && (held === address || !force)) {
      lease!.expiresAt = now + ttlSeconds * 1000;
      this.#changed();
      return held;
    }
    const slot = `${family} ${address}`;
    const owner = s.byAddress.get(slot);
    if (owner !== undefined && owner !== key) {
      const other = s.byKey.get(owner);
      if (other && other.expiresAt > now && !force) return undefined;
      if (other && other.expiresAt <= now) this.#drop(s, owner);
      else if (other) delete other.record[family];
    }
    if (held !== undefined) s.byAddress.delete(`${family} ${held}`);
    s.byAddress.set(slot, key);
    if (!lease) {
      lease = { record: {}, expiresAt: 0 };
      s.byKey.set(key, lease);
    }
    lease.record[family] = address;
    lease.expiresAt = now + ttlSeconds * 1000;
    this.#changed();
    return address;
  }

  async touch(segment: string, key: string, ttlSeconds: number): Promise<void> {
    const lease = this.#segments.get(segment)?.byKey.get(key);
    if (lease && lease.expiresAt > this.#now()) {
      lease.expiresAt = this.#now() + ttlSeconds * 1000;
      this.#changed();
    }
  }

  async release(segment: string, key: string): Promise<boolean> {
    const s = this.#segments.get(segment);
    if (!s?.byKey.has(key)) return false;
    this.#drop(s, key);
    this.#changed();
    return true;
  }

  async list(segment: string, limit: number): Promise<LeaseEntry[]> {
    const now = this.#now();
    const out: LeaseEntry[] = [];
    for (const [key, l] of this.#segments.get(segment)?.byKey ?? []) if (l.expiresAt > now) out.push({ key, expiresAt: l.expiresAt, ...l.record });
    return out.sort((a, b) => a.expiresAt - b.expiresAt).slice(0, limit);
  }

  async count(segment: string): Promise<number> {
    const now = this.#now();
    let n = 0;
    for (const l of this.#segments.get(segment)?.byKey.values() ?? []) if (l.expiresAt > now) n++;
    return n;
  }

  // ---- challenges ----

  async putChallenge(id: string, ttlSeconds: number): Promise<void> {
    const now = this.#now();
    if (this.#challenges.size >= MAX_CHALLENGES) {
      for (const [k, until] of this.#challenges) if (until <= now) this.#challenges.delete(k);
      // Still full of live ones: the oldest gives way (it is the nearest to expiry anyway).
      if (this.#challenges.size >= MAX_CHALLENGES) this.#challenges.delete(this.#challenges.keys().next().value!);
    }
    this.#challenges.set(id, now + ttlSeconds * 1000);
  }

  async takeChallenge(id: string): Promise<boolean> {
    const until = this.#challenges.get(id);
    this.#challenges.delete(id);
    return until !== undefined && until > this.#now();
  }

  // ---- rate-limit counters ----

  #live(key: string, now: number): { count: number; pending: number; until: number } | undefined {
    const c = this.#counters.get(key);
    if (c && c.until <= now) {
      this.#counters.delete(key);
      return undefined;
    }
    return c;
  }

  async reserve(counters: readonly CounterLimit[]): Promise<Reservation> {
    const now = this.#now();
    const found = counters.map((c) => this.#live(c.key, now));
    for (let i = 0; i < counters.length; i++) {
      const c = found[i];
      if (c && c.count >= counters[i]!.limit) return { ok: false, index: i, retryAfter: c.count - c.pending >= counters[i]!.limit ? Math.ceil((c.until - now) / 1000) : 1 };
    }
    const fresh = found.filter((c) => !c).length;
    if (fresh > 0 && this.#counters.size + fresh > this.#maxCounters) {
      // Drop expired ones from the front (oldest first); still full: refuse new counters.
      for (const [k, v] of this.#counters) {
        if (v.until > now) break;
        this.#counters.delete(k);
      }
      if (this.#counters.size + fresh > this.#maxCounters) {
        const oldest = this.#counters.values().next().value;
        return { ok: false, index: -1, retryAfter: Math.max(1, Math.ceil(((oldest?.until ?? now) - now) / 1000)) };
      }
    }
    counters.forEach((c, i) => {
      const f = found[i];
      if (f) {
        f.count++;
        f.pending++;
      } else this.#counters.set(c.key, { count: 1, pending: 1, until: now + c.windowSeconds * 1000 });
    });
    return { ok: true };
  }

  async settle(keys: readonly string[], giveBack: boolean): Promise<void> {
    const now = this.#now();
    for (const key of keys) {
      const c = this.#live(key, now);
      if (!c || c.pending <= 0) continue;
      c.pending--;
      if (giveBack && --c.count <= 0) this.#counters.delete(key);
    }
  }

  async counter(key: string): Promise<FailureCount> {
    const now = this.#now();
    const c = this.#live(key, now);
    return c ? { count: c.count, retryAfter: Math.ceil((c.until - now) / 1000) } : { count: 0, retryAfter: 0 };
  }

  async clearCounter(key: string): Promise<void> {
    this.#counters.delete(key);
  }

  // ---- nodes ----

  async putNode(record: NodeRecord, retainSeconds: number): Promise<void> {
    const now = this.#now();
    if (!this.#nodes.has(record.node) && this.#nodes.size >= MAX_NODES) {
      for (const [k, v] of this.#nodes) if (v.until <= now) this.#nodes.delete(k);
      if (this.#nodes.size >= MAX_NODES) throw new ElError('EL_ERR_UNAVAILABLE', `the node registry is full (${MAX_NODES} nodes)`);
    }
    this.#nodes.set(record.node, { record: structuredClone(record), until: now + retainSeconds * 1000 });
  }

  async listNodes(): Promise<NodeRecord[]> {
    const now = this.#now();
    const out: NodeRecord[] = [];
    for (const [k, v] of this.#nodes) {
      if (v.until <= now) this.#nodes.delete(k);
      else out.push(structuredClone(v.record));
    }
    return out;
  }

  async deleteNode(node: string): Promise<boolean> {
    return this.#nodes.delete(node);
  }

  async putTrunkDowns(reporter: string, downs: readonly { node: string; since: number }[], ttlSeconds: number): Promise<TrunkDownRecord[]> {
    const now = this.#now();
    const made: TrunkDownRecord[] = [];
    for (const { node, since } of downs) {
      const key = JSON.stringify([node, reporter]);
      const had = this.#downs.get(key);
      if (had && had.until > now && had.since === since) continue;
      if (!had && this.#downs.size >= this.#maxTrunkDowns) {
        if (now - this.#downsSweptAt >= TRUNK_DOWNS_SWEEP_MS) {
          this.#downsSweptAt = now;
          for (const [k, v] of this.#downs) if (v.until <= now) this.#downs.delete(k);
        }
        if (this.#downs.size >= this.#maxTrunkDowns) continue;
      }
      const entry = { node, reporter, since, at: now };
      this.#downs.set(key, { ...entry, until: now + ttlSeconds * 1000 });
      made.push(entry);
    }
    return made;
  }

  async listTrunkDowns(): Promise<TrunkDownRecord[]> {
    const now = this.#now();
    const out: TrunkDownRecord[] = [];
    for (const [k, v] of this.#downs) {
      if (v.until <= now) this.#downs.delete(k);
      else out.push({ node: v.node, reporter: v.reporter, since: v.since, at: v.at });
    }
    return out;
  }

  async clearTrunkDowns(reporter: string, ups: readonly { node: string; since: number }[]): Promise<TrunkDownRecord[]> {
    const now = this.#now();
    const cleared: TrunkDownRecord[] = [];
    for (const { node, since } of ups) {
      const key = JSON.stringify([node, reporter]);
      const had = this.#downs.get(key);
      if (!had || had.since >= since) continue;
      this.#downs.delete(key);
      if (had.until > now) cleared.push({ node, reporter, since: had.since, at: had.at });
    }
    return cleared;
  }

  // ---- console reports and lists ----

  async putNodeReport(node: string, report: NodeReport, retainSeconds: number): Promise<void> {
    const now = this.#now();
    if (!this.#reports.has(node) && this.#reports.size >= MAX_NODES) {
      for (const [k, v] of this.#reports) if (v.until <= now) this.#reports.delete(k);
      if (this.#reports.size >= MAX_NODES) throw new ElError('EL_ERR_UNAVAILABLE', `the node report table is full (${MAX_NODES} nodes)`);
    }
    this.#reports.set(node, { at: now, report, until: now + retainSeconds * 1000 });
  }

  async listNodeReports(): Promise<Array<{ node: string; at: number; report: NodeReport }>> {
    const now = this.#now();
    const out: Array<{ node: string; at: number; report: NodeReport }> = [];
    for (const [node, v] of this.#reports) {
      if (v.until <= now) this.#reports.delete(node);
      else out.push({ node, at: v.at, report: v.report });
    }
    return out;
  }

  #liveList(name: string): string[] | undefined {
    const l = this.#lists.get(name);
    if (l && l.until <= this.#now()) this.#lists.delete(name);
    return l && l.until > this.#now() ? l.values : undefined;
  }

  async pushList(name: string, value: string, maxLength: number, ttlSeconds: number): Promise<void> {
    const now = this.#now();
    let l = this.#lists.get(name);
    if (!l || l.until <= now) {
      if (this.#lists.size >= MAX_LISTS) for (const [k, v] of this.#lists) if (v.until <= now) this.#lists.delete(k);
      if (this.#lists.size >= MAX_LISTS && !this.#lists.has(name)) throw new ElError('EL_ERR_UNAVAILABLE', `too many lists (${MAX_LISTS})`);
      l = { values: [], until: 0 };
      this.#lists.set(name, l);
    }
    l.values.unshift(value);
    if (l.values.length > maxLength) l.values.length = maxLength;
    l.until = now + ttlSeconds * 1000;
    this.#changed();
  }

  async readList(name: string, limit: number): Promise<string[]> {
    return (this.#liveList(name) ?? []).slice(0, limit);
  }

  async takeList(name: string, limit: number): Promise<string[]> {
    const values = this.#liveList(name);
    if (!values || values.length === 0) return [];
    const taken = values.splice(Math.max(0, values.length - limit));
    if (values.length === 0) this.#lists.delete(name);
    this.#changed();
    return taken.reverse();
  }

  // ---- device keys and revocations ----

  async putDeviceKey(user: string, device: string, key: string, ttlSeconds: number): Promise<void> {
    const now = this.#now();
    let keys = this.#deviceKeys.get(user);
    if (!keys) {
      if (this.#deviceKeys.size >= MAX_USERS) throw new ElError('EL_ERR_UNAVAILABLE', `the device key table is full (${MAX_USERS} users)`);
      keys = new Map();
      this.#deviceKeys.set(user, keys);
    }
    if (!keys.has(device)) {
      for (const [d, r] of keys) if (r.until <= now) keys.delete(d);
      if (keys.size >= MAX_DEVICE_KEYS_PER_USER) keys.delete(nearestEnd(keys));
    }
    keys.set(device, { key, until: now + ttlSeconds * 1000 });
    this.#changed();
  }

  async getDeviceKey(user: string, device: string): Promise<string | undefined> {
    const r = this.#deviceKeys.get(user)?.get(device);
    return r && r.until > this.#now() ? r.key : undefined;
  }

  async revoke(r: Revocation): Promise<number> {
    // No await between the check and the push: calls at once see each other's.
    const live = this.#liveRevocations();
    if (live.length >= MAX_REVOCATIONS) throw new ElError('EL_ERR_UNAVAILABLE', `${MAX_REVOCATIONS} revocations are live; try again when the oldest ends (${new Date(Math.min(...live.map((x) => x.until)) * 1000).toISOString()})`);
    let forgotten = 0;
    const keys = this.#deviceKeys.get(r.user);
    if (keys && r.device === undefined) {
      forgotten = keys.size;
      this.#deviceKeys.delete(r.user);
    } else if (keys && r.device !== undefined && keys.delete(r.device)) forgotten = 1;
    this.#revocations.push({ ...r });
    this.#changed();
    return forgotten;
  }

  async listRevocations(): Promise<Revocation[]> {
    return this.#liveRevocations().map((r) => ({ ...r }));
  }

  #liveRevocations(): Revocation[] {
    const nowSeconds = this.#now() / 1000;
    this.#revocations = this.#revocations.filter((r) => r.until > nowSeconds);
    return this.#revocations;
  }

  // ---- users ----

  async getUser(name: string): Promise<StoredUser | undefined> {
    const u = this.#users.get(name);
    return u && structuredClone(u);
  }

  async putUser(user: StoredUser): Promise<void> {
    if (!this.#users.has(user.name) && this.#users.size >= MAX_USERS) throw new ElError('EL_ERR_UNAVAILABLE', `the user table is full (${MAX_USERS})`);
    this.#users.set(user.name, structuredClone(user));
    this.#changed();
  }

  async deleteUser(name: string): Promise<boolean> {
    const had = this.#users.delete(name);
    if (had) this.#changed();
    return had;
  }

  async listUsers(): Promise<StoredUser[]> {
    return [...this.#users.values()].map((u) => structuredClone(u)).sort((a, b) => a.name.localeCompare(b.name));
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    this.saveNow();
  }

  // ---- snapshot ----

  #changed(): void {
    if (!this.#file || this.#timer) return;
    this.#schedule(this.#delay);
  }

  #schedule(ms: number): void {
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      try {
        this.saveNow();
        this.#failedInARow = 0;
      } catch (e) {
        // Out of fds or disk: keep serving from memory and try again later, less often.
        this.snapshotFailures++;
        this.#failedInARow++;
        const retry = Math.min(MAX_SNAPSHOT_BACKOFF_MS, this.#delay * 2 ** Math.min(this.#failedInARow, 16));
        this.#schedule(retry);
        try {
          this.#onSnapshotError?.(e instanceof Error ? e : new Error(String(e)), retry);
        } catch {
          /* a failing reporter must not end the process either */
        }
      }
    }, ms);
    this.#timer.unref();
  }

  /** Writes the snapshot now (no-op without a snapshot file). */
  saveNow(): void {
    if (!this.#file) return;
    const now = this.#now();
    const snap: Snapshot = { version: 1, leases: {}, users: [...this.#users.values()], revocations: this.#revocations.filter((r) => r.until > now / 1000), deviceKeys: {} };
    for (const [user, keys] of this.#deviceKeys) {
      const live = [...keys].filter(([, r]) => r.until > now);
      if (live.length) snap.deviceKeys![user] = Object.fromEntries(live);
    }
    snap.lists = {};
    for (const [name, l] of this.#lists) if (l.until > now) snap.lists[name] = l;
    for (const [name, s] of this.#segments) {
      const list = [...s.byKey].filter(([, l]) => l.expiresAt > now).map(([key, l]) => ({ key, expiresAt: l.expiresAt, ...l.record }));
      if (list.length) snap.leases[name] = list;
    }
    mkdirSync(dirname(this.#file), { recursive: true });
    const tmp = `${this.#file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(snap), { mode: 0o600 });
    renameSync(tmp, this.#file);
    this.snapshotsSaved++;
  }

  #load(file: string): void {
    let snap: Snapshot;
    try {
      snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
    } catch (err) {
      throw new ElError('EL_ERR_CONFIG', `cannot read the store snapshot ${file}: ${(err as Error).message}; move it away to start empty`, { cause: err });
    }
    if (snap?.version !== 1) throw new ElError('EL_ERR_CONFIG', `store snapshot ${file} has an unknown version; move it away to start empty`);
    for (const [segment, list] of Object.entries(snap.leases ?? {})) {
      const s = this.#segment(segment);
      for (const { key, expiresAt, ...record } of list) {
        const clean: LeaseRecord = {};
        for (const f of LEASE_FAMILIES) {
          if (typeof record[f] !== 'string') continue;
          clean[f] = record[f];
          s.byAddress.set(`${f} ${record[f]}`, key);
        }
        s.byKey.set(key, { record: clean, expiresAt });
      }
    }
    for (const u of snap.users ?? []) this.#users.set(u.name, u);
    for (const [user, keys] of Object.entries(snap.deviceKeys ?? {})) this.#deviceKeys.set(user, new Map(Object.entries(keys)));
    this.#revocations = [...(snap.revocations ?? [])];
    for (const [name, l] of Object.entries(snap.lists ?? {}).slice(0, MAX_LISTS)) if (Array.isArray(l?.values) && typeof l.until === 'number') this.#lists.set(name, { values: l.values.filter((v) => typeof v === 'string'), until: l.until });
  }
}

/** The device whose key ends first (the one to give way in a full table). */
function nearestEnd(keys: Map<string, DeviceKeyRecord>): string {
  let victim = '';
  let soonest = Infinity;
  for (const [d, r] of keys) {
    if (r.until < soonest) {
      soonest = r.until;
      victim = d;
    }
  }
  return victim;
}

export function deviceLimit(segment: string, max: number): ElError {
  return new ElError('EL_ERR_DEVICE_LIMIT', `${max} devices already hold a lease in segment "${segment}"`);
}
