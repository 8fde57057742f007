/**
 * Trunk authentication: each end proves it knows the trunk secret, bound to this very TLS
 * connection. The proof is HMAC-SHA256(secret, "el-trunk/1" ‖ 0 ‖ role ‖ 0 ‖ node ‖ 0 ‖ EKM)
 * where EKM is 32 bytes of TLS keying material (RFC 5705 / RFC 8446 §7.5, label
 * "EXPORTER-el-trunk"): the same at both ends of one connection, different on every
 * other, so a proof seen on one connection is worthless on another, and a relay in the
 * middle (two TLS connections) cannot pass it on. The role ("dial"/"accept") keeps one
 * end's proof from being reflected as the other's. Certificates are not checked: the
 * secret is the trust (docs/cluster.md "Trunk authentication").
 *
 * With a cluster CA (switch.trunk.ca) TLS verifies a certificate of that CA at both ends,
 * and the node name a peer claims in its hello must be a DNS name of its certificate
 * (certificateNodeNames): a node cannot pose as another. Without a secret the proof is
 * keyed by the CA (trunk-credentials.ts).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { TRUNK_ALPN } from '@elink/protocol';

export const TRUNK_EXPORTER_LABEL = 'EXPORTER-el-trunk';
export const TRUNK_EKM_LENGTH = 32;

export type TrunkRole = 'dial' | 'accept';

/** The keying material both ends of `socket` derive (after the handshake). */
export function trunkKeyingMaterial(socket: TLSSocket): Buffer {
  return socket.exportKeyingMaterial(TRUNK_EKM_LENGTH, TRUNK_EXPORTER_LABEL, Buffer.alloc(0));
}

export function trunkProof(secret: string, role: TrunkRole, node: string, ekm: Buffer): Buffer {
  const h = createHmac('sha256', secret);
  h.update(`${TRUNK_ALPN}\0${role}\0${node}\0`);
  h.update(ekm);
  return h.digest();
}

/** True when `proof` (base64) is the proof of `node` as `role` on this connection under
 * one of `secrets` (several: the CAs of a bundle, trunk-credentials.ts). */
export function verifyTrunkProof(secrets: readonly string[], role: TrunkRole, node: string, ekm: Buffer, proof: string): boolean {
  const got = Buffer.from(proof, 'base64');
  return secrets.some((secret) => {
    const want = trunkProof(secret, role, node, ekm);
    return got.length === want.length && timingSafeEqual(got, want);
  });
}

/** The node names a verified peer certificate names: its DNS subjectAltNames. */
export function certificateNodeNames(socket: TLSSocket): string[] {
  const cert = socket.getPeerX509Certificate();
  return cert ? dnsNames(cert) : [];
}

/** Most certificates of a peer's chain kept (its own, intermediates, the CA). */
const MAX_CHAIN = 8;

/** The verified peer's chain as TLS built it: its certificate first, up to the CA. */
export function peerChain(socket: TLSSocket): X509Certificate[] {
  const out: X509Certificate[] = [];
  let c = socket.getPeerCertificate(true);
  while (c?.raw && out.length < MAX_CHAIN) {
    out.push(new X509Certificate(c.raw));
    // A self-signed CA is its own issuer.
    if (!c.issuerCertificate || c.issuerCertificate === c || c.issuerCertificate.fingerprint256 === c.fingerprint256) break;
    c = c.issuerCertificate;
  }
  return out;
}

function dnsNames(cert: X509Certificate): string[] {
  const names: string[] = [];
  for (const part of (cert.subjectAltName ?? '').split(', ')) if (part.startsWith('DNS:')) names.push(part.slice(4));
  return names;
}

/** A TLS error that is about a certificate (none, of another CA, expired …), by its code. */
export function isCertificateError(code: string | undefined): boolean {
  return code !== undefined && /CERT|SELF_SIGNED|UNABLE_TO_|PEER_DID_NOT_RETURN|ALERT_BAD_CERTIFICATE|ALERT_UNKNOWN_CA|ALERT_CERTIFICATE/.test(code);
}
