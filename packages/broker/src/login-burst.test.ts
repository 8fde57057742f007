/**
 * A login burst through the real app (fastify inject, a MemoryStore): a node died and its
 * clients log in again, by password and by device key, all before any survivor's next
 * heartbeat. The first server of each reply (the node the client tries first) follows the
 * projected load: the segment's node until AFFINITY_MAX_LOAD, then spread, never past
 * capacity, never a stale or draining node.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { generateTicketKeyPair, rawDeviceKey, segmentSchema, signDeviceLogin } from '@elink/protocol';
import { createBrokerApp } from './app.js';
import { KeyRing } from './keyring.js';
import { AFFINITY_MAX_LOAD } from './node-registry.js';
import { hashPassword } from './password.js';
import { MemoryStore } from './store/memory-store.js';

const SECRET = 'cluster-secret-0123456789abcdef';
// A user may have 8 devices with a lease in a segment.
const USERS = 20;
const DEVICES = 8;

describe('a login burst between heartbeats', () => {
  it('fills the segment node up to AFFINITY_MAX_LOAD, spreads the rest, keeps capacity, skips stale and draining nodes', async () => {
    const clock = { t: Date.now() };
    const store = new MemoryStore({ now: () => clock.t });
    const passwordHash = await hashPassword('burst-pw1', { ln: 10, r: 8, p: 1 });
    const key = generateKeyPairSync('ed25519');
    for (let u = 0; u < USERS; u++) {
      await store.putUser({ name: `u${u}`, passwordHash, segments: ['lan'] });
      for (let d = 0; d < DEVICES; d++) await store.putDeviceKey(`u${u}`, `d${d}`, rawDeviceKey(key.publicKey), 3600);
    }
    const app = await createBrokerApp({
      segments: [segmentSchema.parse({ name: 'lan', ipv4: { pool: '198.19.0.0/24' } })],
      store,
      keys: new KeyRing(generateTicketKeyPair().privateKey),
      logger: pino({ level: 'silent' }),
      clusterSecret: SECRET,
      // A burst from one address: the failure limits are not the subject here.
      rateLimits: { perUser: 1000, perAddress: 1000, perUserTotal: 1000 },
      now: () => clock.t,
    });
    const beat = (node: string, body: Record<string, unknown>) =>
      app.inject({ method: 'POST', url: '/v1/nodes/heartbeat', headers: { authorization: `Bearer ${SECRET}` }, payload: { node, hosts: ['127.0.0.1'], port: 4443, capacity: 100, sessions: 0, segments: ['lan'], active: [], draining: false, ...body } });
    const password = (u: number, d: number) => app.inject({ method: 'POST', url: '/v1/login', payload: { user: `u${u}`, password: 'burst-pw1', device: `d${d}` } });
    const device = (u: number, d: number) => {
      const fields = { user: `u${u}`, device: `d${d}`, time: Math.floor(clock.t / 1000), nonce: randomBytes(16).toString('base64url') };
      return app.inject({ method: 'POST', url: '/v1/login/device', payload: { ...fields, signature: signDeviceLogin(key.privateKey, fields) } });
    };
    try {
      expect((await beat('stale', {})).statusCode).toBe(200);
      clock.t += 16_000;
      for (const [node, body] of [
        ['home', { sessions: 40, active: ['lan'], segmentSessions: { lan: 40 } }],
        ['a', { sessions: 60 }],
        ['b', { sessions: 60 }],
        ['draining', { draining: true }],
      ] as const) expect((await beat(node, body)).statusCode).toBe(200);

      // 160 logins at once, half by password, half by device key: 20 more than the 140 free.
      const replies = await Promise.all(Array.from({ length: USERS * DEVICES }, (_, i) => (i % 2 === 0 ? password : device)(i % USERS, Math.floor(i / USERS))));
      const firsts = new Map<string, number>();
      for (const r of replies) {
        if (r.statusCode === 503) {
          expect(r.json().error).toBe('EL_ERR_NO_NODE');
          firsts.set('none', (firsts.get('none') ?? 0) + 1);
          continue;
        }
        expect(r.statusCode).toBe(200);
        const servers = (r.json() as { servers: { node: string }[] }).servers.map((s) => s.node);
        expect(servers).not.toContain('stale');
        expect(servers).not.toContain('draining');
        firsts.set(servers[0]!, (firsts.get(servers[0]!) ?? 0) + 1);
      }
      // home (the segment's node) up to 95 of 100, then the least loaded, each to 100 and no further.
      expect(Math.ceil(100 * AFFINITY_MAX_LOAD)).toBe(95);
      expect(Object.fromEntries(firsts)).toEqual({ home: 60, a: 40, b: 40, none: 20 });
      // a heartbeats: 70 sessions (30 of the 40 sent have not arrived yet); its count starts afresh.
      clock.t += 1000;
      expect((await beat('a', { sessions: 70 })).statusCode).toBe(200);
      const after = await Promise.all(Array.from({ length: 31 }, (_, i) => device(i % USERS, Math.floor(i / USERS))));
      expect(after.filter((r) => r.statusCode === 200 && r.json().servers[0].node === 'a')).toHaveLength(30);
      expect(after.filter((r) => r.statusCode === 503)).toHaveLength(1);
    } finally {
      await app.close();
    }
  });
});
