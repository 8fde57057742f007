/**
 * Failure classification against real servers on loopback: real TLS handshakes with a
 * wrong CA, no CA and a wrong name; a real HTTPS broker stand-in answering 401/403/503;
 * a closed port. The errors are what node:tls and node:https produce, not hand-made.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { createServer as createTlsServer, connect, type Server as TlsServer } from 'node:tls';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { pino } from 'pino';
import { createCertificateAuthority, issueServerCertificate, type CertificateAuthority } from '@elink/pki';
import { ALPN, ElError } from '@elink/protocol';
import { isCertificateFailure } from './certificate-failure.js';
import { isPermanent } from './failure-kind.js';
import { BrokerError, login } from './login.js';
import { SwitchLink } from './switch-link.js';

const logger = pino({ level: 'silent' });

/** What login() threw. */
async function loginError(url: string, ca?: string): Promise<ElError> {
  try {
    await login(url, { user: 'alice', password: 'pw' }, { ca, timeoutMs: 5000 });
  } catch (e) {
    expect(e).toBeInstanceOf(ElError);
    return e as ElError;
  }
  throw new Error('login succeeded');
}

describe('failure classification with real TLS and HTTP', () => {
  let caA: CertificateAuthority;
  let caB: CertificateAuthority;
  let broker: HttpsServer;
  let brokerUrl: string;
  let wrongName: HttpsServer;
  let wrongNameUrl: string;
  let switchServer: TlsServer;
  let switchPort: number;
  /** The broker stand-in answers each login with the next of these. */
  const answers: { status: number; body: unknown; headers?: Record<string, string> }[] = [];

  beforeAll(async () => {
    caA = await createCertificateAuthority('Test CA A');
    caB = await createCertificateAuthority('Test CA B');
    const good = await issueServerCertificate(caA, ['127.0.0.1', 'localhost']);
    const otherName = await issueServerCertificate(caA, ['broker.example']);
    broker = createHttpsServer({ cert: good.certPem, key: good.keyPem }, (req, res) => {
      req.resume();
      req.on('end', () => {
        const a = answers.shift() ?? { status: 500, body: 'no answer queued' };
        res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers });
        res.end(typeof a.body === 'string' ? a.body : JSON.stringify(a.body));
      });
    });
    wrongName = createHttpsServer({ cert: otherName.certPem, key: otherName.keyPem }, (_req, res) => res.end('{}'));
    switchServer = createTlsServer({ cert: good.certPem, key: good.keyPem, ALPNProtocols: [ALPN] }, (s) => s.end());
    await Promise.all([broker, wrongName, switchServer].map((s) => new Promise<void>((r) => s.listen(0, '127.0.0.1', r))));
    brokerUrl = `https://127.0.0.1:${(broker.address() as AddressInfo).port}`;
    wrongNameUrl = `https://127.0.0.1:${(wrongName.address() as AddressInfo).port}`;
    switchPort = (switchServer.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await Promise.all([broker, wrongName, switchServer].map((s) => new Promise((r) => s.close(r))));
  });

  it('node:tls reports a wrong CA as a certificate failure, a refused connection not', async () => {
    const tlsError = await new Promise<Error>((resolve) => connect({ host: '127.0.0.1', port: switchPort, ca: caB.certPem, ALPNProtocols: [ALPN] }).once('error', resolve));
    expect(isCertificateFailure(tlsError)).toBe(true);
    const closed = createTcpServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const refused = await new Promise<Error>((resolve) => connect({ host: '127.0.0.1', port, ca: caA.certPem }).once('error', resolve));
    expect((refused as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
    expect(isCertificateFailure(refused)).toBe(false);
  });

  it('login with a CA that did not issue the broker certificate: EL_ERR_CERTIFICATE, permanent, naming the issuer and the CA given', async () => {
    const err = await loginError(brokerUrl, caB.certPem);
    expect(err.code).toBe('EL_ERR_CERTIFICATE');
    expect(isPermanent(err)).toBe(true);
    expect(err.message).toContain(`broker at ${brokerUrl.slice('https://'.length)} presented`);
    expect(err.message).toContain('issued by CN=Test CA A');
    expect(err.message).toContain('expected one issued by the given CA (CN=Test CA B)');
    expect(err.message).not.toContain('same name');
  });

  it('login with another CA of the same name (as every elink init makes): says the given CA did not sign it', async () => {
    const twin = await createCertificateAuthority('Test CA A');
    const err = await loginError(brokerUrl, twin.certPem);
    expect(err.code).toBe('EL_ERR_CERTIFICATE');
    expect(err.message).toContain('issued by CN=Test CA A (another CA of the same name: the given CA did not sign it)');
  });

  it("prints no control characters from an unverified peer's certificate", async () => {
    const evil = await createCertificateAuthority('Evil \u001b[2J CA');
    const leaf = await issueServerCertificate(evil, ['127.0.0.1']);
    const server = createHttpsServer({ cert: leaf.certPem, key: leaf.keyPem }, (_req, res) => res.end('{}'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const err = await loginError(`https://127.0.0.1:${(server.address() as AddressInfo).port}`, caA.certPem);
      expect(err.code).toBe('EL_ERR_CERTIFICATE');
      expect(err.message).toContain('issued by CN=Evil ?[2J CA');
      expect(err.message).not.toContain('\u001b');
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('login without a CA (the system CAs): EL_ERR_CERTIFICATE saying no CA was given', async () => {
    const err = await loginError(brokerUrl);
    expect(err.code).toBe('EL_ERR_CERTIFICATE');
    expect(err.message).toContain('issued by CN=Test CA A');
    expect(err.message).toContain("expected one issued by one of the system's CAs (no CA was given)");
  });

  it('login to a broker whose certificate names another host: EL_ERR_CERTIFICATE naming the host expected', async () => {
    const err = await loginError(wrongNameUrl, caA.certPem);
    expect(err.code).toBe('EL_ERR_CERTIFICATE');
    expect(err.message).toContain('ERR_TLS_CERT_ALTNAME_INVALID');
    expect(err.message).toContain('DNS:broker.example');
    expect(err.message).toContain('expected one that names 127.0.0.1');
  });

  it("the broker's refusals: auth, segment and device limit permanent; 503 and 429 transient with their Retry-After", async () => {
    answers.push(
      { status: 401, body: { error: 'EL_ERR_AUTH', message: 'wrong user name or password' } },
      { status: 403, body: { error: 'EL_ERR_FORBIDDEN', message: 'no' } },
      { status: 404, body: { error: 'EL_ERR_NO_SEGMENT', message: 'no' } },
      { status: 403, body: { error: 'EL_ERR_DEVICE_LIMIT', message: 'no' } },
      { status: 503, body: { error: 'EL_ERR_UNAVAILABLE', message: 'store down' }, headers: { 'retry-after': '7' } },
      { status: 429, body: { error: 'EL_ERR_RATE_LIMITED', message: 'slow down' }, headers: { 'retry-after': '30' } },
      { status: 502, body: '<html>bad gateway</html>' },
    );
    const seen: [string, boolean, number | undefined][] = [];
    for (let i = 0; i < 7; i++) {
      const err = await loginError(brokerUrl, caA.certPem);
      seen.push([err.code, isPermanent(err), err instanceof BrokerError ? err.retryAfterSeconds : undefined]);
    }
    expect(seen).toEqual([
      ['EL_ERR_AUTH', true, undefined],
      ['EL_ERR_FORBIDDEN', true, undefined],
      ['EL_ERR_NO_SEGMENT', true, undefined],
      ['EL_ERR_DEVICE_LIMIT', true, undefined],
      ['EL_ERR_UNAVAILABLE', false, 7],
      ['EL_ERR_RATE_LIMITED', false, 30],
      ['EL_ERR_UNAVAILABLE', false, undefined],
    ]);
  });

  it('login to a port nothing listens on: EL_ERR_UNAVAILABLE, transient', async () => {
    const closed = createTcpServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const err = await loginError(`https://127.0.0.1:${port}`, caA.certPem);
    expect(err.code).toBe('EL_ERR_UNAVAILABLE');
    expect(err.message).toContain('ECONNREFUSED');
    expect(isPermanent(err)).toBe(false);
  });

  it('a switch whose certificate the CA did not issue: EL_ERR_CERTIFICATE naming the node, the issuer and the CA given', async () => {
    const err = await SwitchLink.connect({ server: { node: 'sw-7', host: '127.0.0.1', port: switchPort }, ticket: 'x', ca: caB.certPem, logger, connectTimeoutMs: 5000 }).then(
      () => {
        throw new Error('connected');
      },
      (e: unknown) => e as ElError,
    );
    expect(err).toBeInstanceOf(ElError);
    expect(err.code).toBe('EL_ERR_CERTIFICATE');
    expect(err.message).toContain(`switch sw-7 at 127.0.0.1:${switchPort} presented`);
    expect(err.message).toContain('issued by CN=Test CA A');
    expect(err.message).toContain('CN=Test CA B');
  });
});
