import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import * as prom from 'prom-client';
import { createCertificateAuthority, issueServerCertificate } from '@elink/pki';
import { generateTicketKeyPair, segmentSchema, verifyTicket, type TicketKeyPair } from '@elink/protocol';
import { createBrokerApp } from './app.js';
import { MemoryStore } from './store/memory-store.js';
import type { NodeInfo } from './nodes.js';
import { hashPassword } from './password.js';
import { MemoryUserDirectory } from './users.js';

interface Reply {
  status: number;
  body: Record<string, any>;
}

const segments = [
  segmentSchema.parse({ name: 'lan', mode: 'l2', ipv4: { pool: '198.19.0.0/16' }, ipv6: { pool: 'fd00:e1::/64' } }),
  segmentSchema.parse({ name: 'lab', mode: 'l3', ipv4: { pool: '198.19.8.0/29' } }),
  segmentSchema.parse({ name: 'other', ipv4: { pool: '198.19.9.0/24' } }),
  segmentSchema.parse({ name: 'dark', ipv4: { pool: '198.19.10.0/24' } }),
];

const nodes: NodeInfo[] = [
  { node: 'sw-1', host: '127.0.0.1', port: 4443, fingerprint: 'AB:CD', segments: ['lan', 'lab'] },
  { node: 'sw-2', host: '127.0.0.2', port: 4443, segments: ['lan', 'other'] },
];

describe('broker HTTPS API', () => {
  let app: FastifyInstance;
  let port: number;
  let caPem: string;
  let keys: TicketKeyPair;
  const registry = new prom.Registry();
  const logLines: string[] = [];

  function call(method: string, path: string, body?: unknown, raw?: string): Promise<Reply> {
    const payload = raw ?? (body === undefined ? undefined : JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const req = httpsRequest(
        {
          host: '127.0.0.1',
          port,
          method,
          path,
          ca: caPem,
          servername: undefined,
          headers: payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
          timeout: 10_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            try {
              resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) });
            } catch {
              reject(new Error(`non-JSON reply ${res.statusCode}: ${text}`));
            }
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error('request timed out')));
      req.on('error', reject);
      req.end(payload);
    });
  }

  const login = (body: unknown) => call('POST', '/v1/login', body);

  beforeAll(async () => {
    const ca = await createCertificateAuthority('broker test CA');
    const cert = await issueServerCertificate(ca, ['127.0.0.1']);
    caPem = ca.certPem;
    keys = generateTicketKeyPair();
    const users = new MemoryUserDirectory([
      { name: 'alice', passwordHash: await hashPassword('alice-pw'), segments: ['lan', 'lab', 'dark'] },
      { name: 'bob', passwordHash: await hashPassword('bob-pw'), segments: ['lab'] },
      { name: 'carol', passwordHash: await hashPassword('carol-pw'), segments: [] },
    ]);
    const logger = pino(
      { level: 'info' },
      new Writable({
        write(chunk, _enc, done) {
          logLines.push(String(chunk));
          done();
        },
      }),
    );
    app = await createBrokerApp({
      segments,
      users,
      signingKey: keys.privateKey,
      // sw-2 stands for an all-in-one node without an advertise address: it is reached at
      // the address the client reached the broker at.
      nodes: (ctx) => nodes.map((n) => (n.node === 'sw-2' ? { ...n, host: ctx.localAddress ?? 'unknown' } : n)),
      logger,
      registry,
      https: { cert: cert.certPem, key: cert.keyPem },
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await app?.close();
  });

  it('logs in with the default segment and device and returns a ticket the switch accepts', async () => {
    const r = await login({ user: 'alice', password: 'alice-pw' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      segment: 'lan',
      mode: 'l2',
      ipv4: '198.19.0.2/16',
      servers: [
        { node: 'sw-1', host: '127.0.0.1', port: 4443, fingerprint: 'AB:CD' },
        { node: 'sw-2', host: '127.0.0.1', port: 4443 },
      ],
    });
    expect(r.body.servers[1]).not.toHaveProperty('fingerprint');
    expect(r.body.ipv6).toMatch(/^fd00:e1:[0-9a-f:]+\/64$/);
    expect(r.body.mac).toMatch(/^[0-9a-f][26ae](:[0-9a-f]{2}){5}$/);
    const claims = verifyTicket(r.body.ticket, [keys.publicKey]);
    expect(claims).toMatchObject({ sub: 'alice', seg: 'lan', mode: 'l2', dev: 'default', mac: r.body.mac, ipv4: r.body.ipv4, ipv6: r.body.ipv6 });
    expect(claims.exp - claims.iat).toBe(60);
    expect(new Date(r.body.expiresAt).getTime()).toBe(claims.exp * 1000);
  });

  it('gives the same user and device the same addresses and MAC, another device different ones', async () => {
    const a1 = await login({ user: 'alice', password: 'alice-pw', device: 'laptop' });
    const a2 = await login({ user: 'alice', password: 'alice-pw', device: 'laptop', segment: 'lan' });
    const phone = await login({ user: 'alice', password: 'alice-pw', device: 'phone' });
    expect([a1.status, a2.status, phone.status]).toEqual([200, 200, 200]);
    expect([a2.body.ipv4, a2.body.ipv6, a2.body.mac]).toEqual([a1.body.ipv4, a1.body.ipv6, a1.body.mac]);
    expect(a2.body.ticket).not.toBe(a1.body.ticket);
    expect(phone.body.ipv4).not.toBe(a1.body.ipv4);
    expect(phone.body.ipv6).not.toBe(a1.body.ipv6);
    expect(phone.body.mac).not.toBe(a1.body.mac);
    expect(verifyTicket(phone.body.ticket, [keys.publicKey]).dev).toBe('phone');
  });

  it('answers a wrong password and an unknown user with the identical 401', async () => {
    const wrong = await login({ user: 'alice', password: 'nope' });
    const unknown = await login({ user: 'mallory', password: 'nope' });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body).toEqual({ error: 'EL_ERR_AUTH', message: 'wrong user name or password' });
    expect(unknown.body).toEqual(wrong.body);
  });

  it('refuses a segment the user may not join (403), even one that exists', async () => {
    const r = await login({ user: 'alice', password: 'alice-pw', segment: 'other' });
    expect(r).toEqual({ status: 403, body: { error: 'EL_ERR_FORBIDDEN', message: 'user "alice" may not join segment "other"' } });
    const none = await login({ user: 'carol', password: 'carol-pw' });
    expect(none.status).toBe(403);
    expect(none.body.error).toBe('EL_ERR_FORBIDDEN');
  });

  it('answers 404 EL_ERR_NO_SEGMENT for a segment that does not exist', async () => {
    const r = await login({ user: 'alice', password: 'alice-pw', segment: 'nowhere' });
    expect(r).toEqual({ status: 404, body: { error: 'EL_ERR_NO_SEGMENT', message: 'no segment "nowhere"' } });
  });

  it('tells the node list the address the client reached the broker at', async () => {
    const r = await login({ user: 'alice', password: 'alice-pw', segment: 'lan' });
    expect(r.status).toBe(200);
    expect(r.body.servers.map((s: { node: string; host: string }) => [s.node, s.host])).toEqual([
      ['sw-1', '127.0.0.1'],
      ['sw-2', '127.0.0.1'],
    ]);
  });

  it('answers 503 EL_ERR_NO_NODE when no switch node hosts the segment', async () => {
    const r = await login({ user: 'alice', password: 'alice-pw', segment: 'dark' });
    expect(r.status).toBe(503);
    expect(r.body.error).toBe('EL_ERR_NO_NODE');
  });

  it('lists only the nodes hosting the segment and reports the segment mode', async () => {
    const r = await login({ user: 'bob', password: 'bob-pw' });
    expect(r.status).toBe(200);
    expect(r.body.segment).toBe('lab');
    expect(r.body.mode).toBe('l3');
    expect(r.body.servers.map((s: { node: string }) => s.node)).toEqual(['sw-1']);
    expect(r.body.ipv4).toBe('198.19.8.2/29');
    expect(r.body).not.toHaveProperty('ipv6');
  });

  it('answers 503 EL_ERR_POOL_EXHAUSTED once the /29 is used up, and keeps earlier leases', async () => {
    // bob holds .2; four more devices take .3-.6.
    for (let i = 0; i < 4; i++) {
      const r = await login({ user: 'bob', password: 'bob-pw', device: `d${i}` });
      expect(r.body.ipv4).toBe(`198.19.8.${3 + i}/29`);
    }
    const full = await login({ user: 'bob', password: 'bob-pw', device: 'one-too-many' });
    expect(full.status).toBe(503);
    expect(full.body.error).toBe('EL_ERR_POOL_EXHAUSTED');
    const again = await login({ user: 'bob', password: 'bob-pw' });
    expect(again.body.ipv4).toBe('198.19.8.2/29');
  });

  it('rejects malformed bodies with 400 EL_ERR_INVALID in the same error shape', async () => {
    const bodies: unknown[] = [
      {},
      { user: 'alice' },
      { user: 'alice', password: 'alice-pw', extra: true },
      { user: 42, password: 'alice-pw' },
      { user: '', password: 'alice-pw' },
      { user: 'x'.repeat(129), password: 'alice-pw' },
      { user: 'alice', password: 'alice-pw', segment: 'Bad Name' },
      { user: 'alice', password: 'alice-pw', device: '' },
      [],
    ];
    for (const body of bodies) {
      const r = await login(body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error).toBe('EL_ERR_INVALID');
      expect(typeof r.body.message).toBe('string');
      expect(Object.keys(r.body).sort()).toEqual(['error', 'message']);
    }
    const notJson = await call('POST', '/v1/login', undefined, '{"user": ');
    expect(notJson.status).toBe(400);
    expect(notJson.body.error).toBe('EL_ERR_INVALID');
    const huge = await call('POST', '/v1/login', undefined, JSON.stringify({ user: 'alice', password: 'p'.repeat(20_000) }));
    expect(huge.status).toBe(413);
    expect(huge.body.error).toBe('EL_ERR_INVALID');
  });

  it('answers unknown routes with the error shape', async () => {
    const r = await call('GET', '/v1/nothing');
    expect(r).toEqual({ status: 404, body: { error: 'EL_ERR_INVALID', message: 'no route GET /v1/nothing' } });
  });

  it('reports health and readiness', async () => {
    expect(await call('GET', '/healthz')).toEqual({ status: 200, body: { status: 'ok' } });
    expect(await call('GET', '/readyz')).toEqual({ status: 200, body: { status: 'ok' } });
  });

  it('counts logins by result and leases per segment in the registry', async () => {
    const text = await registry.metrics();
    const value = (series: string) => {
      const line = text.split('\n').find((l) => l.startsWith(`${series} `));
      return line === undefined ? undefined : Number(line.split(' ')[1]);
    };
    // Tally of the tests above; the histogram times the 18 logins that passed the schema.
    expect(value('el_broker_logins_total{result="ok"}')).toBe(11);
    expect(value('el_broker_logins_total{result="bad_credentials"}')).toBe(2);
    expect(value('el_broker_logins_total{result="forbidden"}')).toBe(2);
    expect(value('el_broker_logins_total{result="no_segment"}')).toBe(1);
    expect(value('el_broker_logins_total{result="no_node"}')).toBe(1);
    expect(value('el_broker_logins_total{result="pool_exhausted"}')).toBe(1);
    expect(value('el_broker_logins_total{result="invalid"}')).toBe(11);
    expect(value('el_broker_logins_total{result="internal"}')).toBe(0);
    expect(value('el_broker_login_duration_seconds_count')).toBe(18);
    expect(value('el_broker_leases{segment="lan"}')).toBe(3);
    expect(value('el_broker_leases{segment="lab"}')).toBe(5);
    expect(value('el_broker_leases{segment="dark"}')).toBe(0);
  });

  it('never writes a password to the log', () => {
    const all = logLines.join('');
    expect(all).toContain('login ok');
    expect(all).not.toContain('alice-pw');
    expect(all).not.toContain('bob-pw');
  });
});

describe('broker readiness', () => {
  it('answers 503 when the lease store does not answer', async () => {
    const keys = generateTicketKeyPair();
    class BrokenStore extends MemoryStore {
      override async ping(): Promise<void> {
        throw new Error('connection refused');
      }
    }
    const app = await createBrokerApp({
      segments,
      users: new MemoryUserDirectory([]),
      store: new BrokenStore(),
      signingKey: keys.privateKey,
      nodes: () => nodes,
      logger: pino({ level: 'silent' }),
    });
    try {
      const r = await app.inject({ method: 'GET', url: '/readyz' });
      expect(r.statusCode).toBe(503);
      expect(r.json()).toEqual({ status: 'unavailable', error: 'EL_ERR_UNAVAILABLE', message: 'a store failed: connection refused' });
      expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });
});

describe('broker configuration', () => {
  it('refuses a segment defined twice with EL_ERR_CONFIG', async () => {
    await expect(
      createBrokerApp({
        segments: [segments[0], segments[0]],
        users: new MemoryUserDirectory([]),
        signingKey: generateTicketKeyPair().privateKey,
        nodes: () => nodes,
        logger: pino({ level: 'silent' }),
      }),
    ).rejects.toMatchObject({ code: 'EL_ERR_CONFIG', message: 'segment "lan" is defined twice' });
  });
});

describe('broker internal failures', () => {
  it('answers 500 EL_ERR_INTERNAL without details when the user directory fails, and counts result="internal"', async () => {
    const keys = generateTicketKeyPair();
    const registry = new prom.Registry();
    const app = await createBrokerApp({
      segments,
      users: { get: async () => Promise.reject(new Error('secret backend detail')) },
      signingKey: keys.privateKey,
      nodes: () => nodes,
      logger: pino({ level: 'silent' }),
      registry,
    });
    try {
      const r = await app.inject({ method: 'POST', url: '/v1/login', payload: { user: 'alice', password: 'x' } });
      expect(r.statusCode).toBe(500);
      expect(r.json()).toEqual({ error: 'EL_ERR_INTERNAL', message: 'internal error; the broker log has the details' });
      expect(await registry.metrics()).toContain('el_broker_logins_total{result="internal"} 1');
    } finally {
      await app.close();
    }
  });
});
