/**
 * The console's parts on a real broker app: sign-in sessions (bounded, expiring), the
 * cookie-or-bearer check with CSRF, rates from node reports (heartbeats with a settable
 * clock), commands handed out once in heartbeat replies, and the event stream over a real
 * HTTP connection (bounded, and gone when the client goes).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { generateTicketKeyPair, segmentSchema, type NodeReport } from '@elink/protocol';
import { createBrokerApp, type BrokerApp } from '../app.js';
import { KeyRing } from '../keyring.js';
import { hashPassword } from '../password.js';
import { MemoryStore } from '../store/memory-store.js';
import { LiveStats } from './live-stats.js';
import { ConsoleSessions, cookieValue } from './sessions.js';

const SECRET = 'cluster-secret-0123456789abcdef';
const TOKEN = 'admin-token-0123456789abcdef';
const segments = [segmentSchema.parse({ name: 'lan', ipv4: { pool: '198.19.0.0/24' } })];

function report(rx: number, sessions: Array<{ id: string; rx: number; user?: string }> = []): NodeReport {
  return {
    traffic: { rxBytes: rx, txBytes: rx * 2, rxFrames: Math.floor(rx / 100), txFrames: 0 },
    drops: { queue_full: Math.floor(rx / 1000) },
    segments: { lan: { rxBytes: rx, txBytes: 0, rxFrames: 0, txFrames: 0, sessions: sessions.length } },
    sessions: sessions.map((s) => ({ id: s.id, user: s.user ?? 'alice', device: 'd', segment: 'lan', addresses: ['198.19.0.2/24'], since: 1, rxBytes: s.rx, txBytes: 0 })),
    table: sessions.map((s, i) => ({ segment: 'lan', key: `02:00:00:00:00:0${i}`, port: s.id })),
  };
}

const apps: BrokerApp[] = [];
afterEach(async () => {
  for (const a of apps.splice(0)) await a.close();
});

async function broker(over: { maxStreams?: number; maxSessions?: number; statics?: boolean } = {}) {
  const clock = { t: 1_800_000_000_000 };
  const store = new MemoryStore({ now: () => clock.t });
  await store.putUser({ name: 'ops', passwordHash: await hashPassword('ops-pw-123'), segments: ['lan'], admin: true });
  await store.putUser({ name: 'alice', passwordHash: await hashPassword('alice-pw1'), segments: ['lan'] });
  const registry = new Registry();
  const app = await createBrokerApp({ registry, segments, store, keys: new KeyRing(generateTicketKeyPair().privateKey), logger: pino({ level: 'silent' }), clusterSecret: SECRET, adminToken: TOKEN, now: () => clock.t, ...(over.statics ? { nodes: () => [{ node: 'static-1', host: '198.18.0.9', port: 4443, segments: ['lan'] }] } : {}), console: { maxStreams: over.maxStreams ?? 16, maxSessions: over.maxSessions ?? 64 } });
  apps.push(app);
  const beat = (node: string, r: NodeReport) =>
    app.inject({ method: 'POST', url: '/v1/nodes/heartbeat', headers: { authorization: `Bearer ${SECRET}` }, payload: { node, hosts: ['127.0.0.1'], port: 4443, capacity: 100, sessions: r.sessions.length, segments: ['lan'], active: [], draining: false, report: r } });
  const signIn = async (payload: object) => {
    const r = await app.inject({ method: 'POST', url: '/v1/console/login', payload });
    return { status: r.statusCode, cookie: cookieValue(String(r.headers['set-cookie'] ?? ''), 'el_console'), csrf: (r.json() as { csrf?: string }).csrf, body: r.json() as { error?: string } };
  };
  const gauge = async (name: string) => (await registry.getSingleMetric(name)!.get()).values[0]?.value;
  return { app, store, clock, beat, signIn, gauge };
}

describe('console sign-in sessions', () => {
  it('hold at most `max` (the oldest goes) and end after the idle time or the lifetime', () => {
    const clock = { t: 0 };
    const s = new ConsoleSessions({ max: 2, idleSeconds: 60, lifetimeSeconds: 300, now: () => clock.t });
    const a = s.create('token');
    const b = s.create('user:ops');
    const c = s.create('token');
    expect(s.size).toBe(2);
    expect(s.get(a.id)).toBeUndefined();
    expect(s.get(b.id)?.who).toBe('user:ops');
    clock.t += 59_000;
    expect(s.get(b.id)).toBeDefined(); // a request restarts the idle time
    clock.t += 59_000;
    expect(s.get(b.id)).toBeDefined();
    expect(s.get(c.id)).toBeUndefined(); // c was idle for 118 s
    for (let i = 0; i < 3; i++) {
      clock.t += 59_000;
      s.get(b.id);
    }
    clock.t += 59_000;
    expect(s.get(b.id)).toBeUndefined(); // 5 min since sign-in, however busy
    expect(s.get(undefined)).toBeUndefined();
  });
});

describe('console API on the broker', () => {
  it('takes the admin token or an admin user; a non-admin, a wrong password and a wrong token are refused and rate-limited', async () => {
    const b = await broker();
    expect((await b.signIn({ token: TOKEN })).status).toBe(200);
    expect(await b.gauge('el_broker_console_sessions')).toBe(1);
    expect((await b.signIn({ user: 'ops', password: 'ops-pw-123' })).status).toBe(200);
    expect((await b.signIn({ user: 'alice', password: 'alice-pw1' })).status).toBe(401);
    expect((await b.signIn({ user: 'ops', password: 'wrong-pw-1' })).status).toBe(401);
    expect((await b.signIn({ token: 'x'.repeat(30) })).body.error).toBe('EL_ERR_AUTH');
    expect((await b.signIn({ token: TOKEN, user: 'ops' })).status).toBe(400);
    // Failed tokens count per source like the admin API's (default 10 per window).
    let last = 0;
    for (let i = 0; i < 12; i++) last = (await b.signIn({ token: `wrong-${i}-0123456789abcdef` })).status;
    expect(last).toBe(429);
  });

  it('checks the cookie on every admin route, and the CSRF header on every non-GET; logout ends the session', async () => {
    const b = await broker();
    const { cookie, csrf } = await b.signIn({ user: 'ops', password: 'ops-pw-123' });
    const headers = { cookie: `el_console=${cookie}` };
    expect((await b.app.inject({ method: 'GET', url: '/v1/admin/users', headers })).statusCode).toBe(200);
    const noCsrf = await b.app.inject({ method: 'PUT', url: '/v1/admin/users/alice/enabled', headers, payload: { enabled: false } });
    expect(noCsrf.statusCode).toBe(403);
    expect(noCsrf.json().error).toBe('EL_ERR_CSRF');
    expect((await b.store.getUser('alice'))?.disabled).toBeUndefined();
    const ok = await b.app.inject({ method: 'PUT', url: '/v1/admin/users/alice/enabled', headers: { ...headers, 'x-el-csrf': csrf! }, payload: { enabled: false } });
    expect(ok.statusCode).toBe(200);
    expect((await b.store.getUser('alice'))?.disabled).toBe(true);
    expect((await b.app.inject({ method: 'POST', url: '/v1/login', payload: { user: 'alice', password: 'alice-pw1' } })).json().error).toBe('EL_ERR_DISABLED');

    expect((await b.app.inject({ method: 'POST', url: '/v1/console/logout', headers })).statusCode).toBe(403);
    const out = await b.app.inject({ method: 'POST', url: '/v1/console/logout', headers: { ...headers, 'x-el-csrf': csrf! } });
    expect(out.statusCode).toBe(200);
    expect(String(out.headers['set-cookie'])).toContain('Max-Age=0');
    expect((await b.app.inject({ method: 'GET', url: '/v1/admin/users', headers })).statusCode).toBe(401);
    const audit = (await b.app.inject({ method: 'GET', url: '/v1/admin/audit?limit=10', headers: { authorization: `Bearer ${TOKEN}` } })).json().entries as Array<{ who: string; action: string; result: string }>;
    expect(audit.map((e) => `${e.who} ${e.action} ${e.result}`)).toEqual(['user:ops console.logout ok', 'user:ops user.disable ok', 'user:ops user.enabled EL_ERR_CSRF', 'user:ops console.login ok']);
    expect((await b.app.inject({ method: 'GET', url: '/v1/admin/audit?limit=0', headers: { authorization: `Bearer ${TOKEN}` } })).statusCode).toBe(400);
  });

  it('computes rates from two heartbeat reports, per node, segment and session; a counter that went back gives 0', async () => {
    const b = await broker();
    const h = { authorization: `Bearer ${TOKEN}` };
    expect((await b.beat('n1', report(1000, [{ id: 's-1', rx: 100 }]))).statusCode).toBe(200);
    expect((await b.app.inject({ method: 'GET', url: '/v1/admin/overview', headers: h })).json().totals.rxBps).toBe(0);
    b.clock.t += 5000;
    await b.beat('n1', report(51_000, [{ id: 's-1', rx: 25_100 }, { id: 's-2', rx: 7 }]));
    const o = (await b.app.inject({ method: 'GET', url: '/v1/admin/overview', headers: h })).json();
    expect(o.totals).toMatchObject({ rxBps: 10_000, txBps: 20_000, rxPps: 100, sessions: 2, nodes: 1 });
    expect(o.segments[0]).toMatchObject({ name: 'lan', sessions: 2, nodes: 1, pools: [{ cidr: '198.19.0.0/24', used: 0, free: 253 }] });
    const sessions = (await b.app.inject({ method: 'GET', url: '/v1/admin/segments/lan/sessions', headers: h })).json().sessions;
    expect(sessions.find((s: { id: string }) => s.id === 's-1')).toMatchObject({ rxBps: 5000, rxBytes: 25_100, node: 'n1', user: 'alice' });
    expect(sessions.find((s: { id: string }) => s.id === 's-2')).toMatchObject({ rxBps: 0 });
    const detail = (await b.app.inject({ method: 'GET', url: '/v1/admin/sessions/s-1', headers: h })).json();
    expect(detail.history).toEqual([{ t: b.clock.t, rxBps: 5000, txBps: 0 }]);
    const table = (await b.app.inject({ method: 'GET', url: '/v1/admin/segments/lan/table', headers: h })).json();
    expect(table).toEqual({ kind: 'mac', entries: [{ key: '02:00:00:00:00:00', port: 's-1', node: 'n1', user: 'alice' }, { key: '02:00:00:00:00:01', port: 's-2', node: 'n1', user: 'alice' }] });
    // The node restarted: its counters start again from 0.
    b.clock.t += 5000;
    expect((await b.beat('n1', report(10))).statusCode).toBe(200);
    expect((await b.app.inject({ method: 'GET', url: '/v1/admin/overview', headers: h })).json().totals.rxBps).toBe(0);
    expect((await b.app.inject({ method: 'GET', url: '/v1/admin/sessions/s-1', headers: h })).json().error).toBe('EL_ERR_NOT_FOUND');
  });

  it('takes a full node report in a heartbeat, and refuses a body beyond 2 MiB', async () => {
    const b = await broker();
    const full = report(0, Array.from({ length: 1024 }, (_, i) => ({ id: `s-${i}`, rx: i, user: `user-with-a-long-name-${i}` })));
    expect((await b.beat('n1', full)).statusCode).toBe(200);
    const huge = await b.app.inject({ method: 'POST', url: '/v1/nodes/heartbeat', headers: { authorization: `Bearer ${SECRET}`, 'content-type': 'application/json' }, payload: `{"pad":"${'x'.repeat(2 * 1024 * 1024)}"}` });
    expect(huge.statusCode).toBe(413);
    expect(huge.json().error).toBe('EL_ERR_INVALID');
  });

  it('lists static nodes (broker.nodes) apart: in the overview and in /status, with nothing known but their address', async () => {
    const b = await broker({ statics: true });
    const h = { authorization: `Bearer ${TOKEN}` };
    await b.beat('n1', report(0));
    const o = (await b.app.inject({ method: 'GET', url: '/v1/admin/overview', headers: h })).json();
    expect(o.nodes.map((n: { node: string; static: boolean; inProcess: boolean }) => [n.node, n.static, n.inProcess])).toEqual([['n1', false, false], ['static-1', true, false]]);
    expect(o.segments[0].nodes).toBe(2);
    const st = (await b.app.inject({ method: 'GET', url: '/v1/admin/status', headers: h })).json();
    expect(st.static).toEqual([{ node: 'static-1', host: '198.18.0.9', port: 4443 }]);
    expect((await b.app.inject({ method: 'POST', url: '/v1/admin/nodes/static-1/drain', headers: h })).json().error).toBe('EL_ERR_NOT_FOUND');
  });

  it('hands a disconnect and a drain to the node in its next heartbeat reply, once; disabling a user kicks its sessions', async () => {
    const b = await broker();
    const h = { authorization: `Bearer ${TOKEN}` };
    await b.beat('n1', report(0, [{ id: 's-1', rx: 0 }, { id: 's-2', rx: 0, user: 'bob' }]));
    expect((await b.app.inject({ method: 'POST', url: '/v1/admin/sessions/s-9/disconnect', headers: h })).statusCode).toBe(404);
    expect((await b.app.inject({ method: 'POST', url: '/v1/admin/sessions/s-1/disconnect', headers: h })).statusCode).toBe(200);
    expect((await b.app.inject({ method: 'POST', url: '/v1/admin/nodes/n1/drain', headers: h })).statusCode).toBe(200);
    expect((await b.app.inject({ method: 'POST', url: '/v1/admin/nodes/nobody/drain', headers: h })).json().error).toBe('EL_ERR_NOT_FOUND');
    const reply = (await b.beat('n1', report(0, [{ id: 's-2', rx: 0, user: 'bob' }]))).json();
    expect(reply.commands).toEqual([{ type: 'kick', session: 's-1', reason: 'disconnected by an administrator' }, { type: 'drain' }]);
    expect((await b.beat('n1', report(0, [{ id: 's-2', rx: 0, user: 'bob' }]))).json().commands).toBeUndefined();
    await b.store.putUser({ name: 'bob', passwordHash: await hashPassword('bob-pw-123'), segments: ['lan'] });
    expect((await b.app.inject({ method: 'PUT', url: '/v1/admin/users/bob/enabled', headers: h, payload: { enabled: false } })).statusCode).toBe(200);
    expect((await b.beat('n1', report(0))).json().commands).toEqual([{ type: 'kick', session: 's-2', reason: 'the user was disabled by an administrator' }]);
  });

  it('streams stats events, refuses streams beyond the limit, and forgets a stream whose client went away', async () => {
    const b = await broker({ maxStreams: 1 });
    await b.beat('n1', report(0, [{ id: 's-1', rx: 0 }]));
    await b.app.listen({ host: '127.0.0.1', port: 0 });
    const port = (b.app.server.address() as { port: number }).port;
    const open = () =>
      new Promise<{ status: number; first: Promise<string>; destroy(): void }>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path: '/v1/admin/events', headers: { authorization: `Bearer ${TOKEN}` } }, (res) => {
          let text = '';
          const first = new Promise<string>((done) => res.on('data', (d: Buffer) => (text += d) && text.includes('event: stats') && done(text)));
          resolve({ status: res.statusCode ?? 0, first, destroy: () => req.destroy() });
        });
        req.on('error', reject);
        req.end();
      });
    const one = await open();
    expect(one.status).toBe(200);
    const text = await one.first;
    const data = JSON.parse(text.split('\n').find((l) => l.startsWith('data: '))!.slice(6));
    expect(data.nodes.n1).toMatchObject({ sessions: 1, rxBps: 0 });
    expect(data.sessions['s-1']).toEqual({ rxBps: 0, txBps: 0 });
    const two = await open();
    expect(two.status).toBe(503);
    two.destroy();
    one.destroy();
    // The slot frees as soon as the connection closes: a new stream is taken.
    let again = await open();
    for (let i = 0; i < 50 && again.status === 503; i++) {
      again.destroy();
      await new Promise((r) => setTimeout(r, 20));
      again = await open();
    }
    expect(again.status).toBe(200);
    expect(await b.gauge('el_broker_console_streams')).toBe(1);
    again.destroy();
    for (let i = 0; i < 50 && (await b.gauge('el_broker_console_streams')) !== 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(await b.gauge('el_broker_console_streams')).toBe(0);
  });
});

describe('LiveStats', () => {
  it('keeps the rates of the last interval for a sample sooner than minIntervalMs, with the fresh report', async () => {
    const clock = { t: 1000 };
    let rx = 0;
    const store = new MemoryStore({ now: () => clock.t });
    const live = new LiveStats({ store, healthySeconds: 15, now: () => clock.t, local: { node: 'me', status: () => ({ node: 'me', hosts: ['h'], port: 1, capacity: 1, sessions: 0, segments: [], active: [], draining: false }), report: () => report(rx, [{ id: 's-1', rx }]), kick: () => false, drain: () => {} } });
    await live.current();
    clock.t += 1000;
    rx = 1000;
    expect((await live.current()).get('me')!.rates.rxBps).toBe(1000);
    clock.t += 100;
    rx = 5000;
    const soon = (await live.current()).get('me')!;
    expect(soon.rates.rxBps).toBe(1000);
    expect(soon.report.sessions[0]!.rxBytes).toBe(5000);
    clock.t += 900;
    rx = 6000;
    // 5000 bytes since the base sample one second ago.
    expect((await live.current()).get('me')!.rates.rxBps).toBe(5000);
    expect(live.history('s-1').map((p) => p.rxBps)).toEqual([1000, 5000]);
  });
});
