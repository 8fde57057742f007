/**
 * The console's API end to end with the built `elink`: `elink up` (the in-process node)
 * over real TLS, with real EL sessions (the switch's test client over TLS, tickets from the
 * broker's /v1/login): sign-in with the admin token and with an admin user (and refusals),
 * the cookie's attributes, CSRF, the views with real sessions, the SSE stream's rates moving
 * under traffic, disconnect (the session really ends), user actions in the audit log, and
 * `elink status` / `elink sessions` / `elink kick` against `elink up`'s defaults.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request, type RequestOptions } from 'node:https';
import { join } from 'node:path';
import { consoleOverviewReplySchema, consoleSessionsReplySchema, consoleTableReplySchema, auditReplySchema, type ConsoleStatsEvent } from '@elink/protocol';
import { TestClient, waitUntil } from '../packages/switch/src/testing/test-client.js';
import { ethFrame, mac } from '../packages/switch/src/testing/test-frames.js';
import { assertBuilt, CLI, stopAll } from './lib/processes.js';
import { PASSWORD, postLogin, startServer, type TestServer } from './lib/server.js';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

describe('console API against elink up (in-process node)', () => {
  let server: TestServer;
  let ca: string;
  let token: string;
  const base = () => new URL(server.brokerUrl);
  const clients: TestClient[] = [];

  function call(method: string, path: string, opts: { body?: unknown; headers?: Record<string, string> } = {}): Promise<Reply> {
    const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const options: RequestOptions = { host: base().hostname, port: Number(base().port), path, method, ca, timeout: 10_000, headers: { ...(payload ? { 'content-type': 'application/json' } : {}), ...opts.headers } };
    return new Promise((resolve, reject) => {
      const req = request(options, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text ? JSON.parse(text) : undefined }));
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
      req.on('error', reject);
      req.end(payload);
    });
  }
  const bearer = () => ({ authorization: `Bearer ${token}` });

  /** Signs in and returns the cookie header value and the CSRF token. */
  async function signIn(body: unknown): Promise<{ cookie: string; csrf: string; setCookie: string }> {
    const r = await call('POST', '/v1/console/login', { body });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const setCookie = String(r.headers['set-cookie']);
    return { cookie: setCookie.split(';')[0]!, csrf: (r.body as { csrf: string }).csrf, setCookie };
  }

  /** A real EL session of alice's `device`: a broker login, then hello with the ticket over TLS. */
  async function session(device: string): Promise<{ client: TestClient; id: string; mac: string }> {
    const login = await postLogin({ host: base().hostname, port: Number(base().port), ca }, device);
    const client = await TestClient.connect({ host: '127.0.0.1', port: server.switchPort, ca });
    clients.push(client);
    const welcome = await client.join(login.ticket);
    return { client, id: welcome.session, mac: login.mac };
  }

  function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
    // From the directory holding the state, as an operator after `elink up` would: the defaults find it.
    return spawnSync(process.execPath, [CLI, ...args, '--state', server.state], { encoding: 'utf8', env: { ...withoutAdminEnv(), ...env }, timeout: 20_000 });
  }

  beforeAll(async () => {
    assertBuilt();
    server = await startServer({ gateway: '127.0.0.1', segments: [{ name: 'routed', mode: 'l3', ipv4: { pool: '198.19.70.0/24' }, ipv6: { pool: 'fd00:e1:70::/64' } }], users: [{ name: 'alice', segment: 'lab' }] });
    ca = readFileSync(join(server.state, 'ca.pem'), 'utf8');
    token = readFileSync(join(server.state, 'admin-token'), 'utf8').trim();
  }, 60_000);

  afterAll(async () => {
    for (const c of clients) c.destroy();
    await stopAll();
    server?.destroy();
  });

  it('elink up created an admin token and printed where the console is', async () => {
    expect(token.length).toBeGreaterThanOrEqual(16);
    // Printed on stderr just after the "started" log line: it may arrive a moment later.
    await waitUntil(() => server.proc.text.join('\n').includes('sign in with the admin token'), 'the start-up message', 10_000);
    const printed = server.proc.text.join('\n');
    expect(printed).toContain(`/console/`);
    expect(printed).toContain(join(server.state, 'admin-token'));
  });

  it('signs in with the admin token: cookie HttpOnly, Secure, SameSite=Strict; a wrong token is refused', async () => {
    const { setCookie, csrf, cookie } = await signIn({ token });
    expect(setCookie).toMatch(/^el_console=[A-Za-z0-9_-]{40,};/);
    for (const attr of ['HttpOnly', 'Secure', 'SameSite=Strict', 'Path=/']) expect(setCookie).toContain(attr);
    const s = await call('GET', '/v1/console/session', { headers: { cookie } });
    expect(s.body).toEqual({ who: 'token', csrf });

    const wrong = await call('POST', '/v1/console/login', { body: { token: 'not-the-admin-token-0123456789' } });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toMatchObject({ error: 'EL_ERR_AUTH' });
    expect(wrong.headers['set-cookie']).toBeUndefined();
    const none = await call('GET', '/v1/admin/overview', { headers: { cookie: 'el_console=made-up' } });
    expect(none.status).toBe(401);
  });

  it('refuses an action with the cookie but without the CSRF header (and audits the refusal)', async () => {
    const { cookie, csrf } = await signIn({ token });
    const r = await call('POST', '/v1/admin/users', { headers: { cookie }, body: { name: 'eve', password: 'long enough pw', segments: ['lab'] } });
    expect(r.status).toBe(403);
    expect(r.body).toMatchObject({ error: 'EL_ERR_CSRF' });
    const wrong = await call('POST', '/v1/admin/users', { headers: { cookie, 'x-el-csrf': `${csrf}x` }, body: { name: 'eve', password: 'long enough pw', segments: ['lab'] } });
    expect(wrong.status).toBe(403);
    const users = (await call('GET', '/v1/admin/users', { headers: bearer() })).body as { users: { name: string }[] };
    expect(users.users.map((u) => u.name)).not.toContain('eve');
    const audit = auditReplySchema.parse((await call('GET', '/v1/admin/audit?limit=5', { headers: { cookie } })).body);
    // Refused before its body was read: the target is not known.
    expect(audit.entries[0]).toMatchObject({ who: 'token', action: 'user.add', result: 'EL_ERR_CSRF' });
  });

  it('user actions through the cookie are done and audited; an admin user signs in, a disabled one cannot', async () => {
    const { cookie, csrf } = await signIn({ token });
    const h = { cookie, 'x-el-csrf': csrf };
    expect((await call('POST', '/v1/admin/users', { headers: h, body: { name: 'ops', password: 'ops password 1', segments: ['lab'], admin: true } })).status).toBe(200);
    expect((await call('POST', '/v1/admin/users', { headers: h, body: { name: 'bob', password: 'bob password 1', segments: ['lab'] } })).status).toBe(200);
    expect((await call('PUT', '/v1/admin/users/bob/password', { headers: h, body: { password: 'bob password 2' } })).status).toBe(200);
    expect((await call('PUT', '/v1/admin/users/bob/digest', { headers: h, body: { secret: 'dtcp secret 1' } })).status).toBe(200);
    expect((await call('PUT', '/v1/admin/users/bob/enabled', { headers: h, body: { enabled: false } })).status).toBe(200);

    // bob is disabled: his login is refused with its own code.
    const refused = await call('POST', '/v1/login', { body: { user: 'bob', password: 'bob password 2', segment: 'lab', device: 'x' } });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ error: 'EL_ERR_DISABLED' });
    const users = (await call('GET', '/v1/admin/users', { headers: bearer() })).body as { users: { name: string; enabled: boolean; admin: boolean; digest: boolean }[] };
    expect(users.users.find((u) => u.name === 'bob')).toMatchObject({ enabled: false, admin: false, digest: true });
    expect(users.users.find((u) => u.name === 'ops')).toMatchObject({ enabled: true, admin: true });

    // ops (admin: true) signs in with the password; bob (no admin) and a wrong password cannot.
    const ops = await signIn({ user: 'ops', password: 'ops password 1' });
    expect((await call('GET', '/v1/console/session', { headers: { cookie: ops.cookie } })).body).toMatchObject({ who: 'user:ops' });
    expect((await call('POST', '/v1/console/login', { body: { user: 'ops', password: 'wrong password' } })).status).toBe(401);
    expect((await call('POST', '/v1/console/login', { body: { user: 'alice', password: PASSWORD } })).status).toBe(401);
    expect((await call('DELETE', '/v1/admin/users/bob', { headers: { cookie: ops.cookie, 'x-el-csrf': ops.csrf } })).status).toBe(200);

    const audit = auditReplySchema.parse((await call('GET', '/v1/admin/audit?limit=20', { headers: bearer() })).body).entries;
    const seen = audit.map((e) => `${e.who} ${e.action} ${e.target} ${e.result}`);
    for (const line of ['token user.add (admin) ops ok', 'token user.add bob ok', 'token user.password bob ok', 'token user.digest.set bob ok', 'token user.disable bob ok', 'user:ops user.delete bob ok', 'user:ops console.login 127.0.0.1 ok', 'user:ops console.login 127.0.0.1 EL_ERR_AUTH']) expect(seen).toContain(line);
    for (const e of audit) expect(Date.parse(e.t)).toBeGreaterThan(Date.now() - 120_000);
  });

  it('lists the sessions of real clients with bytes, the MAC table, and rates that move under traffic (SSE)', async () => {
    const a = await session('laptop');
    const b = await session('phone');
    const { cookie } = await signIn({ token });

    const overview = consoleOverviewReplySchema.parse((await call('GET', '/v1/admin/overview', { headers: { cookie } })).body);
    expect(overview.nodes).toHaveLength(1);
    expect(overview.nodes[0]).toMatchObject({ inProcess: true, healthy: true, sessions: 2 });
    expect(overview.segments.find((s) => s.name === 'lab')).toMatchObject({ mode: 'l2', sessions: 2, nodes: 1 });
    expect(overview.segments.find((s) => s.name === 'routed')).toMatchObject({ mode: 'l3', sessions: 0 });

    // Traffic between the two, while an event stream watches.
    const events: ConsoleStatsEvent[] = [];
    const stream = request({ host: base().hostname, port: Number(base().port), path: '/v1/admin/events', ca, headers: { cookie } });
    let buffered = '';
    stream.on('response', (res) => {
      expect(res.headers['content-type']).toContain('text/event-stream');
      res.on('data', (d: Buffer) => {
        buffered += d.toString();
        for (let i = buffered.indexOf('\n\n'); i >= 0; i = buffered.indexOf('\n\n')) {
          const block = buffered.slice(0, i);
          buffered = buffered.slice(i + 2);
          const data = block.split('\n').find((l) => l.startsWith('data: '));
          if (block.includes('event: stats') && data) events.push(JSON.parse(data.slice(6)) as ConsoleStatsEvent);
        }
      });
    });
    stream.end();
    const macA = Number.parseInt(a.mac.replaceAll(':', ''), 16);
    const macB = Number.parseInt(b.mac.replaceAll(':', ''), 16);
    const pump = setInterval(() => {
      a.client.sendFrames(Array.from({ length: 20 }, () => ethFrame(macB, macA, Buffer.alloc(1000, 1))));
      b.client.sendFrames([ethFrame(macA, macB, 'ack')]);
    }, 20);
    try {
      await waitUntil(() => events.some((e) => (e.sessions[a.id]?.rxBps ?? 0) > 10_000 && (e.sessions[b.id]?.txBps ?? 0) > 10_000), 'rates of both sessions in the event stream', 10_000);
    } finally {
      clearInterval(pump);
    }
    const moving = events.find((e) => (e.sessions[a.id]?.rxBps ?? 0) > 10_000)!;
    expect(moving.nodes[overview.nodes[0]!.node]!.rxBps).toBeGreaterThan(10_000);
    expect(moving.segments.lab!.rxBps).toBeGreaterThan(10_000);
    expect(moving.segments.lab!.sessions).toBe(2);
    // Once the traffic stops the rates fall back to 0.
    await waitUntil(() => (events.at(-1)?.sessions[a.id]?.rxBps ?? 1) === 0, 'rates back to 0', 10_000);
    stream.destroy();

    const list = consoleSessionsReplySchema.parse((await call('GET', '/v1/admin/segments/lab/sessions', { headers: { cookie } })).body);
    const sa = list.sessions.find((s) => s.id === a.id)!;
    expect(sa).toMatchObject({ user: 'alice', device: 'laptop', mac: a.mac, node: overview.nodes[0]!.node });
    expect(sa.rxBytes).toBeGreaterThan(100_000);
    expect(sa.addresses.some((x) => x.startsWith('198.19.'))).toBe(true);
    expect(list.sessions.find((s) => s.id === b.id)!.txBytes).toBeGreaterThan(100_000);

    const table = consoleTableReplySchema.parse((await call('GET', '/v1/admin/segments/lab/table', { headers: { cookie } })).body);
    expect(table.kind).toBe('mac');
    expect(table.entries).toContainEqual(expect.objectContaining({ key: a.mac, port: a.id, user: 'alice' }));
    expect(consoleTableReplySchema.parse((await call('GET', '/v1/admin/segments/routed/table', { headers: { cookie } })).body).kind).toBe('route');

    const detail = (await call('GET', `/v1/admin/sessions/${a.id}`, { headers: { cookie } })).body as { segment: string; history: { rxBps: number }[] };
    expect(detail.segment).toBe('lab');
    expect(detail.history.some((p) => p.rxBps > 10_000)).toBe(true);
  });

  it('disconnect ends the session for real (bye to the client, gone from the views, audited)', async () => {
    const c = await session('tablet');
    const { cookie, csrf } = await signIn({ token });
    const r = await call('POST', `/v1/admin/sessions/${c.id}/disconnect`, { headers: { cookie, 'x-el-csrf': csrf } });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    await waitUntil(() => c.client.closed, 'the switch to close the kicked session');
    expect(c.client.controls.find((m) => m.type === 'bye')).toMatchObject({ reason: 'disconnected by an administrator' });
    const list = consoleSessionsReplySchema.parse((await call('GET', '/v1/admin/segments/lab/sessions', { headers: bearer() })).body);
    expect(list.sessions.map((s) => s.id)).not.toContain(c.id);
    expect((await call('POST', `/v1/admin/sessions/${c.id}/disconnect`, { headers: bearer() })).body).toMatchObject({ error: 'EL_ERR_NOT_FOUND' });
    const audit = auditReplySchema.parse((await call('GET', '/v1/admin/audit?limit=5', { headers: bearer() })).body).entries;
    expect(audit).toContainEqual(expect.objectContaining({ action: 'session.disconnect', target: c.id, result: 'ok', who: 'token' }));
  });

  it('elink status / sessions / kick work with the defaults of elink up (state dir, port, admin token file)', async () => {
    const c = await session('desk');
    const status = cli(['status']);
    expect(status.status, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/in-process/);
    const json = JSON.parse(cli(['status', '--json']).stdout) as { nodes: { sessions: number; inProcess?: boolean }[] };
    expect(json.nodes[0]).toMatchObject({ inProcess: true });
    expect(json.nodes[0]!.sessions).toBeGreaterThanOrEqual(3);

    const sessions = cli(['sessions', '--segment', 'lab']);
    expect(sessions.status, sessions.stderr).toBe(0);
    expect(sessions.stdout).toContain(c.id);
    const listed = JSON.parse(cli(['sessions', '--json']).stdout) as { sessions: { id: string; user: string }[] };
    expect(listed.sessions.find((s) => s.id === c.id)).toMatchObject({ user: 'alice' });

    const kick = cli(['kick', c.id]);
    expect(kick.status, kick.stderr).toBe(0);
    await waitUntil(() => c.client.closed, 'elink kick to end the session');

    // ELINK_BROKER_PORT wins over the config: a port nothing listens on fails, naming it.
    const elsewhere = cli(['status'], { ELINK_BROKER_PORT: '1' });
    expect(elsewhere.status).not.toBe(0);
    expect(elsewhere.stderr).toContain('127.0.0.1:1');
  });

  it('drain from the console redirects the sessions of the node', async () => {
    const c = await session('last');
    const { cookie, csrf } = await signIn({ token });
    const node = consoleOverviewReplySchema.parse((await call('GET', '/v1/admin/overview', { headers: { cookie } })).body).nodes[0]!.node;
    expect((await call('POST', `/v1/admin/nodes/${node}/drain`, { headers: { cookie, 'x-el-csrf': csrf } })).status).toBe(200);
    await waitUntil(() => c.client.closed, 'the drained node to redirect the session');
    expect(c.client.controls.some((m) => m.type === 'redirect')).toBe(true);
    const after = consoleOverviewReplySchema.parse((await call('GET', '/v1/admin/overview', { headers: { cookie } })).body);
    expect(after.nodes[0]).toMatchObject({ draining: true });
  });
});

/** This process's environment without admin settings, so `elink` finds them as an operator would. */
function withoutAdminEnv(): NodeJS.ProcessEnv {
  const { ELINK_ADMIN_TOKEN: _t, ELINK_ADMIN_TOKEN_FILE: _f, ELINK_BROKER_PORT: _p, ...rest } = process.env;
  return rest;
}
