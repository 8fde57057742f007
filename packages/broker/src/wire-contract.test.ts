/**
 * The broker's real replies (the fastify app through inject, a MemoryStore) against the
 * contracts of @elink/protocol (http/): every route's 200 reply and the error bodies.
 * `schema.parse(body)` equal to `body` proves both: the reply matches, and it carries
 * no field outside the contract (parse drops unknown fields).
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import {
  adminRevocationsReplySchema,
  adminRevokeReplySchema,
  rawDeviceKey,
  signDeviceLogin,
  adminLeasesReplySchema,
  adminNodeSessionsReplySchema,
  adminNodesReplySchema,
  adminOkReplySchema,
  adminStatusReplySchema,
  adminUsersReplySchema,
  challengeReplySchema,
  errorBodySchema,
  generateTicketKeyPair,
  healthOkSchema,
  heartbeatReplySchema,
  loginReplySchema,
  segmentSchema,
  type WireSchema,
} from '@elink/protocol';
import { createBrokerApp } from './app.js';
import { digestFor } from './challenge.js';
import { KeyRing } from './keyring.js';
import { hashPassword } from './password.js';
import { MemoryStore } from './store/memory-store.js';

const SECRET = 'cluster-secret-0123456789abcdef';
const TOKEN = 'admin-token-0123456789abcdef';

/** The body, after checking it is exactly a value of the contract. */
function exactly(schema: WireSchema, body: unknown): unknown {
  expect(schema.parse(body)).toEqual(body);
  return body;
}

describe('the broker replies with the protocol contracts', () => {
  it('every route, every error shape', async () => {
    const store = new MemoryStore();
    await store.putUser({ name: 'alice', passwordHash: await hashPassword('alice-pw1', { ln: 10, r: 8, p: 1 }), segments: ['lan'], digestSecret: 'legacy-secret', macs: 4, lan: ['192.168.7.0/24'] });
    const app = await createBrokerApp({
      segments: [segmentSchema.parse({ name: 'lan', mode: 'l3', ipv4: { pool: '198.19.0.0/24' }, ipv6: { pool: 'fd00:e1::/64' }, delegation: { ipv6: { pool: 'fd00:e1:100::/48', length: 56 } } })],
      store,
      keys: new KeyRing(generateTicketKeyPair().privateKey),
      logger: pino({ level: 'silent' }),
      clusterSecret: SECRET,
      adminToken: TOKEN,
    });
    const call = async (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: object, token?: string) => {
      const r = await app.inject({ method, url, ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}), ...(payload ? { payload } : {}) });
      return { status: r.statusCode, body: r.json() as unknown };
    };
    const admin = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: object) => call(method, url, payload, TOKEN);
    try {
      const beat = await call('POST', '/v1/nodes/heartbeat', { node: 'sw-1', hosts: ['127.0.0.1'], port: 4443, fingerprint: Array(32).fill('AB').join(':'), capacity: 100, sessions: 1, segments: ['lan'], active: ['lan'], draining: false }, SECRET);
      expect(beat.status).toBe(200);
      const hb = heartbeatReplySchema.parse(beat.body);
      // The segment definitions pass through whole: the node parses them with segmentSchema.
      expect(segmentSchema.parse(hb.segments[0])).toMatchObject({ name: 'lan', mode: 'l3', delegation: { ipv6: { length: 56 } } });
      expect(beat.body).toEqual(hb);

      const ok = await call('POST', '/v1/login', { user: 'alice', password: 'alice-pw1', device: 'router', prefix: true });
      expect(ok.status).toBe(200);
      expect(exactly(loginReplySchema, ok.body)).toMatchObject({ segment: 'lan', mode: 'l3', servers: [{ node: 'sw-1', port: 4443 }], prefix: expect.stringMatching(/\/56$/) });

      // A device login with the key the password login registered; its ticket is bound to it.
      const device = generateKeyPairSync('ed25519');
      const keyed = await call('POST', '/v1/login', { user: 'alice', password: 'alice-pw1', device: 'phone', deviceKey: rawDeviceKey(device.publicKey) });
      expect(keyed.status).toBe(200);
      exactly(loginReplySchema, keyed.body);
      const fields = { user: 'alice', device: 'phone', time: Math.floor(Date.now() / 1000), nonce: randomBytes(16).toString('base64url') };
      const dev = await call('POST', '/v1/login/device', { ...fields, signature: signDeviceLogin(device.privateKey, fields) });
      expect(dev.status).toBe(200);
      exactly(loginReplySchema, dev.body);

      const ch = await call('GET', '/v1/challenge');
      const { challenge } = exactly(challengeReplySchema, ch.body) as { challenge: string };
      const digest = await call('POST', '/v1/login', { user: 'alice', challenge, digest: digestFor('alice', challenge, 'legacy-secret') });
      expect(digest.status).toBe(200);
      exactly(loginReplySchema, digest.body);

      expect(exactly(adminStatusReplySchema, (await admin('GET', '/v1/admin/status')).body)).toMatchObject({ sessions: 1, leases: { lan: 3 }, keys: 1, store: 'memory' });
      expect(exactly(adminNodesReplySchema, (await admin('GET', '/v1/admin/nodes')).body)).toMatchObject({ nodes: [{ node: 'sw-1', healthy: true }] });
      exactly(adminNodeSessionsReplySchema, (await admin('GET', '/v1/admin/nodes/sw-1/sessions')).body);
      expect(exactly(adminLeasesReplySchema, (await admin('GET', '/v1/admin/leases?segment=lan')).body)).toMatchObject({ count: 3 });
      expect(exactly(adminOkReplySchema, (await admin('POST', '/v1/admin/users', { name: 'carol', password: 'carol-pw1', segments: ['lan'] })).body)).toEqual({ ok: true });
      expect(exactly(adminUsersReplySchema, (await admin('GET', '/v1/admin/users')).body)).toMatchObject({ users: [{ name: 'alice', macs: 4, lan: ['192.168.7.0/24'], digest: true, source: 'store' }, { name: 'carol', digest: false }] });
      exactly(adminOkReplySchema, (await admin('PUT', '/v1/admin/users/carol/password', { password: 'carol-pw2' })).body);
      exactly(adminOkReplySchema, (await admin('PUT', '/v1/admin/users/carol/digest', { secret: 'carol-secret' })).body);
      exactly(adminOkReplySchema, (await admin('DELETE', '/v1/admin/users/carol/digest')).body);
      exactly(adminOkReplySchema, (await admin('DELETE', '/v1/admin/users/carol')).body);
      exactly(adminOkReplySchema, (await admin('DELETE', '/v1/admin/leases/lan/alice/router')).body);
      expect(exactly(adminRevokeReplySchema, (await admin('POST', '/v1/admin/revocations', { user: 'alice', device: 'phone' })).body)).toMatchObject({ keys: 1 });
      expect(exactly(adminRevocationsReplySchema, (await admin('GET', '/v1/admin/revocations')).body)).toMatchObject({ revocations: [{ user: 'alice', device: 'phone' }] });
      // Nodes hear it in the next heartbeat reply.
      const beat2 = await call('POST', '/v1/nodes/heartbeat', { node: 'sw-1', hosts: ['127.0.0.1'], port: 4443, capacity: 100, sessions: 1, segments: ['lan'], active: ['lan'], draining: false }, SECRET);
      expect(exactly(heartbeatReplySchema, beat2.body)).toMatchObject({ revoked: [{ user: 'alice', device: 'phone' }] });
      const again = { ...fields, nonce: randomBytes(16).toString('base64url') };
      const revokedDev = await call('POST', '/v1/login/device', { ...again, signature: signDeviceLogin(device.privateKey, again) });
      expect(revokedDev.status).toBe(401);
      exactly(errorBodySchema, revokedDev.body);
      exactly(adminOkReplySchema, (await admin('DELETE', '/v1/admin/nodes/sw-1')).body);
      exactly(healthOkSchema, (await call('GET', '/healthz')).body);
      exactly(healthOkSchema, (await call('GET', '/readyz')).body);

      // Error bodies: a bad body names the field; every other refusal has the same shape.
      const bad = await call('POST', '/v1/login', { user: 'alice', password: 'alice-pw1', device: '' });
      expect(bad.status).toBe(400);
      expect(exactly(errorBodySchema, bad.body)).toEqual({ error: 'EL_ERR_INVALID', message: expect.stringMatching(/^invalid request: field "device": /) });
      const badBeat = await call('POST', '/v1/nodes/heartbeat', { node: 'sw-1' }, SECRET);
      expect(badBeat.status).toBe(400);
      expect(exactly(errorBodySchema, badBeat.body)).toEqual({ error: 'EL_ERR_INVALID', message: expect.stringMatching(/^invalid request: field "hosts": /) });
      const badUser = await admin('POST', '/v1/admin/users', { name: 'dave', password: 'dave-pw12', segments: ['lan'], role: 'admin' });
      expect(badUser.status).toBe(400);
      expect(exactly(errorBodySchema, badUser.body)).toEqual({ error: 'EL_ERR_INVALID', message: expect.stringMatching(/^invalid request: .*Unrecognized key: "role"/) });
      for (const r of [await call('POST', '/v1/login', { user: 'alice', password: 'wrong-pw' }), await call('GET', '/v1/admin/status', undefined, 'wrong-token-0123456789'), await call('GET', '/v1/nothing'), await admin('GET', '/v1/admin/leases?segment=nowhere')]) {
        expect(r.status).toBeGreaterThanOrEqual(400);
        exactly(errorBodySchema, r.body);
      }
    } finally {
      await app.close();
    }
  });
});
