/**
 * One contract, two stores: every test runs against the MemoryStore and against a
 * RedisStore on a real redis-server started here (skipped without redis-server,
 * except in CI). The clock is a parameter, so expiry needs no sleeping.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryStore } from './memory-store.js';
import { RedisStore } from './redis-store.js';
import type { BrokerStore, NodeRecord } from './store.js';
import { redisOrSkip, startTestCluster, startTestRedis, startTestSentinel, type TestCluster, type TestRedis, type TestSentinel } from './test-redis.js';

const haveRedis = redisOrSkip();

const node = (name: string, extra: Partial<NodeRecord> = {}): NodeRecord => ({
  node: name,
  hosts: ['127.0.0.1'],
  port: 4443,
  capacity: 100,
  sessions: 0,
  segments: ['lan'],
  active: [],
  draining: false,
  seenAt: 1,
  ...extra,
});

function contract(name: string, make: (clock: { t: number }) => Promise<BrokerStore>) {
  describe(`${name} (store contract)`, () => {
    const clock = { t: 1_700_000_000_000 };
    let s: BrokerStore;
    let n = 0;
    // A fresh segment name per test keeps tests independent in one Redis database.
    const seg = () => `seg${n++}`;

    beforeAll(async () => {
      s = await make(clock);
    });
    afterAll(async () => {
      await s?.close();
    });

    it('claims an address for one key only, and keeps the first address a key won', async () => {
      const g = seg();
      expect(await s.claim(g, 'k1', 'ipv4', '198.19.0.2', 60)).toBe('198.19.0.2');
      expect(await s.claim(g, 'k2', 'ipv4', '198.19.0.2', 60)).toBeUndefined();
      expect(await s.claim(g, 'k1', 'ipv4', '198.19.0.3', 60)).toBe('198.19.0.2');
      // Families and segments are separate namespaces.
      expect(await s.claim(g, 'k2', 'ipv6', '198.19.0.2', 60)).toBe('198.19.0.2');
      expect(await s.claim(`${g}x`, 'k2', 'ipv4', '198.19.0.2', 60)).toBe('198.19.0.2');
      expect(await s.get(g, 'k1')).toEqual({ ipv4: '198.19.0.2' });
      expect(await s.count(g)).toBe(2);
      expect(await s.count('empty')).toBe(0);
    });

    it('gives 200 concurrent claims of one address to exactly one key', async () => {
      const g = seg();
      const got = await Promise.all(Array.from({ length: 200 }, (_, i) => s.claim(g, `k${i}`, 'ipv4', '198.19.0.9', 60)));
      expect(got.filter((a) => a === '198.19.0.9')).toHaveLength(1);
      expect(await s.count(g)).toBe(1);
    });

    it('lets an expired lease go to another key, and restarts the idle time on touch', async () => {
      const g = seg();
      await s.claim(g, 'old', 'ipv4', '198.19.0.2', 10);
      await s.claim(g, 'kept', 'ipv4', '198.19.0.3', 10);
      clock.t += 8000;
      await s.touch(g, 'kept', 10);
      clock.t += 4000;
      expect(await s.get(g, 'old')).toBeUndefined();
      expect(await s.get(g, 'kept')).toEqual({ ipv4: '198.19.0.3' });
      expect(await s.claim(g, 'new', 'ipv4', '198.19.0.2', 10)).toBe('198.19.0.2');
      expect(await s.claim(g, 'new2', 'ipv4', '198.19.0.3', 10)).toBeUndefined();
      expect(await s.count(g)).toBe(2);
      expect((await s.list(g, 10)).map((l) => l.key).sort()).toEqual(['kept', 'new']);
    });

    it('lets a forced claim (a static assignment) take an address from its holder', async () => {
      const g = seg();
      await s.claim(g, 'dyn', 'ipv4', '198.19.0.5', 60);
      await s.claim(g, 'dyn', 'ipv6', 'fd00:e1::5', 60);
      expect(await s.claim(g, 'static', 'ipv4', '198.19.0.5', 60, true)).toBe('198.19.0.5');
      expect(await s.get(g, 'dyn')).toEqual({ ipv6: 'fd00:e1::5' });
      expect(await s.claim(g, 'dyn', 'ipv4', '198.19.0.6', 60)).toBe('198.19.0.6');
    });

    it('releases a lease and its addresses', async () => {
      const g = seg();
      await s.claim(g, 'k', 'ipv4', '198.19.0.2', 60);
      await s.claim(g, 'k', 'prefix6', 'fd00:e1:0:100::/56', 60);
      expect(await s.release(g, 'k')).toBe(true);
      expect(await s.release(g, 'k')).toBe(false);
      expect(await s.claim(g, 'j', 'prefix6', 'fd00:e1:0:100::/56', 60)).toBe('fd00:e1:0:100::/56');
    });

    it('takes a challenge once, and never an expired one', async () => {
      await s.putChallenge('c1', 30);
      await s.putChallenge('c2', 30);
      const both = await Promise.all([s.takeChallenge('c1'), s.takeChallenge('c1')]);
      expect(both.sort()).toEqual([false, true]);
      expect(await s.takeChallenge('never')).toBe(false);
      if (s.kind === 'memory') {
        clock.t += 31_000;
        expect(await s.takeChallenge('c2')).toBe(false);
      }
    });

    it('counts failures in a window and clears them', async () => {
      await Promise.all(Array.from({ length: 7 }, () => s.addFailure('u:eve', 300)));
      const f = await s.failures('u:eve');
      expect(f.count).toBe(7);
      expect(f.retryAfter).toBeGreaterThan(0);
      expect(f.retryAfter).toBeLessThanOrEqual(300);
      await s.clearFailures('u:eve');
      expect(await s.failures('u:eve')).toEqual({ count: 0, retryAfter: 0 });
    });

    it('keeps node records until they are not refreshed for their retain time', async () => {
      await s.putNode(node('a', { sessions: 3 }), 60);
      await s.putNode(node('b'), 60);
      await s.putNode(node('a', { sessions: 4 }), 60);
      expect((await s.listNodes()).map((x) => [x.node, x.sessions]).sort()).toEqual([['a', 4], ['b', 0]]);
      clock.t += 61_000;
      await s.putNode(node('b'), 60);
      expect((await s.listNodes()).map((x) => x.node)).toEqual(['b']);
      expect(await s.deleteNode('b')).toBe(true);
      expect(await s.listNodes()).toEqual([]);
    });

    it('stores users', async () => {
      await s.putUser({ name: 'zed', passwordHash: '$scrypt$x', segments: ['lan'], digestSecret: 'sekrit' });
      await s.putUser({ name: 'amy', passwordHash: '$scrypt$y', segments: ['lan'] });
      expect(await s.getUser('zed')).toEqual({ name: 'zed', passwordHash: '$scrypt$x', segments: ['lan'], digestSecret: 'sekrit' });
      expect((await s.listUsers()).map((u) => u.name)).toEqual(['amy', 'zed']);
      expect(await s.deleteUser('zed')).toBe(true);
      expect(await s.getUser('zed')).toBeUndefined();
    });
  });
}

contract('MemoryStore', async (clock) => new MemoryStore({ now: () => clock.t }));

describe.skipIf(!haveRedis)('RedisStore on a real redis-server', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startTestRedis();
  });
  afterAll(async () => {
    await redis?.destroy();
  });
  contract('RedisStore', async (clock) => {
    const store = new RedisStore({ type: 'redis', url: redis.url }, () => clock.t);
    expect(await store.waitReady()).toBe(true);
    return store;
  });

  it('answers EL_ERR_UNAVAILABLE while Redis is down and recovers by itself', async () => {
    const store = new RedisStore({ type: 'redis', url: redis.url });
    try {
      await store.waitReady();
      await store.claim('outage', 'k', 'ipv4', '198.19.0.2', 60);
      await redis.stop();
      await expect(store.get('outage', 'k')).rejects.toMatchObject({ code: 'EL_ERR_UNAVAILABLE' });
      await expect(store.ping()).rejects.toMatchObject({ code: 'EL_ERR_UNAVAILABLE' });
      await redis.start();
      // Reconnects within about a second; bounded wait.
      const deadline = Date.now() + 10_000;
      let ok = false;
      while (!ok && Date.now() < deadline) ok = await store.ping().then(() => true, () => false);
      expect(ok).toBe(true);
      // A fresh server without persistence: the lease is gone, the store works again.
      expect(await store.claim('outage', 'k', 'ipv4', '198.19.0.2', 60)).toBe('198.19.0.2');
    } finally {
      await store.close();
    }
  });
});

describe.skipIf(!haveRedis)('RedisStore through a real Sentinel (master, replica, sentinel)', () => {
  let sentinel: TestSentinel;
  beforeAll(async () => {
    sentinel = await startTestSentinel();
  }, 30_000);
  afterAll(async () => {
    await sentinel?.destroy();
  });
  contract('RedisStore (Sentinel)', async (clock) => {
    const store = new RedisStore({ type: 'redis', sentinels: sentinel.sentinels, name: sentinel.name }, () => clock.t);
    expect(await store.waitReady()).toBe(true);
    return store;
  });

  it('works again by itself after a failover to the replica', async () => {
    const store = new RedisStore({ type: 'redis', sentinels: sentinel.sentinels, name: sentinel.name, prefix: 'fo' });
    try {
      expect(await store.waitReady()).toBe(true);
      expect(await store.claim('lan', 'k1', 'ipv4', '198.19.0.2', 60)).toBe('198.19.0.2');
      const before = sentinel.masterPort();
      const after = await sentinel.failover();
      expect(after).not.toBe(before);
      // Writes go to the new master without a restart of the store; bounded wait.
      const deadline = Date.now() + 15_000;
      let got: string | undefined;
      while (got === undefined && Date.now() < deadline) {
        got = await store.claim('lan', 'k2', 'ipv4', '198.19.0.3', 60).catch(() => undefined);
        if (got === undefined) await new Promise((r) => setTimeout(r, 200));
      }
      expect(got).toBe('198.19.0.3');
      // The lease written before the failover was replicated and is still held.
      expect(await store.get('lan', 'k1')).toEqual({ ipv4: '198.19.0.2' });
      expect(await store.claim('lan', 'k3', 'ipv4', '198.19.0.2', 60)).toBeUndefined();
    } finally {
      await store.close();
    }
  }, 40_000);
});

describe.skipIf(!haveRedis)('RedisStore on a real 3-master Redis Cluster', () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await startTestCluster();
  }, 30_000);
  afterAll(async () => {
    await cluster?.destroy();
  });
  contract('RedisStore (Cluster)', async (clock) => {
    const store = new RedisStore({ type: 'redis', cluster: cluster.nodes }, () => clock.t);
    expect(await store.waitReady()).toBe(true);
    return store;
  });
});

describe('MemoryStore snapshot', () => {
  it('keeps leases and users across a restart, and drops what expired', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elink-snap-'));
    const file = join(dir, 'store.json');
    let t = 1_000_000;
    try {
      const a = new MemoryStore({ snapshotFile: file, now: () => t });
      await a.claim('lan', 'k1', 'ipv4', '198.19.0.2', 60);
      await a.claim('lan', 'k1', 'ipv6', 'fd00:e1::2', 60);
      await a.claim('lan', 'short', 'ipv4', '198.19.0.3', 1);
      await a.putUser({ name: 'amy', passwordHash: '$scrypt$y', segments: ['lan'] });
      t += 2000;
      await a.close();
      const b = new MemoryStore({ snapshotFile: file, now: () => t });
      expect(await b.get('lan', 'k1')).toEqual({ ipv4: '198.19.0.2', ipv6: 'fd00:e1::2' });
      expect(await b.get('lan', 'short')).toBeUndefined();
      expect(await b.claim('lan', 'other', 'ipv4', '198.19.0.2', 60)).toBeUndefined();
      expect((await b.getUser('amy'))?.segments).toEqual(['lan']);
      await b.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a snapshot that cannot be written is reported and retried with backoff, never thrown from its timer', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elink-snap-'));
    // A file where the snapshot's directory should be: every write fails (ENOTDIR/EEXIST) until it is gone.
    const blocker = join(dir, 'blocked');
    writeFileSync(blocker, 'not a directory');
    const file = join(blocker, 'store.json');
    const errors: Array<{ err: Error; retry: number }> = [];
    const store = new MemoryStore({ snapshotFile: file, snapshotDelayMs: 5, onSnapshotError: (err, retry) => errors.push({ err, retry }) });
    try {
      await store.claim('lan', 'k1', 'ipv4', '198.19.0.2', 60);
      const deadline = Date.now() + 10_000;
      while (errors.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      expect(errors.length).toBeGreaterThanOrEqual(3);
      expect(store.snapshotFailures).toBe(errors.length);
      // Backoff: each retry waits longer than the one before.
      expect(errors[1]!.retry).toBeGreaterThan(errors[0]!.retry);
      expect(errors[2]!.retry).toBeGreaterThan(errors[1]!.retry);
      rmSync(blocker);
      while (!existsSync(file) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      expect(existsSync(file)).toBe(true);
      expect(store.snapshotsSaved).toBe(1);
      expect(JSON.parse(readFileSync(file, 'utf8')).leases.lan[0].ipv4).toBe('198.19.0.2');
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
