/**
 * A server certificate that failed verification, turned into EL_ERR_CERTIFICATE with what
 * was presented and what was expected: "unable to verify the first certificate" alone
 * does not tell a user that the CA they trust is the wrong one, nor which one is right.
 */
import { X509Certificate } from 'node:crypto';
import { isIPv6 } from 'node:net';
import { connect, type PeerCertificate } from 'node:tls';
import { ElError } from '@elink/protocol';

/** OpenSSL's X.509 verify results as node:tls names them (err.code), and Node's host name check. */
const VERIFY_CODES = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_CRL',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECRYPT_CRL_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'CERT_SIGNATURE_FAILURE',
  'CRL_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID',
  'CERT_HAS_EXPIRED',
  'CRL_NOT_YET_VALID',
  'CRL_HAS_EXPIRED',
  'ERROR_IN_CERT_NOT_BEFORE_FIELD',
  'ERROR_IN_CERT_NOT_AFTER_FIELD',
  'ERROR_IN_CRL_LAST_UPDATE_FIELD',
  'ERROR_IN_CRL_NEXT_UPDATE_FIELD',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_CHAIN_TOO_LONG',
  'CERT_REVOKED',
  'INVALID_CA',
  'PATH_LENGTH_EXCEEDED',
  'INVALID_PURPOSE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

const TIME_CODES = new Set(['CERT_NOT_YET_VALID', 'CERT_HAS_EXPIRED']);
const NAME_CODES = new Set(['HOSTNAME_MISMATCH', 'ERR_TLS_CERT_ALTNAME_INVALID']);

/** True for a TLS error that says the peer's certificate is not one we trust. */
export function isCertificateFailure(err: unknown): err is Error & { code: string } {
  return err instanceof Error && VERIFY_CODES.has((err as { code?: unknown }).code as string);
}

export interface TlsPeer {
  /** Who it is, for the message: "broker", "switch sw-1". */
  what: string;
  host: string;
  port: number;
  servername?: string;
  /** The CA(s) trusted: PEM; undefined = the system's. */
  ca?: string | Buffer;
  /** ALPN to offer when looking at its certificate (a switch refuses a handshake without el/1). */
  alpn?: string[];
  probeTimeoutMs?: number;
}

/**
 * EL_ERR_CERTIFICATE for `err` (see isCertificateFailure): looks at the certificate the peer
 * presents (one more handshake, verification off, nothing sent after it) to say whom it is
 * for and who issued it, and names the CA that was trusted instead.
 */
export async function certificateFailure(err: Error & { code: string }, peer: TlsPeer): Promise<ElError> {
  const cert = await presentedCertificate(peer);
  const cas = peer.ca === undefined ? undefined : caCertificates(peer.ca);
  let got = '';
  if (cert) {
    got = `: it is for ${dn(cert.subject)}${cert.subjectaltname ? ` (${shown(cert.subjectaltname)})` : ''}, issued by ${dn(cert.issuer)}`;
    if (TIME_CODES.has(err.code)) got += `, valid ${cert.valid_from} to ${cert.valid_to}`;
    else if (cas && sameNameOtherKey(cert, cas)) got += ' (another CA of the same name: the given CA did not sign it)';
  }
  let expected: string;
  if (NAME_CODES.has(err.code)) expected = `one that names ${peer.servername ?? peer.host}`;
  else if (TIME_CODES.has(err.code)) expected = `one valid now (${new Date().toUTCString()}): renew it, or check this host's clock`;
  else if (!cas) expected = "one issued by one of the system's CAs (no CA was given)";
  else if (cas.length === 0) expected = 'one issued by the given CA, but the CA file holds no readable certificate';
  else expected = `one issued by the given CA (${cas.map((c) => c.subject.replace(/\n/g, ', ')).join('; ')})`;
  return new ElError(
    'EL_ERR_CERTIFICATE',
    `${peer.what} at ${isIPv6(peer.host) ? `[${peer.host}]` : peer.host}:${peer.port} presented a certificate that is not trusted (${err.code}: ${err.message})${got}; expected ${expected}`,
    { cause: err },
  );
}

/** The certificates in a PEM bundle (unreadable entries left out, as node:tls does). */
function caCertificates(ca: string | Buffer): X509Certificate[] {
  const certs: X509Certificate[] = [];
  for (const pem of ca.toString().match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []) {
    try {
      certs.push(new X509Certificate(pem));
    } catch {
      // not a certificate
    }
  }
  return certs;
}

/** Every `elink init` makes a CA named "Emotion Link CA": the names match, the keys do not.
 * True when a given CA has the issuer's name but did not sign the certificate. */
function sameNameOtherKey(cert: PeerCertificate, cas: X509Certificate[]): boolean {
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(cert.raw);
  } catch {
    return false;
  }
  const signed = (ca: X509Certificate) => {
    try {
      return leaf.verify(ca.publicKey);
    } catch {
      return false; // a key of another type
    }
  };
  return cas.some((ca) => ca.subject === leaf.issuer) && !cas.some(signed);
}

function dn(name: PeerCertificate['subject'] | undefined): string {
  const parts = Object.entries(name ?? {}).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('+') : String(v)}`);
  return parts.length ? shown(parts.join(', ')) : '(no name)';
}

/** Text from an unverified peer, fit for a terminal and a log line: no control characters
 * (escape sequences), at most 300 characters. */
function shown(text: string): string {
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
  return clean.length > 300 ? `${clean.slice(0, 300)}…` : clean;
}

/** The peer's certificate, or undefined when it cannot be had within the timeout. */
function presentedCertificate(peer: TlsPeer): Promise<PeerCertificate | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host: peer.host, port: peer.port, servername: peer.servername, rejectUnauthorized: false, ALPNProtocols: peer.alpn });
    const done = (cert: PeerCertificate | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(cert);
    };
    const timer = setTimeout(() => done(undefined), peer.probeTimeoutMs ?? 3000);
    socket.once('secureConnect', () => {
      const cert = socket.getPeerCertificate();
      done(cert && Object.keys(cert).length ? cert : undefined);
    });
    // `on`, not `once`: a late second error must not go unhandled.
    socket.on('error', () => done(undefined));
  });
}
