/**
 * A small private CA for the embedded default: on first start `elink up` makes a CA and a
 * server certificate (ECDSA P-256, fast handshakes) that clients trust with `--ca`.
 * Production deployments bring their own certificates; this is only the zero-config path.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createHash, webcrypto, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

export interface CertificateAuthority {
  certPem: string;
  keyPem: string;
}

export interface ServerCertificate {
  certPem: string;
  keyPem: string;
  /** SHA-256 of the certificate's DER, colon-separated upper-case hex (as node:tls reports it). */
  fingerprint256: string;
}

async function exportKeyPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return `-----BEGIN PRIVATE KEY-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END PRIVATE KEY-----\n`;
}

function years(n: number): Date {
  const d = new Date();
  d.setFullYear(d.getFullYear() + n);
  return d;
}

function backdated(): Date {
  // Tolerate clients whose clocks run a little behind.
  return new Date(Date.now() - 60 * 60 * 1000);
}

export async function createCertificateAuthority(commonName = 'Emotion Link CA'): Promise<CertificateAuthority> {
  const keys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=${commonName}`,
    notBefore: backdated(),
    notAfter: years(10),
    signingAlgorithm: EC,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: await exportKeyPem(keys.privateKey) };
}

/** A server certificate for `names` (DNS names and IP addresses), signed by `ca`. */
export async function issueServerCertificate(ca: CertificateAuthority, names: readonly string[]): Promise<ServerCertificate> {
  if (names.length === 0) throw new RangeError('a server certificate needs at least one name');
  const unique = [...new Set(names)];
  return issueLeaf(ca, unique[0]!, unique.map((n) => ({ type: isIP(n) ? ('ip' as const) : ('dns' as const), value: n })), [x509.ExtendedKeyUsage.serverAuth]);
}

/**
 * A switch node's trunk certificate (switch.trunk.cert): signed by the cluster CA, for TLS
 * server and client use (a trunk is dialed and accepted), naming the node id as a DNS
 * subjectAltName (a peer claiming that node must show it: docs/cluster.md).
 */
export async function issueNodeCertificate(ca: CertificateAuthority, node: string): Promise<ServerCertificate> {
  return issueLeaf(ca, node, [{ type: 'dns', value: node }], [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]);
}

/** An end-entity certificate with a fresh P-256 key, signed by `ca` for two years. */
async function issueLeaf(ca: CertificateAuthority, commonName: string, names: { type: 'ip' | 'dns'; value: string }[], usages: string[]): Promise<ServerCertificate> {
  const caCert = new x509.X509Certificate(ca.certPem);
  const caKey = (await webcrypto.subtle.importKey('pkcs8', pemBody(ca.keyPem), EC, false, ['sign'])) as CryptoKey;
  const keys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.create({
    subject: `CN=${commonName}`,
    issuer: caCert.subject,
    notBefore: backdated(),
    notAfter: years(2),
    signingAlgorithm: EC,
    publicKey: keys.publicKey,
    signingKey: caKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension(usages),
      new x509.SubjectAlternativeNameExtension(names),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
    ],
  });
  const certPem = cert.toString('pem');
  return { certPem, keyPem: await exportKeyPem(keys.privateKey), fingerprint256: fingerprint256(certPem) };
}

/** The SHA-256 fingerprint of a PEM certificate in node:tls's format (AA:BB:…). */
export function fingerprint256(certPem: string): string {
  return new X509Certificate(certPem).fingerprint256;
}

/** SHA-256 of the DER of the certificate, lower-case hex, no separators (for configs and URLs). */
export function fingerprintHex(certPem: string): string {
  return createHash('sha256').update(new X509Certificate(certPem).raw).digest('hex');
}

function pemBody(pem: string): ArrayBuffer {
  const b = Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}
