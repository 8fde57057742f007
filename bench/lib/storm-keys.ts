/**
 * The reconnect storm's users and device keys, derived from the session number so the
 * benchmark (which registers the keys at the broker's store) and its client processes
 * (which sign with them) agree without passing 10,000 keys around.
 */
import { createHash, createPrivateKey, type KeyObject } from 'node:crypto';

// PKCS#8 DER of an Ed25519 private key: this prefix, then the 32-byte seed.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** Session n's device key (Ed25519, from a hash of n: a benchmark's key, not a secret). */
export function stormDeviceKey(n: number): KeyObject {
  const seed = createHash('sha256').update(`elink storm device ${n}`).digest();
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

/** Session n's user, of `users` (the store keeps at most 64 device keys per user). */
export function stormUser(n: number, users: number): string {
  return `storm${n % users}`;
}
