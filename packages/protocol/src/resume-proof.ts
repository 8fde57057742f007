/**
 * Resumption: a returning device admitted with two HMACs instead of two Ed25519 checks
 * (the ticket's signature and hello.proof), docs/protocol.md §5.5 "Resumption".
 *
 *   K = HKDF-SHA256(cluster secret, salt "elink switch", info "EL resume key v1", 32)
 *   S = HMAC-SHA256(K, "EL resume secret v1\0" ‖ ticket text exactly as sent)
 *   hello.resume = HMAC-SHA256(S, "EL resume proof v1\0" ‖ channel binding)
 *
 * A node hands S out (welcome.resume) only after it admitted a ticket bound to a device
 * key by the full path (signature and device proof over a channel binding), so holding S
 * shows that a node of this cluster did so for this very ticket; the proof binds S to
 * this one connection (RFC 9266), as hello.proof binds the device key. K has the trust
 * of the TLS session ticket keys (session-ticket-keys.ts): whoever has the cluster
 * secret can derive both.
 */
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/** 32 bytes: K, S and a proof. */
export const RESUME_LENGTH = 32;

const SECRET_CONTEXT = Buffer.from('EL resume secret v1\0');
const PROOF_CONTEXT = Buffer.from('EL resume proof v1\0');

/** 32 bytes in canonical base64url without padding (43 characters): S or a proof. */
const RESUME_TEXT = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;

/**
 * welcome.resume and hello.resume on the wire. Lenient on purpose (any short string):
 * a malformed one is ignored like one that does not verify, never a reason to refuse a
 * hello or a welcome (isResumeText is the real check).
 */
export const resumeFieldSchema = z.string().max(128);

/** Whether `text` is 32 bytes in canonical base64url (43 characters). */
export function isResumeText(text: string): boolean {
  return RESUME_TEXT.test(text);
}

/** The cluster's resume key K, from the cluster secret (every node derives the same). */
export function resumeKey(clusterSecret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', clusterSecret, 'elink switch', 'EL resume key v1', RESUME_LENGTH));
}

/** S for `ticket` (its text exactly as sent in hello), base64url: what welcome.resume carries. */
export function resumeSecret(key: Uint8Array, ticket: string): string {
  return createHmac('sha256', key).update(SECRET_CONTEXT).update(ticket).digest('base64url');
}

function proofBytes(secret: string, channelBinding: Uint8Array): Buffer {
  return createHmac('sha256', Buffer.from(secret, 'base64url')).update(PROOF_CONTEXT).update(channelBinding).digest();
}

/** hello.resume: S (base64url, from welcome.resume) over this connection's channel binding. */
export function resumeProof(secret: string, channelBinding: Uint8Array): string {
  return proofBytes(secret, channelBinding).toString('base64url');
}

/** Whether `proof` is S's proof over `channelBinding`; false for anything malformed. Constant time in the proof's bytes. */
export function verifyResumeProof(secret: string, channelBinding: Uint8Array, proof: string): boolean {
  if (!isResumeText(secret) || !isResumeText(proof)) return false;
  return timingSafeEqual(proofBytes(secret, channelBinding), Buffer.from(proof, 'base64url'));
}
