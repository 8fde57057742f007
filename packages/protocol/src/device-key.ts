/**
 * Device keys: an Ed25519 key pair per client device. The public key is registered at
 * the broker with the device's password login and named in its tickets (claim `dk`);
 * later the device proves it holds the private key, so no password hash is needed:
 *
 *   - in `hello`, `proof` signs the TLS connection's channel binding (RFC 9266,
 *     exporter label "EXPORTER-Channel-Binding", 32 bytes): a ticket seen on one
 *     connection is worthless on any other, so it may be used again within its life;
 *   - at POST /v1/login/device, `signature` signs the request's fields: a fresh ticket
 *     at the cost of one signature check.
 *
 * Every signed message starts with its own context string, so a signature made for one
 * purpose never verifies for the other (docs/protocol.md §5.5).
 */
import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { z } from 'zod';

/** RFC 9266: the TLS exporter label and length of tls-exporter channel binding. */
export const CHANNEL_BINDING_LABEL = 'EXPORTER-Channel-Binding';
export const CHANNEL_BINDING_LENGTH = 32;

const HELLO_CONTEXT = Buffer.from('EL hello proof v1\0');
const DEVICE_LOGIN_CONTEXT = 'EL device login v1\0';

/** A raw Ed25519 public key (32 bytes) in base64url without padding: 43 characters. */
export const deviceKeySchema = z.string().regex(/^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/, 'an Ed25519 public key: 32 bytes in base64url (43 characters)');
/** An Ed25519 signature (64 bytes) in base64url without padding: 86 characters. */
export const signatureSchema = z.string().regex(/^[A-Za-z0-9_-]{85}[AQgw]$/, 'an Ed25519 signature: 64 bytes in base64url (86 characters)');

// The DER prefix of an Ed25519 SubjectPublicKeyInfo; the raw key follows it.
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** The raw public key (base64url) of an Ed25519 key (public, or private: its public half). */
export function rawDeviceKey(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return pub.export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length).toString('base64url');
}

/** A KeyObject from a raw public key in base64url (checked with deviceKeySchema first).
 * Imported as a JWK (the raw key is its `x`): half the CPU of building and parsing DER,
 * and every returning device's key is new to the node it comes back to. */
export function deviceKeyFromRaw(raw: string): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw }, format: 'jwk' });
}

/** How many imported device keys verifySafely keeps (a few MB at most). */
export const DEVICE_KEY_CACHE_SIZE = 16_384;

/**
 * Raw device key → its KeyObject, the least recently used dropped beyond `size`. A
 * returning device's key is imported once, not at every hello (an import is a DER parse
 * and a native object per check). A KeyObject is immutable, so sharing one is safe.
 */
export class DeviceKeyCache {
  // A Map keeps insertion order: the first key is the least recently used.
  private readonly keys = new Map<string, KeyObject>();

  constructor(private readonly size: number) {}

  get(raw: string): KeyObject {
    let key = this.keys.get(raw);
    if (key) {
      this.keys.delete(raw);
    } else {
      key = deviceKeyFromRaw(raw);
      if (this.keys.size >= this.size) this.keys.delete(this.keys.keys().next().value!);
    }
    this.keys.set(raw, key);
    return key;
  }

  get count(): number {
    return this.keys.size;
  }
}

const imported = new DeviceKeyCache(DEVICE_KEY_CACHE_SIZE);

/** SHA-256 of the raw key, base64url: how logs and the admin API name a device key. */
export function deviceKeyThumbprint(raw: string): string {
  return createHash('sha256').update(Buffer.from(raw, 'base64url')).digest('base64url');
}

function verifySafely(message: Buffer, raw: string, signature: string): boolean {
  if (!deviceKeySchema.safeParse(raw).success || !signatureSchema.safeParse(signature).success) return false;
  try {
    return verify(null, message, imported.get(raw), Buffer.from(signature, 'base64url'));
  } catch {
    return false; // not a point on the curve
  }
}

/** hello.proof: the device key's signature over this connection's channel binding. */
export function signHelloProof(privateKey: KeyObject, channelBinding: Uint8Array): string {
  return sign(null, Buffer.concat([HELLO_CONTEXT, channelBinding]), privateKey).toString('base64url');
}

export function verifyHelloProof(raw: string, channelBinding: Uint8Array, proof: string): boolean {
  return verifySafely(Buffer.concat([HELLO_CONTEXT, channelBinding]), raw, proof);
}

/** The fields of a device login that its signature covers. */
export interface DeviceLoginFields {
  user: string;
  device: string;
  segment?: string | undefined;
  prefix?: boolean | undefined;
  time: number;
  nonce: string;
}

/** The exact bytes a device login signs: a context string, then the fields as a JSON array in a fixed order. */
export function deviceLoginMessage(f: DeviceLoginFields): Buffer {
  return Buffer.from(DEVICE_LOGIN_CONTEXT + JSON.stringify([f.user, f.device, f.segment ?? null, f.prefix === true, f.time, f.nonce]));
}

export function signDeviceLogin(privateKey: KeyObject, f: DeviceLoginFields): string {
  return sign(null, deviceLoginMessage(f), privateKey).toString('base64url');
}

export function verifyDeviceLogin(raw: string, f: DeviceLoginFields, signature: string): boolean {
  return verifySafely(deviceLoginMessage(f), raw, signature);
}
