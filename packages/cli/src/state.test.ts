import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyPassword } from '@elink/broker';
import { privateKeyFromPem } from '@elink/protocol';
import { loadConfig } from './config.js';
import { initState } from './state.js';

const dirs: string[] = [];
const fresh = () => {
  const d = mkdtempSync(join(tmpdir(), 'elink-state-'));
  dirs.push(d);
  return join(d, 'state');
};
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('initState', () => {
  it('creates a CA, a server certificate it signed, the signing key and a valid config with a demo user', async () => {
    const dir = fresh();
    const init = await initState(dir, ['vpn.example.test']);
    expect(init.created).toBe(true);
    const ca = new X509Certificate(readFileSync(join(dir, 'ca.pem')));
    const cert = new X509Certificate(readFileSync(join(dir, 'server.pem')));
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(cert.subjectAltName).toContain('DNS:vpn.example.test');
    expect(cert.subjectAltName).toContain('IP Address:127.0.0.1');
    expect(privateKeyFromPem(readFileSync(join(dir, 'ticket-signing.key'), 'utf8')).asymmetricKeyType).toBe('ed25519');
    for (const secret of ['ca.key', 'server.key', 'ticket-signing.key', 'demo.password', 'elink.yaml']) {
      expect(statSync(join(dir, secret)).mode & 0o077, secret).toBe(0);
    }
    const { config } = loadConfig(join(dir, 'elink.yaml'));
    expect(config.segments.map((s) => s.name)).toEqual(['lab']);
    const demo = config.users.find((u) => u.name === 'demo')!;
    expect(await verifyPassword(init.demoPassword!, demo.password)).toBe(true);
    expect(readFileSync(join(dir, 'demo.password'), 'utf8').trim()).toBe(init.demoPassword);
  });

  it('keeps what exists on a second start, and reissues the server certificate for a new name from the same CA', async () => {
    const dir = fresh();
    await initState(dir);
    const configBefore = readFileSync(join(dir, 'elink.yaml'), 'utf8') + '# edited by the operator\n';
    writeFileSync(join(dir, 'elink.yaml'), configBefore);
    const caBefore = readFileSync(join(dir, 'ca.pem'), 'utf8');
    const certBefore = readFileSync(join(dir, 'server.pem'), 'utf8');

    const again = await initState(dir);
    expect(again.created).toBe(false);
    expect(readFileSync(join(dir, 'elink.yaml'), 'utf8')).toBe(configBefore);
    expect(readFileSync(join(dir, 'server.pem'), 'utf8')).toBe(certBefore);

    await initState(dir, ['new-name.example.test']);
    const certAfter = new X509Certificate(readFileSync(join(dir, 'server.pem')));
    expect(readFileSync(join(dir, 'ca.pem'), 'utf8')).toBe(caBefore);
    expect(certAfter.subjectAltName).toContain('DNS:new-name.example.test');
    expect(certAfter.verify(new X509Certificate(caBefore).publicKey)).toBe(true);
  });
});
