import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createCertificateAuthority, issueServerCertificate, type CertificateAuthority } from '@elink/pki';
import { ElError } from '@elink/protocol';
import { generateKeyPairSync } from 'node:crypto';
import { BrokerError, deviceLogin, login, parseRetryAfter } from './login.js';

describe('parseRetryAfter', () => {
  it('reads delay-seconds and HTTP dates, and nothing else', () => {
    expect(parseRetryAfter('120')).toBe(120);
    expect(parseRetryAfter(' 7 ')).toBe(7);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:01:30 GMT', now)).toBe(90);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter(undefined)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter('-5')).toBeUndefined();
  });
});

/** A broker stand-in over real HTTPS: answers each login with the next body (status 200 unless given). */
describe('login against the contract (a real HTTPS broker stand-in)', () => {
  let ca: CertificateAuthority;
  let server: Server;
  let url: string;
  const answers: { status?: number; body: unknown }[] = [];
  /** The lost-node header of each request, in order (undefined: not sent). */
  const lostHeaders: Array<string | string[] | undefined> = [];
  const good = { ticket: 't.sig', expiresAt: '2026-11-29T18:00:00.000Z', servers: [{ node: 'sw-1', host: '127.0.0.1', port: 4443 }], segment: 'lan', mode: 'l2', mac: '02:00:5e:00:00:01' };

  beforeAll(async () => {
    ca = await createCertificateAuthority('Login Test CA');
    const leaf = await issueServerCertificate(ca, ['127.0.0.1']);
    server = createServer({ cert: leaf.certPem, key: leaf.keyPem }, (req, res) => {
      lostHeaders.push(req.headers['el-lost-node']);
      req.resume();
      req.on('end', () => {
        const a = answers.shift() ?? { status: 500, body: { error: 'EL_ERR_INTERNAL', message: 'no answer queued' } };
        res.writeHead(a.status ?? 200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(a.body));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const attempt = (): Promise<unknown> => login(url, { user: 'alice', password: 'pw' }, { ca: ca.certPem, timeoutMs: 5000 }).catch((e: unknown) => e);

  it('returns a reply that matches, without the fields the contract does not know', async () => {
    answers.push({ body: { ...good, future: true } });
    expect(await attempt()).toEqual(good);
  });

  it('refuses a reply that does not match with EL_ERR_PROTOCOL naming the field (a MAC is required)', async () => {
    const { mac: _, ...noMac } = good;
    answers.push({ body: noMac }, { body: { ...good, servers: [{ node: 'sw-1', host: '127.0.0.1', port: 'https' }] } });
    const a = (await attempt()) as ElError;
    expect(a).toBeInstanceOf(ElError);
    expect(a.code).toBe('EL_ERR_PROTOCOL');
    expect(a.message).toContain('field "mac"');
    const b = (await attempt()) as ElError;
    expect(b.code).toBe('EL_ERR_PROTOCOL');
    expect(b.message).toContain(`the login reply of broker ${url} does not match the protocol: field "servers.0.port"`);
  });

  it("a refusal in the error shape keeps the broker's code; another JSON body is a proxy's, transient", async () => {
    answers.push({ status: 403, body: { error: 'EL_ERR_FORBIDDEN', message: 'no' } }, { status: 502, body: { code: 'bad gateway' } });
    const a = (await attempt()) as BrokerError;
    expect(a).toBeInstanceOf(BrokerError);
    expect([a.code, a.message]).toEqual(['EL_ERR_FORBIDDEN', 'broker: no']);
    const b = (await attempt()) as BrokerError;
    expect([b.code, b.message]).toEqual(['EL_ERR_UNAVAILABLE', 'broker: HTTP 502']);
  });

  it('names the node it lost in the EL-Lost-Node header, password and device logins alike, and only a name the header can carry', async () => {
    lostHeaders.length = 0;
    const key = generateKeyPairSync('ed25519').privateKey;
    answers.push({ body: good }, { body: good }, { body: good }, { body: good });
    const trust = { ca: ca.certPem, timeoutMs: 5000 };
    await login(url, { user: 'alice', password: 'pw' }, trust, { lostNode: 'sw-1' });
    await deviceLogin(url, { user: 'alice', device: 'laptop' }, key, trust, { lostNode: 'sw-2' });
    await login(url, { user: 'alice', password: 'pw' }, trust);
    await login(url, { user: 'alice', password: 'pw' }, trust, { lostNode: 'a node with spaces' });
    expect(lostHeaders).toEqual(['sw-1', 'sw-2', undefined, undefined]);
  });
});
