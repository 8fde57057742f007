import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { openStore } from './open.js';
import { redisOrSkip, startTestRedis, type TestRedis } from './test-redis.js';

const haveRedis = redisOrSkip();

async function series(registry: Registry, name: string): Promise<Array<{ labels: Record<string, unknown>; value: number; metricName?: string }>> {
  return (await registry.getSingleMetric(name)!.get()).values as Array<{ labels: Record<string, unknown>; value: number; metricName?: string }>;
}

describe.skipIf(!haveRedis)('Redis store metrics on a real redis-server', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startTestRedis();
  });
  afterAll(async () => {
    await redis?.destroy();
  });

  it('times every operation by name and counts failed ones and connection errors while Redis is away', async () => {
    const registry = new Registry();
    const store = await openStore({ type: 'redis', url: redis.url }, { registry });
    try {
      await store.ping();
      await store.putChallenge('c1', 30);
      expect(await store.takeChallenge('c1')).toBe(true);
      const counts = (await series(registry, 'el_broker_redis_command_duration_seconds')).filter((v) => v.metricName === 'el_broker_redis_command_duration_seconds_count');
      const byOp = Object.fromEntries(counts.map((v) => [v.labels.op, v.value]));
      expect(byOp).toMatchObject({ ping: 1, put_challenge: 1, take_challenge: 1 });
      const errors = async (op: string) => (await series(registry, 'el_broker_redis_errors_total')).find((v) => v.labels.op === op)?.value ?? 0;
      expect(await errors('ping')).toBe(0);
      expect(await errors('connection')).toBe(0);

      await redis.stop();
      await expect(store.ping()).rejects.toMatchObject({ code: 'EL_ERR_UNAVAILABLE' });
      expect(await errors('ping')).toBe(1);
      // ioredis reports the lost connection and each failed reconnect.
      const deadline = Date.now() + 5000;
      while ((await errors('connection')) === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(await errors('connection')).toBeGreaterThan(0);
    } finally {
      await store.close();
      await redis.start();
    }
  });
});
