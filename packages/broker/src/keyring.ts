/**
 * The broker's ticket keys: one Ed25519 key signs, and a list of public keys is
 * published to switch nodes (in every heartbeat reply) so keys can rotate without
 * a refused login:
 *
 *   1. publish the next key alongside the current one (nodes learn it on their next heartbeat);
 *   2. sign with the next key, keep publishing the old public key;
 *   3. once the old key's last tickets have expired (the ticket TTL), stop publishing it.
 *
 * `rotate()` does steps 1–2 at once for a single broker whose nodes heartbeat often;
 * with several brokers each step is a configuration change (README, docs/broker.md).
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { ElError, keyId, publicKeyToPem } from '@elink/protocol';

export class KeyRing {
  #signing: KeyObject;
  #published: KeyObject[];

  /** `published`: extra public keys to publish (the previous or next key). */
  constructor(signing: KeyObject, published: readonly KeyObject[] = []) {
    this.#signing = checkSigning(signing);
    this.#published = [...published];
  }

  get signingKey(): KeyObject {
    return this.#signing;
  }

  /** The signing key's public key first, then the others, without duplicates. */
  publicKeys(): KeyObject[] {
    const out = [createPublicKey(this.#signing)];
    const ids = new Set(out.map(keyId));
    for (const k of this.#published) {
      const pub = k.type === 'private' ? createPublicKey(k) : k;
      if (!ids.has(keyId(pub))) {
        ids.add(keyId(pub));
        out.push(pub);
      }
    }
    return out;
  }

  publicKeysPem(): string[] {
    return this.publicKeys().map(publicKeyToPem);
  }

  /** Signs with `next` from now on; the old public key stays published until `retire()`. */
  rotate(next: KeyObject): void {
    const old = createPublicKey(this.#signing);
    this.#signing = checkSigning(next);
    this.#published = [old, ...this.#published];
  }

  /** Stops publishing every key but the signing one. */
  retire(): void {
    this.#published = [];
  }
}

function checkSigning(key: KeyObject): KeyObject {
  if (key.type !== 'private' || key.asymmetricKeyType !== 'ed25519') {
    throw new ElError('EL_ERR_CONFIG', `ticket signing key must be an Ed25519 private key, got ${key.type} ${key.asymmetricKeyType ?? ''}`.trim());
  }
  return key;
}
