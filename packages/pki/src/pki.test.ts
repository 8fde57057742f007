import { describe, expect, it } from 'vitest';
import { createServer, connect } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { createCertificateAuthority, issueServerCertificate } from './index.js';

describe('pki', () => {
  it('issues a server certificate that a TLS client verifies against the CA, for a DNS name and an IP', async () => {
    const ca = await createCertificateAuthority();
    const server = await issueServerCertificate(ca, ['localhost', '127.0.0.1']);
    const srv = createServer({ cert: server.certPem, key: server.keyPem }, (s) => s.end('hi'));
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as AddressInfo).port;
    try {
      for (const host of ['localhost', '127.0.0.1']) {
        const got = await new Promise<string>((resolve, reject) => {
          const c = connect({ host, port, ca: ca.certPem });
          let data = '';
          c.on('data', (d) => (data += d)).on('end', () => resolve(data)).on('error', reject);
          c.on('secureConnect', () => expect(c.getPeerCertificate().fingerprint256).toBe(server.fingerprint256));
        });
        expect(got).toBe('hi');
      }
      // A certificate from another CA is refused.
      const other = await createCertificateAuthority('Other');
      await expect(
        new Promise((resolve, reject) => connect({ host: '127.0.0.1', port, ca: other.certPem }).on('secureConnect', resolve).on('error', reject)),
      ).rejects.toThrow(/self-signed|unable to verify|certificate/i);
    } finally {
      srv.close();
    }
  });
});
