/** Opens the store a configuration names: memory (with an optional snapshot file) or Redis. */
import { MemoryStore, type MemoryStoreOptions } from './memory-store.js';
import { RedisStore, type RedisStoreConfig } from './redis-store.js';
import { redisMetrics } from './redis-metrics.js';
import type { Registry } from 'prom-client';
import type { BrokerStore } from './store.js';

export type StoreConfig = { type: 'memory'; snapshot?: string } | RedisStoreConfig;

export interface OpenStoreOptions extends Pick<MemoryStoreOptions, 'onSnapshotError'> {
  /** Where the Redis store's metrics go (el_broker_redis_*). */
  registry?: Registry;
}

export async function openStore(config: StoreConfig, opts: OpenStoreOptions = {}): Promise<BrokerStore> {
  if (config.type === 'memory') return new MemoryStore({ snapshotFile: config.snapshot, onSnapshotError: opts.onSnapshotError });
  const store = new RedisStore(config, Date.now, { observer: opts.registry && redisMetrics(opts.registry) });
  // Start even when Redis is away: /readyz says so, and logins answer 503 until it returns.
  await store.waitReady(3000);
  return store;
}
