/**
 * Trunk authentication: each end proves it knows the trunk secret, bound to this very TLS
 * connection. The proof is HMAC-SHA256(secret, "el-trunk/1" ‖ 0 ‖ role ‖ 0 ‖ node ‖ 0 ‖ EKM)
 * where EKM is 32 bytes of TLS keying material (RFC 5705 / RFC 8446 §7.5, label
 * "EXPORTER-el-trunk"): the same at both ends of one connection, different on every
 * other, so a proof seen on one connection is worthless on another, and a relay in the
 * middle (two TLS connections) cannot pass it on. The role ("dial"/"accept") keeps one
 * end's proof from being reflected as the other's. Certificates are not checked: the
 * secret is the trust (docs/cluster.md "Trunk authentication").
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
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

/** True when `proof` (base64) is the proof of `node` as `role` on this connection. */
export function verifyTrunkProof(secret: string, role: TrunkRole, node: string, ekm: Buffer, proof: string): boolean {
  const want = trunkProof(secret, role, node, ekm);
  const got = Buffer.from(proof, 'base64');
  return got.length === want.length && timingSafeEqual(got, want);
}
