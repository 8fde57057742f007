/**
 * The rate limits through the real app (fastify inject with chosen source addresses):
 * credential checks are counted by the broker's own metric, so "how many passwords were
 * hashed" is measured, not assumed. Memory store, and three brokers on one real
 * redis-server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import * as prom from 'prom-client';
import { generateTicketKeyPair, segmentSchema } from '@elink/protocol';
import { createBrokerApp, type BrokerOptions } from './app.js';
import { KeyRing } from './keyring.js';
import { hashPassword } from './password.js';
import { sourceKey } from './rate-limit.js';
import { MemoryStore } from './store/memory-store.js';
import { RedisStore } from './store/redis-store.js';
import type { BrokerStore } from './store/store.js';
import { redisOrSkip, startTestRedis, type TestRedis } from './store/test-redis.js';

const haveRedis = redisOrSkip();
const TOKEN = 'admin-token-0123456789abcdef';
const SECRET = 'cluster-secret-0123456789abcdef';
const segments = [segmentSchema.parse({ name: 'lan', ipv4: { pool: '198.19.0.0/28' } })];
const keys = new KeyRing(generateTicketKeyPair().privateKey);
let aliceHash: string;

beforeAll(async () => {
  aliceHash = await hashPassword('alice-pw1');
});

async function broker(store: BrokerStore, extra: Partial<BrokerOptions> = {}) {
  const registry = new prom.Registry();
  const app = await createBrokerApp({
    segments,
    store,
    keys,
    nodes: () => [{ node: 'sw-1', host: '127.0.0.1', port: 4443 }],
    logger: pino({ level: 'silent' }),
    registry,
    adminToken: TOKEN,
    clusterSecret: SECRET,
    ...extra,
  });
  const login = (body: Record<string, unknown>, from = '203.0.113.5') => app.inject({ method: 'POST', url: '/v1/login', payload: body, remoteAddress: from });
  return { app, registry, login };
}

async function metric(registry: prom.Registry, name: string, labels: Record<string, string>): Promise<number> {
  const m = registry.getSingleMetric(name);
  const values = (await m!.get()).values;
  return values.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((n, v) => n + v.value, 0);
}

const hashes = (registry: prom.Registry) => metric(registry, 'el_broker_credential_checks_total', { method: 'password' });

function statuses(replies: Array<{ statusCode: number }>): Record<number, number> {
  const out: Record<number, number> = {};
  for (const r of replies) out[r.statusCode] = (out[r.statusCode] ?? 0) + 1;
  return out;
}

async function memoryBroker(extra: Partial<BrokerOptions> = {}) {
  const store = new MemoryStore();
  await store.putUser({ name: 'alice', passwordHash: aliceHash, segments: ['lan'] });
  return broker(store, extra);
}

describe('source keys', () => {
  it('keys IPv4 (also v4-mapped) by address and IPv6 by its /64', () => {
    expect(sourceKey('198.51.100.7')).toBe('198.51.100.7');
    expect(sourceKey('::ffff:198.51.100.7')).toBe('198.51.100.7');
    expect(sourceKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(sourceKey('2001:db8:1:2:bbbb::9')).toBe(sourceKey('2001:db8:1:2:aaaa::1'));
    expect(sourceKey(undefined)).toBe('unknown');
  });
});

describe('password guessing on one broker (memory store)', () => {
  it('checks at most 10 of 300 concurrent wrong passwords for one user from one address', async () => {
    const b = await memoryBroker();
    try {
      const replies = await Promise.all(Array.from({ length: 300 }, () => b.login({ user: 'alice', password: 'wrong-pw' }, '198.51.100.7')));
      expect(await hashes(b.registry)).toBe(10);
      expect(statuses(replies)).toEqual({ 401: 10, 429: 290 });
      // Refused while 10 were in flight: retry in a second; once they failed, for the window.
      const limited = replies.find((r) => r.statusCode === 429)!;
      expect(limited.json().error).toBe('EL_ERR_RATE_LIMITED');
      expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      const later = await b.login({ user: 'alice', password: 'alice-pw1' }, '198.51.100.7');
      expect(later.statusCode).toBe(429);
      expect(Number(later.headers['retry-after'])).toBeGreaterThan(290);
      expect(await metric(b.registry, 'el_broker_rate_limited_total', { limit: 'user_source' })).toBe(291);
    } finally {
      await b.app.close();
    }
  });

  it('checks at most 50 of 300 concurrent wrong passwords for 300 user names from one address', async () => {
    const b = await memoryBroker();
    try {
      const replies = await Promise.all(Array.from({ length: 300 }, (_, i) => b.login({ user: `user${i}`, password: 'wrong-pw' }, '198.51.100.7')));
      expect(await hashes(b.registry)).toBe(50);
      expect(statuses(replies)).toEqual({ 401: 50, 429: 250 });
    } finally {
      await b.app.close();
    }
  });

  it('checks at most perUserTotal of 300 concurrent wrong passwords for one user from 300 addresses', async () => {
    const b = await memoryBroker({ rateLimits: { perUserTotal: 30 } });
    try {
      const replies = await Promise.all(Array.from({ length: 300 }, (_, i) => b.login({ user: 'alice', password: 'wrong-pw' }, `198.51.${100 + (i >> 8)}.${i & 255}`)));
      expect(await hashes(b.registry)).toBe(30);
      expect(statuses(replies)).toEqual({ 401: 30, 429: 270 });
      expect(await metric(b.registry, 'el_broker_rate_limited_total', { limit: 'user' })).toBe(270);
    } finally {
      await b.app.close();
    }
  });
});

describe('no lock-out by strangers', () => {
  it('10 wrong passwords from a stranger lock out only the stranger; the user logs in from elsewhere at once', async () => {
    const b = await memoryBroker();
    try {
      for (let i = 0; i < 10; i++) expect((await b.login({ user: 'alice', password: 'guess' }, '198.51.100.7')).statusCode).toBe(401);
      expect((await b.login({ user: 'alice', password: 'alice-pw1' }, '198.51.100.7')).statusCode).toBe(429);
      const real = await b.login({ user: 'alice', password: 'alice-pw1', device: 'laptop' }, '203.0.113.5');
      expect(real.statusCode).toBe(200);
      expect(real.json().remember).toMatch(/^elr1\./);
    } finally {
      await b.app.close();
    }
  });

  it('a distributed guesser hits the user-wide limit; a device that logged in before passes it with its remember token', async () => {
    const b = await memoryBroker({ rateLimits: { perUserTotal: 20 } });
    try {
      const first = await b.login({ user: 'alice', password: 'alice-pw1', device: 'laptop' });
      expect(first.statusCode).toBe(200);
      const remember = first.json().remember as string;
      for (let i = 0; i < 20; i++) expect((await b.login({ user: 'alice', password: 'guess' }, `198.51.100.${i}`)).statusCode).toBe(401);
      // A new device (no token) waits for the window...
      const fresh = await b.login({ user: 'alice', password: 'alice-pw1', device: 'phone' }, '203.0.113.9');
      expect(fresh.statusCode).toBe(429);
      expect(fresh.json().message).toMatch(/for this user/);
      // ...the laptop does not, from any address; its token is no good for another device or a forgery.
      expect((await b.login({ user: 'alice', password: 'alice-pw1', device: 'laptop', remember }, '192.0.2.44')).statusCode).toBe(200);
      expect((await b.login({ user: 'alice', password: 'alice-pw1', device: 'phone', remember }, '203.0.113.9')).statusCode).toBe(429);
      const forged = `${remember.slice(0, -4)}AAAA`;
      expect((await b.login({ user: 'alice', password: 'alice-pw1', device: 'laptop', remember: forged }, '203.0.113.9')).statusCode).toBe(429);
      // The token does not stand in for the password.
      expect((await b.login({ user: 'alice', password: 'guess', device: 'laptop', remember }, '192.0.2.45')).statusCode).toBe(401);
    } finally {
      await b.app.close();
    }
  });

  it('a successful login gives its units back and forgives the user\'s own typos from that address', async () => {
    const b = await memoryBroker({ rateLimits: { perUser: 3 } });
    try {
      for (let i = 0; i < 2; i++) expect((await b.login({ user: 'alice', password: 'typo' })).statusCode).toBe(401);
      expect((await b.login({ user: 'alice', password: 'alice-pw1' })).statusCode).toBe(200);
      for (let i = 0; i < 3; i++) expect((await b.login({ user: 'alice', password: 'typo' })).statusCode).toBe(401);
      expect((await b.login({ user: 'alice', password: 'alice-pw1' })).statusCode).toBe(429);
    } finally {
      await b.app.close();
    }
  });
});

describe('devices per user', () => {
  it('refuses a user\'s 4th device with 403 EL_ERR_DEVICE_LIMIT; their devices and other users keep working', async () => {
    const store = new MemoryStore();
    await store.putUser({ name: 'alice', passwordHash: aliceHash, segments: ['lan'] });
    await store.putUser({ name: 'bob', passwordHash: aliceHash, segments: ['lan'] });
    const b = await broker(store, { maxDevicesPerUser: 3 });
    try {
      for (let i = 0; i < 3; i++) expect((await b.login({ user: 'alice', password: 'alice-pw1', device: `d${i}` })).statusCode).toBe(200);
      // Concurrent, from different addresses (so only the device cap can refuse them).
      const extra = await Promise.all(Array.from({ length: 17 }, (_, i) => b.login({ user: 'alice', password: 'alice-pw1', device: `x${i}` }, `192.0.2.${i}`)));
      expect(statuses(extra)).toEqual({ 403: 17 });
      expect(extra[0]!.json().error).toBe('EL_ERR_DEVICE_LIMIT');
      expect(extra[0]!.json().message).toMatch(/user "alice" already has 3 devices/);
      expect((await b.login({ user: 'alice', password: 'alice-pw1', device: 'd1' })).statusCode).toBe(200);
      expect((await b.login({ user: 'bob', password: 'alice-pw1', device: 'b0' })).statusCode).toBe(200);
      expect(await metric(b.registry, 'el_broker_logins_total', { result: 'device_limit' })).toBe(17);
      // An administrator frees one: a new device fits again.
      const freed = await b.app.inject({ method: 'DELETE', url: '/v1/admin/leases/lan/alice/d0', headers: { authorization: `Bearer ${TOKEN}` } });
      expect(freed.json()).toEqual({ ok: true });
      expect((await b.login({ user: 'alice', password: 'alice-pw1', device: 'x0' })).statusCode).toBe(200);
    } finally {
      await b.app.close();
    }
  });
});

describe('admin token guessing', () => {
  it('lets 10 of 2,000 wrong admin tokens from one address be checked, answers the rest 429 with Retry-After, and counts them', async () => {
    const b = await memoryBroker();
    try {
      const replies = await Promise.all(
        Array.from({ length: 2000 }, (_, i) => b.app.inject({ method: 'GET', url: '/v1/admin/status', headers: { authorization: `Bearer guess-${i}-0123456789abcdef` }, remoteAddress: '198.51.100.7' })),
      );
      expect(statuses(replies)).toEqual({ 401: 10, 429: 1990 });
      expect(replies.find((r) => r.statusCode === 429)!.json().error).toBe('EL_ERR_RATE_LIMITED');
      const later = await b.app.inject({ method: 'GET', url: '/v1/admin/status', headers: { authorization: `Bearer ${TOKEN}` }, remoteAddress: '198.51.100.7' });
      expect(later.statusCode).toBe(429);
      expect(Number(later.headers['retry-after'])).toBeGreaterThan(290);
      expect(await metric(b.registry, 'el_broker_admin_auth_total', { result: 'bad_token' })).toBe(10);
      expect(await metric(b.registry, 'el_broker_admin_auth_total', { result: 'rate_limited' })).toBe(1991);
      expect(await metric(b.registry, 'el_broker_rate_limited_total', { limit: 'admin_source' })).toBe(1991);
      // The operator at another address is not affected, and right tokens do not use the allowance up.
      for (let i = 0; i < 15; i++) expect((await b.app.inject({ method: 'GET', url: '/v1/admin/status', headers: { authorization: `Bearer ${TOKEN}` }, remoteAddress: '203.0.113.5' })).statusCode).toBe(200);
      expect(await metric(b.registry, 'el_broker_admin_auth_total', { result: 'ok' })).toBe(15);
    } finally {
      await b.app.close();
    }
  });
});

describe('cluster secret guessing', () => {
  it('lets 10 wrong cluster secrets from one address be checked, answers the rest 429; a node elsewhere keeps beating', async () => {
    const b = await memoryBroker();
    try {
      const beat = (secret: string, from: string) =>
        b.app.inject({
          method: 'POST',
          url: '/v1/nodes/heartbeat',
          headers: { authorization: `Bearer ${secret}` },
          remoteAddress: from,
          payload: { node: 'sw-1', hosts: ['127.0.0.1'], port: 4443, fingerprint: Array(32).fill('AB').join(':'), capacity: 100, sessions: 0, segments: ['lan'], active: [], draining: false },
        });
      const replies = await Promise.all(Array.from({ length: 200 }, (_, i) => beat(`guess-${i}-0123456789abcdef`, '198.51.100.7')));
      expect(statuses(replies)).toEqual({ 401: 10, 429: 190 });
      expect(Number(replies.find((r) => r.statusCode === 429)!.headers['retry-after'])).toBeGreaterThan(0);
      expect(await metric(b.registry, 'el_broker_rate_limited_total', { limit: 'cluster_source' })).toBe(190);
      expect((await beat(SECRET, '198.51.100.7')).statusCode).toBe(429);
      for (let i = 0; i < 15; i++) expect((await beat(SECRET, '203.0.113.5')).statusCode).toBe(200);
    } finally {
      await b.app.close();
    }
  });
});

describe('challenges', () => {
  it('limits challenges per source and bounds the live ones on the store', async () => {
    const b = await memoryBroker({ rateLimits: { challenges: 5, liveChallenges: 20 } });
    try {
      const get = (from: string) => b.app.inject({ method: 'GET', url: '/v1/challenge', remoteAddress: from });
      for (let i = 0; i < 5; i++) expect((await get('198.51.100.7')).statusCode).toBe(200);
      const sixth = await get('198.51.100.7');
      expect(sixth.statusCode).toBe(429);
      expect(sixth.json().error).toBe('EL_ERR_RATE_LIMITED');
      expect(Number(sixth.headers['retry-after'])).toBeGreaterThan(0);
      // 20 live at most (half per 30 s window): 5 issued, 5 more from others, then none.
      const others = await Promise.all(Array.from({ length: 30 }, (_, i) => get(`203.0.113.${i}`)));
      expect(statuses(others)).toEqual({ 200: 5, 429: 25 });
      expect(await metric(b.registry, 'el_broker_rate_limited_total', { limit: 'challenges' })).toBe(25);
    } finally {
      await b.app.close();
    }
  });
});

describe('content types', () => {
  it('answers a body that is not JSON with 415 EL_ERR_INVALID on every JSON route', async () => {
    const b = await memoryBroker();
    try {
      const auth = (t: string) => ({ authorization: `Bearer ${t}` });
      const routes: Array<{ method: 'POST' | 'PUT'; url: string; headers?: Record<string, string> }> = [
        { method: 'POST', url: '/v1/login' },
        { method: 'POST', url: '/v1/nodes/heartbeat', headers: auth(SECRET) },
        { method: 'POST', url: '/v1/admin/users', headers: auth(TOKEN) },
        { method: 'PUT', url: '/v1/admin/users/alice/password', headers: auth(TOKEN) },
        { method: 'PUT', url: '/v1/admin/users/alice/digest', headers: auth(TOKEN) },
      ];
      for (const r of routes) {
        for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml']) {
          const reply = await b.app.inject({ method: r.method, url: r.url, headers: { ...r.headers, 'content-type': type }, payload: '{"user":"alice","password":"alice-pw1"}' });
          expect(reply.statusCode, `${r.method} ${r.url} ${type}`).toBe(415);
          expect(reply.json()).toEqual({ error: 'EL_ERR_INVALID', message: `content type "${type}" not accepted: send JSON with Content-Type: application/json` });
        }
      }
    } finally {
      await b.app.close();
    }
  });
});

describe.skipIf(!haveRedis)('three brokers on one real redis-server', () => {
  let redis: TestRedis;
  const stores: RedisStore[] = [];
  let brokers: Array<Awaited<ReturnType<typeof broker>>>;
  let n = 0;

  beforeAll(async () => {
    redis = await startTestRedis();
    for (let i = 0; i < 3; i++) {
      const s = new RedisStore({ type: 'redis', url: redis.url });
      expect(await s.waitReady()).toBe(true);
      stores.push(s);
    }
    await stores[0]!.putUser({ name: 'alice', passwordHash: aliceHash, segments: ['lan'] });
    await stores[0]!.putUser({ name: 'carol', passwordHash: aliceHash, segments: ['lan'] });
    brokers = await Promise.all(stores.map((s) => broker(s, { rateLimits: { perUserTotal: 30 } })));
  });
  afterAll(async () => {
    for (const b of brokers ?? []) await b.app.close();
    for (const s of stores) await s.close();
    await redis?.destroy();
  });

  const total = async () => (await Promise.all(brokers.map((b) => hashes(b.registry)))).reduce((a, x) => a + x, 0);

  it('checks at most 10 of 300 concurrent wrong passwords for one user from one address, spread over 3 brokers', async () => {
    const before = await total();
    const from = `198.51.100.${n++}`;
    const replies = await Promise.all(Array.from({ length: 300 }, (_, i) => brokers[i % 3]!.login({ user: 'alice', password: 'wrong-pw' }, from)));
    expect((await total()) - before).toBe(10);
    expect(statuses(replies)).toEqual({ 401: 10, 429: 290 });
  });

  it('checks at most 50 of 300 concurrent wrong passwords for 300 users from one address, spread over 3 brokers', async () => {
    const before = await total();
    const from = `198.51.100.${n++}`;
    const replies = await Promise.all(Array.from({ length: 300 }, (_, i) => brokers[i % 3]!.login({ user: `u${i}`, password: 'wrong-pw' }, from)));
    expect((await total()) - before).toBe(50);
    expect(statuses(replies)).toEqual({ 401: 50, 429: 250 });
  });

  it('checks at most perUserTotal of 300 concurrent wrong passwords for one user from 300 addresses; the remembered device still logs in', async () => {
    const ok = await brokers[0]!.login({ user: 'carol', password: 'alice-pw1', device: 'laptop' }, '192.0.2.1');
    expect(ok.statusCode).toBe(200);
    const before = await total();
    const replies = await Promise.all(Array.from({ length: 300 }, (_, i) => brokers[i % 3]!.login({ user: 'carol', password: 'wrong-pw' }, `10.9.${i >> 8}.${i & 255}`)));
    expect((await total()) - before).toBe(30);
    expect(statuses(replies)).toEqual({ 401: 30, 429: 270 });
    expect((await brokers[2]!.login({ user: 'carol', password: 'alice-pw1', device: 'laptop', remember: ok.json().remember }, '192.0.2.2')).statusCode).toBe(200);
    expect((await brokers[1]!.login({ user: 'carol', password: 'alice-pw1', device: 'tablet' }, '192.0.2.3')).statusCode).toBe(429);
  });

  it('answers a login 503 EL_ERR_UNAVAILABLE while Redis hangs (SIGSTOP), and 200 again on SIGCONT', async () => {
    redis.pause();
    let waited: number;
    let reply;
    try {
      const t0 = performance.now();
      reply = await brokers[0]!.login({ user: 'alice', password: 'alice-pw1', device: 'laptop2' }, '192.0.2.9');
      waited = performance.now() - t0;
    } finally {
      redis.resume();
    }
    expect(reply.statusCode).toBe(503);
    expect(reply.json().error).toBe('EL_ERR_UNAVAILABLE');
    if (process.env.ELINK_MEASURE) console.log(`hung Redis: login answered 503 after ${waited.toFixed(0)} ms`);
    expect((await brokers[0]!.login({ user: 'alice', password: 'alice-pw1', device: 'laptop2' }, '192.0.2.9')).statusCode).toBe(200);
  });
});
