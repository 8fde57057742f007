/**
 * The shared store: Redis standalone (URL), Sentinel or Cluster, through ioredis.
 * Brokers using it are stateless replicas. Lease changes run as Lua scripts
 * (redis-scripts.ts), challenges are taken with GETDEL, rate-limit counters are
 * reserved and trunk losses put and cleared by Lua scripts: every step two brokers could
 * race on is one atomic command, but for the size checks of the node, report, user,
 * device-key and revocation tables (size read, then written: brokers adding at the same
 * moment may pass a bound by one entry each; over it, a new entry is refused or, for
 * device keys, takes an old one's place).
 *
 * When Redis is away every call fails fast (one retry, short timeouts) with ElError
 * EL_ERR_UNAVAILABLE, which the API answers with 503; ioredis keeps reconnecting in
 * the background, so the broker recovers by itself when Redis returns.
 */
import { Redis, Cluster, type RedisOptions } from 'ioredis';
import { ElError, MAX_REVOCATIONS, type NodeReport, type Revocation } from '@elink/protocol';
import type { LeaseEntry, LeaseFamily, LeaseRecord, OwnerCap } from '../lease-store.js';
import { ADD_REVOCATION, CLAIM, CLEAR_DOWNS, HSET_BOUNDED, PUT_DEVICE_KEY, PUT_DOWNS, RELEASE, RESERVE, SETTLE, SWEEP, TOUCH } from './redis-scripts.js';
import { deviceLimit } from './memory-store.js';
import type { RedisObserver } from './redis-metrics.js';
import { MAX_COUNTERS, MAX_DEVICE_KEYS_PER_USER, MAX_NODES, MAX_TRUNK_DOWNS, MAX_USERS, TRUNK_DOWNS_SWEEP_MS, type BrokerStore, type TrunkDownRecord, type DeviceKeyRecord, type CounterLimit, type FailureCount, type NodeRecord, type Reservation, type StoredUser } from './store.js';

export type RedisStoreConfig =
  | { type: 'redis'; url: string; password?: string; prefix?: string }
  | { type: 'redis'; sentinels: Array<{ host: string; port: number }>; name: string; password?: string; prefix?: string }
  | { type: 'redis'; cluster: Array<{ host: string; port: number }>; password?: string; prefix?: string };

type Client = Redis | Cluster;

type SegKeys = [string, string, string, string];

interface Scripted {
  elClaim(...args: [...SegKeys, ...(string | number)[]]): Promise<string | null>;
  elTouch(...args: [...SegKeys, ...(string | number)[]]): Promise<number>;
  elRelease(...args: [...SegKeys, ...(string | number)[]]): Promise<number>;
  elSweep(...args: [...SegKeys, ...(string | number)[]]): Promise<number>;
  elReserve(k1: string, k2: string, k3: string, ...args: (string | number)[]): Promise<number[]>;
  elSettle(k1: string, k2: string, k3: string, ...args: (string | number)[]): Promise<number>;
  elPutDowns(key: string, swept: string, ...args: (string | number)[]): Promise<number[]>;
  elHsetBounded(key: string, field: string, value: string, max: number): Promise<number>;
  elPutDeviceKey(hash: string, device: string, record: string, now: number, max: number, ttlMs: number): Promise<number>;
  elAddRevocation(set: string, nowSeconds: number, max: number, until: number, member: string): Promise<number>;
  elClearDowns(key: string, ...args: (string | number)[]): Promise<Array<number | string>>;
}

export interface RedisStoreOptions {
  /** Live rate-limit counters at most. Default MAX_COUNTERS. */
  maxCounters?: number;
  /** Live trunk-loss entries at most. Default MAX_TRUNK_DOWNS. */
  maxTrunkDowns?: number;
  /** Times and failures of every operation (el_broker_redis_*). */
  observer?: RedisObserver;
}

/**
 * Fail a command quickly while Redis is away or hung: a request that needs Redis gets
 * its 503 within COMMAND_TIMEOUT_MS (measured 1.0 s against a redis-server stopped
 * with SIGSTOP, store.test.ts), not a hang; reconnect every second at most.
 */
export const COMMAND_TIMEOUT_MS = 1000;
const CLIENT_OPTIONS: RedisOptions = {
  maxRetriesPerRequest: 1,
  connectTimeout: 2000,
  commandTimeout: COMMAND_TIMEOUT_MS,
  retryStrategy: (times) => Math.min(times * 100, 1000),
  enableReadyCheck: true,
};

const SWEEP_BATCH = 500;

export class RedisStore implements BrokerStore {
  readonly kind = 'redis' as const;
  readonly #client: Client & Scripted;
  readonly #p: string;
  readonly #now: () => number;
  readonly #maxCounters: number;
  readonly #maxTrunkDowns: number;
  readonly #observer: RedisObserver | undefined;

  constructor(config: RedisStoreConfig, now: () => number = Date.now, opts: RedisStoreOptions = {}) {
    this.#now = now;
    this.#maxCounters = opts.maxCounters ?? MAX_COUNTERS;
    this.#maxTrunkDowns = opts.maxTrunkDowns ?? MAX_TRUNK_DOWNS;
    this.#observer = opts.observer;
    this.#p = config.prefix ?? 'el';
    let client: Client;
    // A password given apart from the URL (from a Secret, ELINK_REDIS_PASSWORD) is used when the URL has none.
    if ('url' in config) client = new Redis(config.url, config.password === undefined ? CLIENT_OPTIONS : { ...CLIENT_OPTIONS, password: config.password });
    else if ('sentinels' in config) {
      client = new Redis({
        ...CLIENT_OPTIONS,
        sentinels: config.sentinels,
        name: config.name,
        password: config.password,
        // Follow a failover as the sentinels announce it (+switch-master), and if a write
        // still reaches the demoted master, reconnect (asking the sentinels again) and resend.
        failoverDetector: true,
        reconnectOnError: (err) => (err.message.startsWith('READONLY') ? 2 : false),
      });
    }
    else client = new Cluster(config.cluster, { redisOptions: { ...CLIENT_OPTIONS, password: config.password }, clusterRetryStrategy: (times) => Math.min(times * 100, 1000) });
    // Errors surface on the calls that need Redis (as 503) and on /readyz; without a
    // listener ioredis would print every failed reconnect.
    client.on('error', () => this.#observer?.connectionError());
    client.defineCommand('elClaim', { numberOfKeys: 4, lua: CLAIM });
    client.defineCommand('elTouch', { numberOfKeys: 4, lua: TOUCH });
    client.defineCommand('elRelease', { numberOfKeys: 4, lua: RELEASE });
    client.defineCommand('elSweep', { numberOfKeys: 4, lua: SWEEP });
    client.defineCommand('elReserve', { numberOfKeys: 3, lua: RESERVE });
    client.defineCommand('elSettle', { numberOfKeys: 3, lua: SETTLE });
    client.defineCommand('elPutDowns', { numberOfKeys: 2, lua: PUT_DOWNS });
    client.defineCommand('elClearDowns', { numberOfKeys: 1, lua: CLEAR_DOWNS });
    client.defineCommand('elHsetBounded', { numberOfKeys: 1, lua: HSET_BOUNDED });
    client.defineCommand('elPutDeviceKey', { numberOfKeys: 1, lua: PUT_DEVICE_KEY });
    client.defineCommand('elAddRevocation', { numberOfKeys: 1, lua: ADD_REVOCATION });
    this.#client = client as Client & Scripted;
  }

  /** Resolves when connected, or after `timeoutMs` (the broker starts anyway and reports not ready). */
  async waitReady(timeoutMs = 3000): Promise<boolean> {
    if (this.#client.status === 'ready') return true;
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        this.#client.off('ready', onReady);
        resolve(ok);
      };
      const onReady = () => done(true);
      const timer = setTimeout(() => done(false), timeoutMs);
      this.#client.once('ready', onReady);
    });
  }

  async #do<T>(what: string, fn: () => Promise<T>): Promise<T> {
    const start = process.hrtime.bigint();
    const done = (ok: boolean) => this.#observer?.operation(what.replaceAll(' ', '_'), Number(process.hrtime.bigint() - start) / 1e9, ok);
    try {
      const result = await fn();
      done(true);
      return result;
    } catch (err) {
      // An ElError is our own refusal (a full registry): Redis answered.
      done(err instanceof ElError);
      if (err instanceof ElError) throw err;
      throw new ElError('EL_ERR_UNAVAILABLE', `the broker's store (Redis) is unreachable (${what}: ${(err as Error).message}); logins resume by themselves when it is back`, { cause: err });
    }
  }

  #seg(segment: string): SegKeys {
    const tag = `${this.#p}:{${segment}}`;
    return [`${tag}:leases`, `${tag}:addrs`, `${tag}:exp`, `${tag}:keys`];
  }

  #counters(): [string, string, string] {
    return [`${this.#p}:{rl}:n`, `${this.#p}:{rl}:x`, `${this.#p}:{rl}:p`];
  }

  // ---- leases ----

  async get(segment: string, key: string): Promise<LeaseRecord | undefined> {
    const raw = await this.#do('get lease', () => this.#client.hget(this.#seg(segment)[0], key));
    if (!raw) return undefined;
    const { exp, ...record } = JSON.parse(raw) as LeaseRecord & { exp: number };
    return exp > this.#now() ? record : undefined;
  }

  async claim(segment: string, key: string, family: LeaseFamily, address: string, ttlSeconds: number, force = false): Promise<string | undefined> {
    const got = await this.#do('claim', () => this.#client.elClaim(...this.#seg(segment), key, family, address, this.#now(), ttlSeconds * 1000, force ? '1' : '0', '', 0));
    return got ?? undefined;
  }

  async claimCapped(segment: string, key: string, family: LeaseFamily, address: string, ttlSeconds: number, owner: OwnerCap): Promise<string | undefined> {
    const got = await this.#do('claim', () => this.#client.elClaim(...this.#seg(segment), key, family, address, this.#now(), ttlSeconds * 1000, '0', owner.prefix, owner.max));
    if (got === '!limit') throw deviceLimit(segment, owner.max);
    return got ?? undefined;
  }

  async touch(segment: string, key: string, ttlSeconds: number): Promise<void> {
    await this.#do('touch lease', () => this.#client.elTouch(...this.#seg(segment), key, this.#now(), ttlSeconds * 1000));
  }

  async release(segment: string, key: string): Promise<boolean> {
    return (await this.#do('release lease', () => this.#client.elRelease(...this.#seg(segment), key))) === 1;
  }

  async list(segment: string, limit: number): Promise<LeaseEntry[]> {
    const [leases, , exp] = this.#seg(segment);
    const keys = await this.#do('list leases', () => this.#client.zrangebyscore(exp, `(${this.#now()}`, '+inf', 'LIMIT', 0, limit));
    if (keys.length === 0) return [];
    const raws = await this.#do('list leases', () => this.#client.hmget(leases, ...keys));
    const out: LeaseEntry[] = [];
    raws.forEach((raw, i) => {
      if (!raw) return;
      const { exp: expiresAt, ...record } = JSON.parse(raw) as LeaseRecord & { exp: number };
      out.push({ key: keys[i]!, expiresAt, ...record });
    });
    return out;
  }

  async count(segment: string): Promise<number> {
    const keys = this.#seg(segment);
    // Housekeeping rides along: a bounded batch of expired leases is dropped.
    await this.#do('sweep leases', () => this.#client.elSweep(...keys, this.#now(), SWEEP_BATCH));
    return this.#do('count leases', () => this.#client.zcount(keys[2], `(${this.#now()}`, '+inf'));
  }

  // ---- challenges ----

  async putChallenge(id: string, ttlSeconds: number): Promise<void> {
    await this.#do('put challenge', () => this.#client.set(`${this.#p}:ch:${id}`, '1', 'EX', ttlSeconds));
  }

  async takeChallenge(id: string): Promise<boolean> {
    return (await this.#do('take challenge', () => this.#client.getdel(`${this.#p}:ch:${id}`))) !== null;
  }

  // ---- rate-limit counters ----

  async reserve(counters: readonly CounterLimit[]): Promise<Reservation> {
    const args = counters.flatMap((c) => [c.key, c.limit, c.windowSeconds * 1000]);
    const [ok, index, msLeft] = await this.#do('reserve', () => this.#client.elReserve(...this.#counters(), this.#now(), this.#maxCounters, ...args));
    return ok === 1 ? { ok: true } : { ok: false, index: index! - 1, retryAfter: Math.max(1, Math.ceil(msLeft! / 1000)) };
  }

  async settle(keys: readonly string[], giveBack: boolean): Promise<void> {
    if (keys.length) await this.#do('settle', () => this.#client.elSettle(...this.#counters(), this.#now(), giveBack ? '1' : '0', ...keys));
  }

  async counter(key: string): Promise<FailureCount> {
    const [n, x] = this.#counters();
    const [count, ends] = await this.#do('read counter', () => Promise.all([this.#client.hget(n, key), this.#client.zscore(x, key)]));
    const left = Number(ends ?? 0) - this.#now();
    return count !== null && left > 0 ? { count: Number(count), retryAfter: Math.ceil(left / 1000) } : { count: 0, retryAfter: 0 };
  }

  async clearCounter(key: string): Promise<void> {
    const [n, x, p] = this.#counters();
    await this.#do('clear counter', () => this.#client.multi().hdel(n, key).hdel(p, key).zrem(x, key).exec());
  }

  // ---- nodes ----

  async putNode(record: NodeRecord, retainSeconds: number): Promise<void> {
    const key = `${this.#p}:nodes`;
    const value = JSON.stringify({ record, until: this.#now() + retainSeconds * 1000 });
    await this.#do('register node', () => this.#hsetBounded(key, record.node, value, MAX_NODES, `the node registry is full (${MAX_NODES} nodes)`, () => this.listNodes()));
  }

  async listNodes(): Promise<NodeRecord[]> {
    const live = await this.#liveEntries<{ record: NodeRecord }>(`${this.#p}:nodes`, 'nodes');
    return live.map(([, { record }]) => record);
  }

  /**
   * Writes `field` of a bounded hash in one step (HSET_BOUNDED): when the hash is full and
   * the field new, `dropEnded` (a list that deletes the expired entries) runs and it is
   * tried once more; still full: EL_ERR_UNAVAILABLE with `full`.
   */
  async #hsetBounded(key: string, field: string, value: string, max: number, full: string, dropEnded?: () => Promise<unknown>): Promise<void> {
    if ((await this.#client.elHsetBounded(key, field, value, max)) === 1) return;
    if (dropEnded) {
      await dropEnded();
      if ((await this.#client.elHsetBounded(key, field, value, max)) === 1) return;
    }
    throw new ElError('EL_ERR_UNAVAILABLE', full);
  }

  /** The fields of a hash of `{…, until}` values that have not expired; the expired ones are deleted. */
  async #liveEntries<T>(key: string, what: string): Promise<Array<[string, T]>> {
    const all = await this.#do(`list ${what}`, () => this.#client.hgetall(key));
    const now = this.#now();
    const live: Array<[string, T]> = [];
    const stale: string[] = [];
    for (const [field, raw] of Object.entries(all)) {
      const value = JSON.parse(raw) as T & { until: number };
      if (value.until <= now) stale.push(field);
      else live.push([field, value]);
    }
    if (stale.length) await this.#do(`drop stale ${what}`, () => this.#client.hdel(key, ...stale));
    return live;
  }

  async deleteNode(node: string): Promise<boolean> {
    return (await this.#do('delete node', () => this.#client.hdel(`${this.#p}:nodes`, node))) === 1;
  }

  /**
   * One hash, field JSON [node, reporter] → {since, at, until}, changed only by Lua scripts:
   * two brokers may handle one reporter at once (a heartbeat failed over to another broker
   * while the last is in flight, an early heartbeat beside the regular one), so a put or a
   * clear reads and writes in one step, and the bound (maxTrunkDowns) is checked in that step.
   */
  async putTrunkDowns(reporter: string, downs: readonly { node: string; since: number }[], ttlSeconds: number): Promise<TrunkDownRecord[]> {
    if (downs.length === 0) return [];
    const now = this.#now();
    const value = (since: number) => JSON.stringify({ since, at: now, until: now + ttlSeconds * 1000 });
    const args = downs.flatMap((d) => [JSON.stringify([d.node, reporter]), d.since, value(d.since)]);
    const made = await this.#do('put trunk downs', () => this.#client.elPutDowns(this.#downsKey, `{${this.#downsKey}}:swept`, now, this.#maxTrunkDowns, TRUNK_DOWNS_SWEEP_MS, ...args));
    return made.map((i) => ({ node: downs[i - 1]!.node, reporter, since: downs[i - 1]!.since, at: now }));
  }

  async clearTrunkDowns(reporter: string, ups: readonly { node: string; since: number }[]): Promise<TrunkDownRecord[]> {
    if (ups.length === 0) return [];
    const args = ups.flatMap((u) => [JSON.stringify([u.node, reporter]), u.since]);
    const gone = await this.#do('clear trunk downs', () => this.#client.elClearDowns(this.#downsKey, this.#now(), ...args));
    const cleared: TrunkDownRecord[] = [];
    for (let k = 0; k < gone.length; k += 2) {
      const { since, at } = JSON.parse(String(gone[k + 1])) as { since: number; at: number };
      cleared.push({ node: ups[Number(gone[k]) - 1]!.node, reporter, since, at });
    }
    return cleared;
  }

  /** The hash of trunk losses: field JSON [node, reporter]. */
  get #downsKey(): string {
    return `${this.#p}:downs`;
  }

  async listTrunkDowns(): Promise<TrunkDownRecord[]> {
    const live = await this.#liveEntries<{ since: number; at: number }>(this.#downsKey, 'trunk downs');
    return live.map(([field, { since, at }]) => {
      const [node, reporter] = JSON.parse(field) as [string, string];
      return { node, reporter, since, at };
    });
  }

  // ---- console reports and lists ----

  async putNodeReport(node: string, report: NodeReport, retainSeconds: number): Promise<void> {
    const key = `${this.#p}:reports`;
    const now = this.#now();
    const value = JSON.stringify({ at: now, report, until: now + retainSeconds * 1000 });
    await this.#do('put node report', () => this.#hsetBounded(key, node, value, MAX_NODES, `the node report table is full (${MAX_NODES} nodes)`, () => this.listNodeReports()));
  }

  async listNodeReports(): Promise<Array<{ node: string; at: number; report: NodeReport }>> {
    const live = await this.#liveEntries<{ at: number; report: NodeReport }>(`${this.#p}:reports`, 'node reports');
    return live.map(([node, { at, report }]) => ({ node, at, report }));
  }

  /** Lists expire on their own (EXPIRE), so their number is bounded by what pushes within a TTL; MAX_LISTS is checked by the callers' names (nodes, audit). */
  #list(name: string): string {
    return `${this.#p}:list:{${name}}`;
  }

  async pushList(name: string, value: string, maxLength: number, ttlSeconds: number): Promise<void> {
    const key = this.#list(name);
    await this.#do('push list', () => this.#client.multi().lpush(key, value).ltrim(key, 0, maxLength - 1).expire(key, ttlSeconds).exec());
  }

  async readList(name: string, limit: number): Promise<string[]> {
    return this.#do('read list', () => this.#client.lrange(this.#list(name), 0, limit - 1));
  }

  async takeList(name: string, limit: number): Promise<string[]> {
    const key = this.#list(name);
    const res = await this.#do('take list', () => this.#client.multi().lrange(key, -limit, -1).ltrim(key, 0, -limit - 1).exec());
    const taken = (res?.[0]?.[1] as string[] | undefined) ?? [];
    return taken.reverse();
  }

  // ---- device keys and revocations ----

  /** One hash per user (device → {key, until}); the hash expires with its longest-lived key. */
  #deviceKeyHash(user: string): string {
    return `${this.#p}:dk:${user}`;
  }

  async putDeviceKey(user: string, device: string, key: string, ttlSeconds: number): Promise<void> {
    const hash = this.#deviceKeyHash(user);
    await this.#do('put device key', async () => {
      // Full: the ended keys go, else the one nearest its end; one step (PUT_DEVICE_KEY).
      const now = this.#now();
      const record = JSON.stringify({ key, until: now + ttlSeconds * 1000 } satisfies DeviceKeyRecord);
      await this.#client.elPutDeviceKey(hash, device, record, now, MAX_DEVICE_KEYS_PER_USER, ttlSeconds * 1000);
    });
  }

  async getDeviceKey(user: string, device: string): Promise<string | undefined> {
    const raw = await this.#do('get device key', () => this.#client.hget(this.#deviceKeyHash(user), device));
    if (!raw) return undefined;
    const r = JSON.parse(raw) as DeviceKeyRecord;
    return r.until > this.#now() ? r.key : undefined;
  }

  async revoke(r: Revocation): Promise<number> {
    const set = `${this.#p}:revoked`;
    const hash = this.#deviceKeyHash(r.user);
    return this.#do('revoke', async () => {
      // Recorded first: if forgetting the keys fails, their tickets are refused all the same.
      // (The keys' hash is in another Cluster slot: a step of its own.)
      if ((await this.#client.elAddRevocation(set, Math.floor(this.#now() / 1000), MAX_REVOCATIONS, r.until, JSON.stringify(r))) === 0) {
        throw new ElError('EL_ERR_UNAVAILABLE', `${MAX_REVOCATIONS} revocations are live; try again when the oldest ends`);
      }
      if (r.device !== undefined) return this.#client.hdel(hash, r.device);
      const n = await this.#client.hlen(hash);
      await this.#client.del(hash);
      return n;
    });
  }

  async listRevocations(): Promise<Revocation[]> {
    const raws = await this.#do('list revocations', () => this.#client.zrangebyscore(`${this.#p}:revoked`, `(${Math.floor(this.#now() / 1000)}`, '+inf', 'LIMIT', 0, MAX_REVOCATIONS));
    return raws.map((raw) => JSON.parse(raw) as Revocation);
  }

  // ---- users ----

  async getUser(name: string): Promise<StoredUser | undefined> {
    const raw = await this.#do('get user', () => this.#client.hget(`${this.#p}:users`, name));
    return raw ? (JSON.parse(raw) as StoredUser) : undefined;
  }

  async putUser(user: StoredUser): Promise<void> {
    const key = `${this.#p}:users`;
    await this.#do('put user', () => this.#hsetBounded(key, user.name, JSON.stringify(user), MAX_USERS, `the user table is full (${MAX_USERS})`));
  }

  async deleteUser(name: string): Promise<boolean> {
    return (await this.#do('delete user', () => this.#client.hdel(`${this.#p}:users`, name))) === 1;
  }

  async listUsers(): Promise<StoredUser[]> {
    const all = await this.#do('list users', () => this.#client.hgetall(`${this.#p}:users`));
    return Object.values(all)
      .map((raw) => JSON.parse(raw) as StoredUser)
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  async ping(): Promise<void> {
    await this.#do('ping', () => (this.#client as Redis).ping());
  }

  async close(): Promise<void> {
    this.#client.disconnect();
  }
}
