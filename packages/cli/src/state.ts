/**
 * The state directory of the embedded default: on first start it gets a private CA,
 * a server certificate, the ticket signing key, and a config file with one L2 segment
 * and one demo user. Nothing is overwritten once it exists, so a restart keeps the CA
 * that clients already trust.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { X509Certificate, randomBytes } from 'node:crypto';
import { hostname, networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { hashPassword } from '@elink/broker';
import { createCertificateAuthority, issueServerCertificate } from '@elink/pki';
import { generateTicketKeyPair, privateKeyToPem } from '@elink/protocol';

export const CONFIG_FILE = 'elink.yaml';
export const DEMO_USER = 'demo';
export const DEMO_PASSWORD_FILE = 'demo.password';
/** The admin token `elink up` creates when the config sets none (console sign-in, `elink status`). */
export const ADMIN_TOKEN_FILE = 'admin-token';

function writeSecret(path: string, data: string): void {
  writeFileSync(path, data, { mode: 0o600 });
  chmodSync(path, 0o600);
}

/** The admin token in `dir`/admin-token, created (random, mode 0600) when missing. */
export function ensureAdminToken(dir: string): { token: string; file: string; created: boolean } {
  const file = join(dir, ADMIN_TOKEN_FILE);
  if (existsSync(file)) {
    const token = readFileSync(file, 'utf8').trim();
    if (token.length >= 16) return { token, file, created: false };
  }
  const token = randomBytes(24).toString('base64url');
  writeSecret(file, `${token}\n`);
  return { token, file, created: true };
}

/** Addresses and names a client may use to reach this host, for the certificate. */
export function localNames(extra: readonly string[] = []): string[] {
  const names = new Set<string>(['localhost', '127.0.0.1', '::1', hostname(), ...extra]);
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (!a.address.startsWith('fe80')) names.add(a.address.replace(/%.*$/, ''));
  }
  return [...names].filter(Boolean);
}

export interface StateInit {
  created: boolean;
  demoPassword?: string;
  /** An existing server certificate was re-issued (a new address, or an advertised name it lacked). */
  reissued?: boolean;
}

/** Creates what is missing in `dir`. `extraNames` go into a new server certificate. */
export async function initState(dir: string, extraNames: readonly string[] = []): Promise<StateInit> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const caCert = join(dir, 'ca.pem');
  const caKey = join(dir, 'ca.key');
  const signing = join(dir, 'ticket-signing.key');
  const config = join(dir, CONFIG_FILE);

  if (!existsSync(caCert) || !existsSync(caKey)) {
    const ca = await createCertificateAuthority();
    writeFileSync(caCert, ca.certPem);
    writeSecret(caKey, ca.keyPem);
  }
  const hadCert = existsSync(join(dir, 'server.pem'));
  const issued = await ensureServerCertificate(dir, extraNames);
  if (!existsSync(signing)) writeSecret(signing, privateKeyToPem(generateTicketKeyPair().privateKey));

  if (existsSync(config)) return { created: false, reissued: hadCert && issued };
  const demoPassword = randomBytes(12).toString('base64url');
  writeSecret(join(dir, DEMO_PASSWORD_FILE), `${demoPassword}\n`);
  const doc = {
    node: { id: hostname() },
    log: { level: 'info' },
    broker: { listen: { host: '0.0.0.0', port: 8443 }, ticketTtl: 60 },
    switch: { listen: { host: '0.0.0.0', port: 4443 }, minVersion: 'TLSv1.2' },
    admin: { host: '0.0.0.0', port: 9100 },
    segments: [{ name: 'lab', mode: 'l2', mtu: 1500, ipv4: { pool: '198.19.0.0/16' }, ipv6: { pool: 'fd00:e1::/64' } }],
    users: [{ name: DEMO_USER, password: await hashPassword(demoPassword), segments: ['lab'] }],
  };
  writeFileSync(config, `# Emotion Link configuration (see README.md, "Configuration reference").\n# Paths are relative to this directory.\n${stringify(doc)}`, { mode: 0o600 });
  return { created: true, demoPassword };
}

/**
 * (Re)issues the server certificate from the local CA when it is missing or does not
 * name every current address of this host: addresses change, the CA does not.
 */
export async function ensureServerCertificate(dir: string, extraNames: readonly string[] = []): Promise<boolean> {
  const certPath = join(dir, 'server.pem');
  const wanted = localNames(extraNames);
  if (existsSync(certPath) && existsSync(join(dir, 'server.key'))) {
    const have = new X509Certificate(readFileSync(certPath)).subjectAltName ?? '';
    const covered = new Set(have.split(', ').map((s) => s.replace(/^(DNS|IP Address):/, '')));
    if (wanted.every((n) => covered.has(n) || covered.has(normalizeV6(n)))) return false;
    // A CA we did not create (operator-provided certificate): leave it alone.
    if (!existsSync(join(dir, 'ca.key'))) return false;
  }
  const ca = { certPem: readFileSync(join(dir, 'ca.pem'), 'utf8'), keyPem: readFileSync(join(dir, 'ca.key'), 'utf8') };
  const issued = await issueServerCertificate(ca, wanted);
  writeFileSync(certPath, issued.certPem);
  writeSecret(join(dir, 'server.key'), issued.keyPem);
  return true;
}

function normalizeV6(a: string): string {
  // node prints IPv6 SANs fully expanded in upper case.
  if (!a.includes(':')) return a;
  const [head, tail = ''] = a.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const mid = Array(8 - h.length - t.length).fill('0');
  return [...h, ...mid, ...t].map((x) => parseInt(x, 16).toString(16).toUpperCase()).join(':');
}
