/** Opens the store a configuration names: memory (with an optional snapshot file) or Redis. */
import { MemoryStore, type MemoryStoreOptions } from './memory-store.js';
import { RedisStore, type RedisStoreConfig } from './redis-store.js';
import type { BrokerStore } from './store.js';

export type StoreConfig = { type: 'memory'; snapshot?: string } | RedisStoreConfig;

export async function openStore(config: StoreConfig, opts: Pick<MemoryStoreOptions, 'onSnapshotError'> = {}): Promise<BrokerStore> {
  if (config.type === 'memory') return new MemoryStore({ snapshotFile: config.snapshot, ...opts });
  const store = new RedisStore(config);
  // Start even when Redis is away: /readyz says so, and logins answer 503 until it returns.
  await store.waitReady(3000);
  return store;
}
