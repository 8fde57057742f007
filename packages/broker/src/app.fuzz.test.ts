/**
 * Property-based tests of the broker's request bodies: every route that takes a body
 * (the POST routes and the admin PUTs) of the real fastify app, driven through
 * app.inject with arbitrary JSON values, near-valid bodies with fields replaced by
 * anything, and arbitrary bytes under arbitrary content types. Whatever arrives, the
 * answer is a success or a 4xx whose body carries an EL_ERR_* code — never a 500,
 * never an error in the log, never a crash. fast-check prints the seed on failure.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { Writable } from 'node:stream';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { generateKeyPairSync } from 'node:crypto';
import { generateTicketKeyPair, isErrorCode, rawDeviceKey, segmentSchema, signDeviceLogin } from '@elink/protocol';
import { createBrokerApp } from './app.js';
import { KeyRing } from './keyring.js';
import { hashPassword } from './password.js';
import { MemoryStore } from './store/memory-store.js';

const SECRET = 'cluster-secret-0123456789';
const TOKEN = 'admin-token-0123456789abcdef';
/** alice's tablet has a registered key (beforeAll): its signed sample logs in. */
const tablet = generateKeyPairSync('ed25519');
const deviceFields = { user: 'alice', device: 'tablet', segment: 'lan', time: Math.floor(Date.now() / 1000), nonce: 'n'.repeat(22) };

interface Route {
  method: 'POST' | 'PUT';
  url: string;
  auth?: string;
  /** A body that passes the schema, whose fields the fuzzer replaces. */
  sample: Record<string, unknown>;
}

const routes: Route[] = [
  { method: 'POST', url: '/v1/login', sample: { user: 'alice', password: 'alice-pw1', segment: 'lan', device: 'phone', prefix: false } },
  { method: 'POST', url: '/v1/login', sample: { user: 'alice', challenge: '0123456789abcdef0123456789abcdef', digest: '0123456789ABCDEF0123456789abcdef' } },
  {
    method: 'POST',
    url: '/v1/nodes/heartbeat',
    auth: SECRET,
    sample: { node: 'sw-1', hosts: ['127.0.0.1'], port: 4443, fingerprint: Array(32).fill('AB').join(':'), capacity: 100, sessions: 0, segments: ['lan'], active: [], draining: false },
  },
  { method: 'POST', url: '/v1/login', sample: { user: 'alice', password: 'alice-pw1', device: 'laptop', deviceKey: rawDeviceKey(generateKeyPairSync('ed25519').publicKey) } },
  { method: 'POST', url: '/v1/login/device', sample: { ...deviceFields, signature: signDeviceLogin(tablet.privateKey, deviceFields) } },
  // bob's: revoking alice's tablet would turn the device-login sample into a 401.
  { method: 'POST', url: '/v1/admin/revocations', auth: TOKEN, sample: { user: 'bob', device: 'tablet' } },
  { method: 'POST', url: '/v1/admin/users', auth: TOKEN, sample: { name: 'carol', password: 'carol-pw1', segments: ['lan'], macs: 4 } },
  { method: 'PUT', url: '/v1/admin/users/bob/password', auth: TOKEN, sample: { password: 'bob-pw-new1' } },
  { method: 'PUT', url: '/v1/admin/users/bob/digest', auth: TOKEN, sample: { secret: 'legacy-secret' } },
];

const routeArb = fc.constantFrom(...routes);
/** Values that stress a JSON schema: wrong types, edge numbers, long and odd strings. */
const wildValue = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(null, true, 0, -1, 1.5, 2 ** 53, -(2 ** 31), 65536, '', ' ', '\u0000', '__proto__', 'x'.repeat(5000), [], {}, [[]], { __proto__: 1 }),
  fc.string({ unit: 'binary', maxLength: 300 }),
);
const keyArb = fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('__proto__', 'constructor', 'prototype', 'user', 'password', 'node'));

describe('broker request bodies under arbitrary input (fast-check)', () => {
  let app: FastifyInstance;
  const errorLines: string[] = [];

  beforeAll(async () => {
    const store = new MemoryStore();
    // Cheap hashes: the fuzzer logs in hundreds of times; the cost parameter is not under test.
    await store.putUser({ name: 'alice', passwordHash: await hashPassword('alice-pw1', { ln: 10, r: 8, p: 1 }), segments: ['lan'], digestSecret: 'legacy-secret' });
    await store.putUser({ name: 'bob', passwordHash: await hashPassword('bob-pw12', { ln: 10, r: 8, p: 1 }), segments: ['lan'] });
    await store.putDeviceKey('alice', 'tablet', rawDeviceKey(tablet.publicKey), 3600);
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString('utf8').split('\n')) if (line && (JSON.parse(line) as { level: number }).level >= 50) errorLines.push(line);
        done();
      },
    });
    app = await createBrokerApp({
      segments: [segmentSchema.parse({ name: 'lan', mode: 'l3', ipv4: { pool: '198.19.0.0/24' }, ipv6: { pool: 'fd00:e1::/64' }, delegation: { ipv6: { pool: 'fd00:e1:100::/48', length: 56 } } })],
      store,
      keys: new KeyRing(generateTicketKeyPair().privateKey),
      logger: pino({ level: 'warn' }, sink),
      nodes: () => [{ node: 'sw-1', host: '127.0.0.1', port: 4443, segments: ['lan'] }],
      clusterSecret: SECRET,
      adminToken: TOKEN,
      // High limits: the rate limiter is tested elsewhere; here it would answer 429 to everything.
      rateLimits: { perUser: 1_000_000, perAddress: 1_000_000, perUserTotal: 1_000_000, challenges: 1_000_000, admin: 1_000_000, windowSeconds: 60 },
    });
  });
  afterAll(async () => app?.close());

  /** "METHOD url" of every request that succeeded: the near-valid bodies must reach the handlers. */
  const succeeded = new Set<string>();
  async function expectCoded(res: { statusCode: number; body: string }, what: string): Promise<void> {
    if (res.statusCode < 300) succeeded.add(what.split(' ').slice(0, 2).join(' '));
    expect(res.statusCode, `${what} → ${res.statusCode} ${res.body}`).toBeLessThan(500);
    expect(res.statusCode).toBeGreaterThanOrEqual(200);
    if (res.statusCode >= 400) {
      const body = JSON.parse(res.body) as { error?: unknown; message?: unknown };
      expect(isErrorCode(body.error), `${what} → ${res.body}`).toBe(true);
      expect(typeof body.message).toBe('string');
    }
    expect(errorLines).toEqual([]);
  }

  it('arbitrary JSON values as the body: a success or a coded 4xx', async () => {
    await fc.assert(
      fc.asyncProperty(routeArb, fc.jsonValue({ maxDepth: 4 }), fc.boolean(), async (route, body, authorized) => {
        const res = await app.inject({
          method: route.method,
          url: route.url,
          headers: { 'content-type': 'application/json', ...(route.auth && authorized ? { authorization: `Bearer ${route.auth}` } : {}) },
          payload: JSON.stringify(body) ?? 'null',
        });
        await expectCoded(res, `${route.method} ${route.url}`);
      }),
      { numRuns: 300 },
    );
  });

  it('a valid body, as is or with fields replaced, removed or added: a success or a coded 4xx', async () => {
    const edit = fc.array(fc.oneof(fc.record({ op: fc.constant('set' as const), at: fc.nat(), value: wildValue }), fc.record({ op: fc.constant('drop' as const), at: fc.nat() }), fc.record({ op: fc.constant('add' as const), key: keyArb, value: wildValue })), { minLength: 0, maxLength: 3 });
    succeeded.clear();
    await fc.assert(
      fc.asyncProperty(routeArb, edit, async (route, edits) => {
        const body: Record<string, unknown> = { ...route.sample };
        for (const e of edits) {
          const keys = Object.keys(body);
          if (e.op === 'add') Object.defineProperty(body, e.key, { value: e.value, enumerable: true, writable: true, configurable: true });
          else if (keys.length === 0) continue;
          else if (e.op === 'set') body[keys[e.at % keys.length]] = e.value;
          else delete body[keys[e.at % keys.length]];
        }
        const res = await app.inject({ method: route.method, url: route.url, headers: { 'content-type': 'application/json', ...(route.auth ? { authorization: `Bearer ${route.auth}` } : {}) }, payload: JSON.stringify(body) });
        await expectCoded(res, `${route.method} ${route.url} ${JSON.stringify(body).slice(0, 200)}`);
      }),
      { numRuns: 300 },
    );
    // Unedited samples are valid: every route's handler ran, not only its schema check.
    expect([...succeeded].sort()).toEqual([...new Set(routes.map((r) => `${r.method} ${r.url}`))].sort());
  });

  it('arbitrary bytes under arbitrary content types (and none): a coded 4xx', async () => {
    const contentType = fc.oneof(
      fc.constantFrom('application/json', 'application/json; charset=utf-8', 'application/json; charset=latin1', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/octet-stream', '*/*', ';', 'application/json;;', 'APPLICATION/JSON'),
      fc.string({ maxLength: 60 }).filter((s) => /^[\t\x20-\x7e]*$/.test(s)),
      fc.constant(undefined),
    );
    const bytes = fc.oneof(fc.uint8Array({ maxLength: 400 }), fc.string({ unit: 'binary', maxLength: 200 }).map((s) => new Uint8Array(Buffer.from(s))), fc.constant(new Uint8Array(20 * 1024).fill(0x7b)));
    await fc.assert(
      fc.asyncProperty(routeArb, contentType, bytes, async (route, type, payload) => {
        const headers: Record<string, string> = route.auth ? { authorization: `Bearer ${route.auth}` } : {};
        if (type !== undefined) headers['content-type'] = type;
        const res = await app.inject({ method: route.method, url: route.url, headers, payload: Buffer.from(payload) });
        // Bytes that happen to be a valid body are vanishingly rare; anything else is a 4xx.
        await expectCoded(res, `${route.method} ${route.url} (${type ?? 'no content type'})`);
        if (res.statusCode < 400) expect(JSON.parse(Buffer.from(payload).toString('utf8'))).toBeTypeOf('object');
      }),
      { numRuns: 300 },
    );
  });
});
