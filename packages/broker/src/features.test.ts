/**
 * The broker's deployment features through its HTTP API (fastify inject, a MemoryStore
 * with a settable clock): node selection from heartbeats, challenge–response, rate
 * limits, key rotation, delegated prefixes, static assignments, the admin API.
 */
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { createPublicKey } from 'node:crypto';
import { generateTicketKeyPair, keyId, publicKeyFromPem, segmentSchema, verifyTicket } from '@elink/protocol';
import { createBrokerApp } from './app.js';
import { digestFor } from './challenge.js';
import { KeyRing } from './keyring.js';
import { rankNodes } from './node-registry.js';
import { hashPassword } from './password.js';
import { MemoryStore } from './store/memory-store.js';
import type { NodeRecord } from './store/store.js';

const SECRET = 'cluster-secret-0123456789abcdef';
const TOKEN = 'admin-token-0123456789abcdef';
const segments = [
  segmentSchema.parse({ name: 'lan', mode: 'l3', ipv4: { pool: '198.19.0.0/24' }, ipv6: { pool: 'fd00:e1::/64' }, delegation: { ipv6: { pool: 'fd00:e1:100::/48', length: 56 }, ipv4: { pool: '198.19.64.0/26', length: 28 } } }),
  segmentSchema.parse({ name: 'wan', ipv4: { pool: '198.19.1.0/24' } }),
];

async function broker(opts: { keys?: KeyRing; now?: { t: number } } = {}) {
  const clock = opts.now ?? { t: Date.now() };
  const store = new MemoryStore({ now: () => clock.t });
  await store.putUser({ name: 'alice', passwordHash: await hashPassword('alice-pw1'), segments: ['lan', 'wan'], digestSecret: 'legacy-secret' });
  await store.putUser({ name: 'bob', passwordHash: await hashPassword('bob-pw12'), segments: ['lan'] });
  const keys = opts.keys ?? new KeyRing(generateTicketKeyPair().privateKey);
  const app = await createBrokerApp({
    segments,
    store,
    keys,
    logger: pino({ level: 'silent' }),
    clusterSecret: SECRET,
    adminToken: TOKEN,
    statics: [{ segment: 'wan', user: 'alice', device: 'router', ipv4: '198.19.1.200' }],
    rateLimits: { perUser: 3, perAddress: 100, windowSeconds: 60 },
    now: () => clock.t,
  });
  const beat = (body: Record<string, unknown>, secret = SECRET) =>
    app.inject({ method: 'POST', url: '/v1/nodes/heartbeat', headers: { authorization: `Bearer ${secret}` }, payload: { hosts: ['127.0.0.1'], port: 4443, capacity: 100, sessions: 0, segments: ['lan', 'wan'], active: [], draining: false, ...body } });
  const login = (body: Record<string, unknown>) => app.inject({ method: 'POST', url: '/v1/login', payload: body });
  const admin = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown) => app.inject({ method, url, headers: { authorization: `Bearer ${TOKEN}` }, ...(payload ? { payload: payload as object } : {}) });
  return { app, store, keys, clock, beat, login, admin };
}

const rec = (node: string, x: Partial<NodeRecord>): NodeRecord => ({ node, hosts: [node], port: 1, capacity: 10, sessions: 0, segments: ['s'], active: [], draining: false, seenAt: 1000, ...x });

describe('node selection', () => {
  it('skips stale, draining, full and non-hosting nodes; prefers affinity, then headroom', () => {
    const nodes = [
      rec('stale', { seenAt: -1 }),
      rec('draining', { draining: true }),
      rec('full', { sessions: 10 }),
      rec('other', { segments: ['t'] }),
      rec('busy', { sessions: 8 }),
      rec('idle', { sessions: 1 }),
      rec('affine', { sessions: 9, active: ['s'] }),
    ];
    expect(rankNodes(nodes, 's', 1000 + 14_000, 15).map((n) => n.node)).toEqual(['affine', 'idle', 'busy']);
    expect(rankNodes(nodes, 's', 1000 + 16_000, 15)).toEqual([]);
  });

  it('registers nodes by heartbeat (cluster secret) and lists them in order with their fingerprints', async () => {
    const b = await broker();
    try {
      expect((await b.beat({ node: 'n1' }, 'wrong-secret-0123456789')).statusCode).toBe(401);
      expect((await b.login({ user: 'alice', password: 'alice-pw1' })).json().error).toBe('EL_ERR_NO_NODE');
      const fp = Array(32).fill('AB').join(':');
      const r = await b.beat({ node: 'n1', hosts: ['198.18.0.1', 'sw1.example'], sessions: 50, fingerprint: fp });
      expect(r.statusCode).toBe(200);
      expect(r.json().keys).toHaveLength(1);
      expect(r.json().segments.map((s: { name: string }) => s.name)).toEqual(['lan', 'wan']);
      expect(r.json().segments[0].delegation.ipv6.length).toBe(56);
      await b.beat({ node: 'n2', sessions: 10 });
      await b.beat({ node: 'n3', draining: true });
      const servers = (await b.login({ user: 'alice', password: 'alice-pw1' })).json().servers;
      expect(servers.map((s: { node: string; host: string }) => `${s.node} ${s.host}`)).toEqual(['n2 127.0.0.1', 'n1 198.18.0.1', 'n1 sw1.example']);
      expect(servers[1].fingerprint).toBe(fp);
      // n2 stops heartbeating: after 15 s it is no longer offered.
      b.clock.t += 10_000;
      await b.beat({ node: 'n1', hosts: ['198.18.0.1'], sessions: 50 });
      b.clock.t += 6_000;
      expect((await b.login({ user: 'alice', password: 'alice-pw1' })).json().servers.map((s: { node: string }) => s.node)).toEqual(['n1']);
      const nodes = (await b.admin('GET', '/v1/admin/nodes')).json().nodes;
      expect(nodes.map((n: { node: string; healthy: boolean }) => `${n.node}:${n.healthy}`)).toEqual(['n1:true', 'n2:false', 'n3:false']);
      expect((await b.admin('GET', '/v1/admin/nodes/n1/sessions')).json()).toMatchObject({ node: 'n1', sessions: 50, capacity: 100, healthy: true });
    } finally {
      await b.app.close();
    }
  });
});

describe('challenge–response login', () => {
  it('accepts hex(MD5(user + challenge + secret)) in either case, once, and only before expiry', async () => {
    const b = await broker();
    try {
      await b.beat({ node: 'n1' });
      const c1 = (await b.app.inject({ method: 'GET', url: '/v1/challenge' })).json().challenge as string;
      expect(c1).toMatch(/^[0-9a-f]{32}$/);
      const digest = digestFor('alice', c1, 'legacy-secret').toUpperCase();
      const ok = await b.login({ user: 'alice', challenge: c1, digest, segment: 'lan' });
      expect(ok.statusCode).toBe(200);
      // Replayed: the challenge was spent.
      const replay = await b.login({ user: 'alice', challenge: c1, digest });
      expect(replay.statusCode).toBe(401);
      expect(replay.json().error).toBe('EL_ERR_AUTH');
      // Expired.
      const c2 = (await b.app.inject({ method: 'GET', url: '/v1/challenge' })).json().challenge as string;
      b.clock.t += 31_000;
      expect((await b.login({ user: 'alice', challenge: c2, digest: digestFor('alice', c2, 'legacy-secret') })).statusCode).toBe(401);
      // A user without a digest secret cannot use it, even with a "right" digest of the empty secret.
      const c3 = (await b.app.inject({ method: 'GET', url: '/v1/challenge' })).json().challenge as string;
      expect((await b.login({ user: 'bob', challenge: c3, digest: digestFor('bob', c3, '') })).statusCode).toBe(401);
      // Password and challenge together are refused by the schema.
      expect((await b.login({ user: 'alice', password: 'x', challenge: c3, digest: digestFor('alice', c3, 'x') })).statusCode).toBe(400);
    } finally {
      await b.app.close();
    }
  });
});

describe('rate limits', () => {
  it('answers 429 with Retry-After after 3 failures for a user, even with the right password, until the window ends', async () => {
    const b = await broker();
    try {
      await b.beat({ node: 'n1' });
      for (let i = 0; i < 3; i++) expect((await b.login({ user: 'bob', password: 'nope-nope' })).statusCode).toBe(401);
      const limited = await b.login({ user: 'bob', password: 'bob-pw12' });
      expect(limited.statusCode).toBe(429);
      expect(limited.json().error).toBe('EL_ERR_RATE_LIMITED');
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(50);
      // Other users are not affected.
      expect((await b.login({ user: 'alice', password: 'alice-pw1' })).statusCode).toBe(200);
      b.clock.t += 61_000;
      await b.beat({ node: 'n1' });
      expect((await b.login({ user: 'bob', password: 'bob-pw12' })).statusCode).toBe(200);
    } finally {
      await b.app.close();
    }
  });
});

describe('key rotation', () => {
  it('publishes old and new keys together; tickets signed before and after verify with the published list', async () => {
    const old = generateTicketKeyPair();
    const next = generateTicketKeyPair();
    const ring = new KeyRing(old.privateKey);
    const b = await broker({ keys: ring });
    try {
      const before = (await b.beat({ node: 'n1' })).json().keys.map(publicKeyFromPem);
      expect(before.map(keyId)).toEqual([keyId(old.publicKey)]);
      const t1 = (await b.login({ user: 'alice', password: 'alice-pw1' })).json().ticket;
      ring.rotate(next.privateKey);
      const during = (await b.beat({ node: 'n1' })).json().keys.map(publicKeyFromPem);
      expect(during.map(keyId)).toEqual([keyId(next.publicKey), keyId(old.publicKey)]);
      const t2 = (await b.login({ user: 'alice', password: 'alice-pw1' })).json().ticket;
      expect(verifyTicket(t1, during).sub).toBe('alice');
      expect(verifyTicket(t2, during).kid).toBe(keyId(next.publicKey));
      expect(() => verifyTicket(t2, [old.publicKey])).toThrow(/signature/);
      ring.retire();
      expect((await b.beat({ node: 'n1' })).json().keys.map((p: string) => keyId(publicKeyFromPem(p)))).toEqual([keyId(createPublicKey(next.privateKey))]);
    } finally {
      await b.app.close();
    }
  });
});

describe('addresses', () => {
  it('delegates a sticky prefix per user+device when asked, into the ticket and the reply', async () => {
    const b = await broker();
    try {
      await b.beat({ node: 'n1' });
      const r1 = (await b.login({ user: 'alice', password: 'alice-pw1', segment: 'lan', device: 'cpe', prefix: true })).json();
      expect(r1.prefix).toBe('fd00:e1:100::/56');
      expect(r1.prefix4).toBe('198.19.64.0/28');
      const claims = verifyTicket(r1.ticket, b.keys.publicKeys());
      expect(claims.prefix).toBe('fd00:e1:100::/56');
      expect(claims.prefix4).toBe('198.19.64.0/28');
      const r2 = (await b.login({ user: 'bob', password: 'bob-pw12', device: 'cpe', prefix: true })).json();
      expect(r2.prefix).toBe('fd00:e1:100:100::/56');
      expect(r2.prefix4).toBe('198.19.64.16/28');
      const again = (await b.login({ user: 'alice', password: 'alice-pw1', segment: 'lan', device: 'cpe', prefix: true })).json();
      expect([again.prefix, again.prefix4, again.ipv4]).toEqual([r1.prefix, r1.prefix4, r1.ipv4]);
      // Without asking, no prefix.
      expect((await b.login({ user: 'bob', password: 'bob-pw12', device: 'phone' })).json().prefix).toBeUndefined();
      // 4 IPv4 /28s in a /26: the fifth device is refused, never given a duplicate.
      for (const d of ['a', 'b']) expect((await b.login({ user: 'bob', password: 'bob-pw12', device: d, prefix: true })).statusCode).toBe(200);
      const full = await b.login({ user: 'bob', password: 'bob-pw12', device: 'c', prefix: true });
      expect(full.statusCode).toBe(503);
      expect(full.json().error).toBe('EL_ERR_POOL_EXHAUSTED');
    } finally {
      await b.app.close();
    }
  });

  it('gives a static assignment its address (taken from a dynamic holder) and never to anyone else', async () => {
    const b = await broker();
    try {
      await b.beat({ node: 'n1' });
      // A dynamic lease that happens to hold the address (say, before the static entry was configured).
      await b.store.claim('wan', JSON.stringify(['bob', 'x']), 'ipv4', '198.19.1.200', 3600);
      const r = (await b.login({ user: 'alice', password: 'alice-pw1', segment: 'wan', device: 'router' })).json();
      expect(r.ipv4).toBe('198.19.1.200/24');
      expect((await b.store.get('wan', JSON.stringify(['bob', 'x'])))?.ipv4).toBeUndefined();
      const other = (await b.login({ user: 'alice', password: 'alice-pw1', segment: 'wan', device: 'laptop' })).json();
      expect(other.ipv4).not.toBe('198.19.1.200/24');
    } finally {
      await b.app.close();
    }
  });

  it('keeps a lease while the device logs in within the idle time, and lets it go after', async () => {
    const clock = { t: Date.now() };
    const b = await broker({ now: clock });
    try {
      await b.beat({ node: 'n1' });
      const first = (await b.login({ user: 'bob', password: 'bob-pw12', device: 'd1' })).json().ipv4;
      clock.t += 20 * 86400 * 1000;
      await b.beat({ node: 'n1' });
      expect((await b.login({ user: 'bob', password: 'bob-pw12', device: 'd1' })).json().ipv4).toBe(first);
      clock.t += 20 * 86400 * 1000;
      expect(await b.store.count('lan')).toBe(1);
      clock.t += 11 * 86400 * 1000;
      expect(await b.store.count('lan')).toBe(0);
      expect(await b.store.get('lan', JSON.stringify(['bob', 'd1']))).toBeUndefined();
    } finally {
      await b.app.close();
    }
  });
});

describe('admin API', () => {
  it('refuses a wrong token and manages users, digest secrets and leases', async () => {
    const b = await broker();
    try {
      await b.beat({ node: 'n1' });
      expect((await b.app.inject({ method: 'GET', url: '/v1/admin/users', headers: { authorization: 'Bearer nope' } })).statusCode).toBe(401);
      expect((await b.admin('POST', '/v1/admin/users', { name: 'carol', password: 'carol-pw1', segments: ['lan'] })).statusCode).toBe(200);
      expect((await b.admin('POST', '/v1/admin/users', { name: 'carol', password: 'carol-pw1', segments: ['lan'] })).statusCode).toBe(400);
      expect((await b.admin('POST', '/v1/admin/users', { name: 'dan', password: 'dan-pw123', segments: ['nope'] })).statusCode).toBe(404);
      expect((await b.login({ user: 'carol', password: 'carol-pw1' })).statusCode).toBe(200);
      expect((await b.admin('PUT', '/v1/admin/users/carol/password', { password: 'carol-pw2' })).statusCode).toBe(200);
      expect((await b.login({ user: 'carol', password: 'carol-pw1' })).statusCode).toBe(401);
      expect((await b.login({ user: 'carol', password: 'carol-pw2' })).statusCode).toBe(200);
      expect((await b.admin('PUT', '/v1/admin/users/carol/digest', { secret: 'carol-legacy' })).statusCode).toBe(200);
      const users = (await b.admin('GET', '/v1/admin/users')).json().users;
      expect(users.find((u: { name: string }) => u.name === 'carol')).toEqual({ name: 'carol', segments: ['lan'], digest: true, enabled: true, admin: false, source: 'store' });
      expect(JSON.stringify(users)).not.toMatch(/scrypt|legacy/);
      const leases = (await b.admin('GET', '/v1/admin/leases?segment=lan')).json();
      expect(leases.count).toBe(1);
      expect(leases.leases[0]).toMatchObject({ user: 'carol', device: 'default', ipv4: '198.19.0.2' });
      expect((await b.admin('DELETE', '/v1/admin/leases/lan/carol/default')).json()).toEqual({ ok: true });
      expect((await b.admin('GET', '/v1/admin/leases?segment=lan')).json().count).toBe(0);
      expect((await b.admin('DELETE', '/v1/admin/users/carol')).statusCode).toBe(200);
      expect((await b.login({ user: 'carol', password: 'carol-pw2' })).statusCode).toBe(401);
      const status = (await b.admin('GET', '/v1/admin/status')).json();
      expect(status).toMatchObject({ store: 'memory', keys: 1, leases: { lan: 0, wan: 0 } });
    } finally {
      await b.app.close();
    }
  });

  it('creates a bridge user with LAN ranges for ARP/ND inspection, and refuses one that is not a prefix', async () => {
    const b = await broker();
    try {
      await b.beat({ node: 'n1' });
      expect((await b.admin('POST', '/v1/admin/users', { name: 'gw', password: 'gw-pw1234', segments: ['lan'], macs: 4096, lan: ['192.168.7.0/24'] })).statusCode).toBe(200);
      const users = (await b.admin('GET', '/v1/admin/users')).json().users;
      expect(users.find((u: { name: string }) => u.name === 'gw')).toMatchObject({ macs: 4096, lan: ['192.168.7.0/24'] });
      const login = await b.login({ user: 'gw', password: 'gw-pw1234' });
      expect(login.statusCode).toBe(200);
      const claims = JSON.parse(Buffer.from(login.json().ticket.split('.')[1], 'base64url').toString());
      expect(claims.lan).toEqual(['192.168.7.0/24']);
      const bad = await b.admin('POST', '/v1/admin/users', { name: 'gw2', password: 'gw-pw1234', segments: ['lan'], lan: ['192.168.7.1'] });
      expect(bad.statusCode).toBe(400);
      expect(bad.json()).toMatchObject({ error: 'EL_ERR_INVALID', message: expect.stringContaining('192.168.7.1') });
    } finally {
      await b.app.close();
    }
  });
});

