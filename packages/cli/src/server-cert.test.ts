import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCertificateAuthority, issueServerCertificate } from '@elink/pki';
import { loadConfig, overridesFromEnv } from './config.js';
import { ensureAdvertisedNames, missingNames } from './server-cert.js';
import { initState } from './state.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'elink-cert-'));
  dirs.push(d);
  return d;
};

describe('advertised names in the server certificate', () => {
  it('missingNames checks host names (wildcards too) and addresses as TLS clients do', async () => {
    const ca = await createCertificateAuthority();
    const { certPem } = await issueServerCertificate(ca, ['*.example.net', 'vpn.example.org', '198.51.100.7']);
    expect(missingNames(certPem, ['vpn.example.net', 'vpn.example.org', '198.51.100.7'])).toEqual([]);
    expect(missingNames(certPem, ['example.net', 'a.b.example.net', '198.51.100.8', 'other.example'])).toEqual(['example.net', 'a.b.example.net', '198.51.100.8', 'other.example']);
  });

  it('re-issues a state directory’s certificate that lacks ELINK_ADVERTISE, keeping the CA', async () => {
    const d = tmp();
    await initState(d);
    const ca = readFileSync(join(d, 'ca.pem'), 'utf8');
    const loaded = loadConfig(join(d, 'elink.yaml'), overridesFromEnv({ ELINK_ADVERTISE: 'vpn.example.net' }));
    expect(missingNames(readFileSync(join(d, 'server.pem')), ['vpn.example.net'])).toEqual(['vpn.example.net']);
    expect(await ensureAdvertisedNames(loaded)).toMatchObject({ state: 'reissued', names: ['vpn.example.net'] });
    expect(missingNames(readFileSync(join(d, 'server.pem')), ['vpn.example.net', 'localhost'])).toEqual([]);
    expect(readFileSync(join(d, 'ca.pem'), 'utf8')).toBe(ca);
    expect(await ensureAdvertisedNames(loaded)).toEqual({ state: 'ok' });
  });

  it('reports, and leaves alone, an operator certificate that lacks the name (switch.advertise in the file)', async () => {
    const d = tmp();
    const ca = await createCertificateAuthority();
    const issued = await issueServerCertificate(ca, ['broker.internal']);
    writeFileSync(join(d, 'tls.pem'), issued.certPem);
    writeFileSync(join(d, 'tls.key'), issued.keyPem);
    writeFileSync(join(d, 'elink.yaml'), `tls: { cert: tls.pem, key: tls.key }\nswitch: { advertise: vpn.example.net }\nsegments:\n  - name: lab\n    ipv4: { pool: 198.19.0.0/16 }\n`);
    const loaded = loadConfig(join(d, 'elink.yaml'));
    expect(await ensureAdvertisedNames(loaded)).toEqual({ state: 'missing', names: ['vpn.example.net'], cert: join(d, 'tls.pem') });
    expect(readFileSync(join(d, 'tls.pem'), 'utf8')).toBe(issued.certPem);
  });
});
