/** HttpApi against a real HTTP server speaking the console contract: headers, bodies, errors. */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ApiError, HttpApi } from './api.js';

interface Seen {
  method: string;
  url: string;
  csrf: string | undefined;
  type: string | undefined;
  body: string;
}

describe('HttpApi', () => {
  let server: Server;
  let base: string;
  const seen: Seen[] = [];
  let signedIn = false;

  const body = (req: IncomingMessage) => new Promise<string>((r) => {
    let s = '';
    req.on('data', (d: Buffer) => (s += d));
    req.on('end', () => r(s));
  });

  beforeAll(async () => {
    server = createServer(async (req, res) => {
      const b = await body(req);
      seen.push({ method: req.method!, url: req.url!, csrf: req.headers['x-el-csrf'] as string | undefined, type: req.headers['content-type'], body: b });
      const json = (status: number, v: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(v));
      if (req.url === '/v1/console/login') {
        const c = JSON.parse(b) as { token?: string };
        if (c.token !== 'right') return json(401, { error: 'EL_ERR_AUTH', message: 'wrong admin token' });
        signedIn = true;
        return json(200, { who: 'token', csrf: 'csrf-1' });
      }
      if (req.url === '/v1/console/session') return signedIn ? json(200, { who: 'token', csrf: 'csrf-1' }) : json(401, { error: 'EL_ERR_AUTH', message: 'no session' });
      if (!signedIn) return json(401, { error: 'EL_ERR_AUTH', message: 'signed out' });
      if (req.method !== 'GET' && req.headers['x-el-csrf'] !== 'csrf-1') return json(403, { code: 'EL_ERR_CSRF', message: 'missing CSRF token' });
      if (req.url === '/v1/admin/segments/l%20b/sessions') return json(200, { sessions: [{ id: 's1' }] });
      if (req.url === '/v1/console/logout') {
        signedIn = false;
        return json(200, { ok: true });
      }
      return json(200, { ok: true });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));
  beforeEach(() => {
    seen.length = 0;
    signedIn = false;
  });

  it('a wrong token is an ApiError with the broker code; no session is remembered', async () => {
    const api = new HttpApi(base);
    const err = await api.login({ token: 'wrong' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 401, code: 'EL_ERR_AUTH', message: 'wrong admin token' });
    expect(api.who).toBeUndefined();
    expect(await api.resume()).toBeUndefined();
  });

  it('sends the session CSRF token with every non-GET and never with a GET', async () => {
    const api = new HttpApi(base);
    await api.login({ token: 'right' });
    expect(api.who).toBe('token');
    await api.sessions('l b');
    await api.disconnect('s/1');
    await api.drain('node-1');
    await api.setEnabled('alice', false);
    await api.deleteUser('alice');
    await api.setDigest('alice', 'secret-secret');
    const writes = seen.filter((s) => s.method !== 'GET' && s.url.startsWith('/v1/admin/'));
    expect(writes.map((s) => `${s.method} ${s.url} ${s.csrf}`)).toEqual([
      'POST /v1/admin/sessions/s%2F1/disconnect csrf-1',
      'POST /v1/admin/nodes/node-1/drain csrf-1',
      'PUT /v1/admin/users/alice/enabled csrf-1',
      'DELETE /v1/admin/users/alice csrf-1',
      'PUT /v1/admin/users/alice/digest csrf-1',
    ]);
    expect(seen.find((s) => s.url.endsWith('/enabled'))).toMatchObject({ type: 'application/json', body: '{"enabled":false}' });
    expect(seen.filter((s) => s.method === 'GET').every((s) => s.csrf === undefined)).toBe(true);
  });

  it('reads `code` as well as `error` from an error body (the broker refuses a missing CSRF token)', async () => {
    const other = new HttpApi(base);
    await new HttpApi(base).login({ token: 'right' }); // a session exists, but `other` has no token
    const err = await other.drain('n').catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 403, code: 'EL_ERR_CSRF' });
  });

  it('a 401 to a signed-in request signs the console out; logout forgets the token', async () => {
    const api = new HttpApi(base);
    let out = 0;
    api.onSignedOut = () => out++;
    await api.login({ token: 'right' });
    signedIn = false; // the session ended on the broker
    await expect(api.overview()).rejects.toMatchObject({ status: 401 });
    expect([out, api.who]).toEqual([1, undefined]);
    await api.login({ token: 'right' });
    await api.logout();
    expect(seen.at(-1)).toMatchObject({ url: '/v1/console/logout', csrf: 'csrf-1' });
    expect(api.who).toBeUndefined();
  });
});
