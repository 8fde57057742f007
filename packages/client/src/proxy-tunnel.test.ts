import type { Server } from 'node:net';
import { connect as tlsConnect, createServer as createTlsServer } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCertificateAuthority, issueServerCertificate } from '@elink/pki';
import { startTinyproxy, type Tinyproxy } from '../../../test/lib/tinyproxy.js';
import { parseProxyUrl } from './proxy-config.js';
import { openTunnel } from './proxy-tunnel.js';
import { freePort } from '../../transport/src/test-free-port.js';

// A real proxy (Debian's tinyproxy, with Basic authentication) in front of a TLS echo server.
let proxy: Tinyproxy;
let strict: Tinyproxy;
let echo: Server;
let echoPort: number;
let ca: string;


beforeAll(async () => {
  const authority = await createCertificateAuthority('tunnel test CA');
  const cert = await issueServerCertificate(authority, ['127.0.0.1']);
  ca = authority.certPem;
  echo = createTlsServer({ key: cert.keyPem, cert: cert.certPem }, (s) => s.pipe(s));
  echo.listen(0, '127.0.0.1');
  await new Promise((r) => echo.once('listening', r));
  echoPort = (echo.address() as { port: number }).port;
  proxy = await startTinyproxy({ port: await freePort() });
  // Allows CONNECT to port 443 only: anything else is refused by policy (403).
  strict = await startTinyproxy({ port: await freePort(), connectPorts: [443] });
});

afterAll(async () => {
  await proxy?.stop();
  await strict?.stop();
  echo?.close();
});

describe('openTunnel through a real HTTP proxy', () => {
  it('with the right credentials gives a socket that carries TLS to the destination, and the proxy logs the CONNECT', async () => {
    const socket = await openTunnel(parseProxyUrl(proxy.url, 'test'), '127.0.0.1', echoPort, 5000);
    const tls = tlsConnect({ socket, ca, servername: undefined, host: '127.0.0.1' });
    await new Promise<void>((resolve, reject) => {
      tls.once('secureConnect', resolve);
      tls.once('error', reject);
    });
    tls.write('through the tunnel');
    const [echoed] = (await new Promise((resolve) => tls.once('data', (d: Buffer) => resolve([d.toString()])))) as string[];
    expect(echoed).toBe('through the tunnel');
    tls.destroy();
    expect(proxy.log()).toContain(`CONNECT 127.0.0.1:${echoPort}`);
  });

  it('a wrong password is EL_ERR_PROXY_AUTH naming the proxy without the password', async () => {
    const err = await openTunnel(parseProxyUrl(proxy.badUrl, 'test'), '127.0.0.1', echoPort, 5000).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'EL_ERR_PROXY_AUTH', message: expect.stringMatching(/\(40[17] /) });
    expect((err as Error).message).toContain('refused the credentials');
    expect((err as Error).message).not.toContain('wrong-');
  });

  it('no credentials at all is EL_ERR_PROXY_AUTH saying to give some', async () => {
    const err = await openTunnel(parseProxyUrl(`http://127.0.0.1:${proxy.port}`, 'test'), '127.0.0.1', echoPort, 5000).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'EL_ERR_PROXY_AUTH', message: expect.stringContaining('requires authentication') });
  });

  it('a port the proxy does not allow is EL_ERR_PROXY_REFUSED (403)', async () => {
    const err = await openTunnel(parseProxyUrl(strict.url, 'test'), '127.0.0.1', echoPort, 5000).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'EL_ERR_PROXY_REFUSED', message: expect.stringContaining('403') });
  });

  it('a destination the proxy cannot reach is EL_ERR_PROXY_REFUSED (5xx)', async () => {
    const err = await openTunnel(parseProxyUrl(proxy.url, 'test'), '127.0.0.1', await freePort(), 5000).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'EL_ERR_PROXY_REFUSED', message: expect.stringMatching(/ 5\d\d .*could not reach/) });
  });

  it('no proxy listening is EL_ERR_PROXY_UNREACHABLE', async () => {
    const err = await openTunnel(parseProxyUrl(`http://u:p@127.0.0.1:${await freePort()}`, 'test'), '127.0.0.1', echoPort, 5000).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'EL_ERR_PROXY_UNREACHABLE', message: expect.stringContaining('ECONNREFUSED') });
  });
});
