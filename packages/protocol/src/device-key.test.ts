import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DeviceKeyCache, deviceKeyFromRaw, deviceKeySchema, deviceKeyThumbprint, deviceLoginMessage, rawDeviceKey, signatureSchema, signDeviceLogin, signHelloProof, verifyDeviceLogin, verifyHelloProof } from './device-key.js';
import { generateTicketKeyPair, peekTicketClaims, signTicket } from './ticket.js';

const device = generateKeyPairSync('ed25519');
const raw = rawDeviceKey(device.publicKey);
const binding = randomBytes(32);
const fields = { user: 'amy', device: 'laptop', segment: 'lan', time: 1_750_000_000, nonce: 'n'.repeat(22) };

describe('device keys', () => {
  it('write a key as 43 base64url characters that read back as the same key, from either half', () => {
    expect(deviceKeySchema.safeParse(raw).success).toBe(true);
    expect(rawDeviceKey(device.privateKey)).toBe(raw);
    expect(rawDeviceKey(deviceKeyFromRaw(raw))).toBe(raw);
    expect(deviceKeyThumbprint(raw)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // Not canonical (spare bits set in the last character), too short, not base64url.
    expect(deviceKeySchema.safeParse(raw.slice(0, 42) + 'B').success).toBe(false);
    expect(deviceKeySchema.safeParse(raw.slice(1)).success).toBe(false);
    expect(deviceKeySchema.safeParse(`${raw.slice(0, 41)}+A`).success).toBe(false);
  });

  it('verify a hello proof only for its own channel binding and key', () => {
    const proof = signHelloProof(device.privateKey, binding);
    expect(signatureSchema.safeParse(proof).success).toBe(true);
    expect(verifyHelloProof(raw, binding, proof)).toBe(true);
    expect(verifyHelloProof(raw, randomBytes(32), proof)).toBe(false);
    expect(verifyHelloProof(rawDeviceKey(generateKeyPairSync('ed25519').publicKey), binding, proof)).toBe(false);
    expect(verifyHelloProof('garbage', binding, proof)).toBe(false);
    expect(verifyHelloProof(raw, binding, 'garbage')).toBe(false);
  });

  it('cache imported keys by their raw form, bounded, least recently used out first', () => {
    const cache = new DeviceKeyCache(2);
    const raws = [0, 1, 2].map(() => rawDeviceKey(generateKeyPairSync('ed25519').publicKey));
    const first = cache.get(raws[0]!);
    expect(cache.get(raws[0]!)).toBe(first); // imported once
    expect(rawDeviceKey(first)).toBe(raws[0]);
    cache.get(raws[1]!);
    cache.get(raws[0]!); // raws[1] is now the least recently used
    cache.get(raws[2]!);
    expect(cache.count).toBe(2);
    expect(cache.get(raws[0]!)).toBe(first); // kept
    const again = cache.get(raws[1]!); // dropped, so imported anew: the same key all the same
    expect(rawDeviceKey(again)).toBe(raws[1]);
    expect(cache.count).toBe(2);
  });

  it('verify a hello proof again with the cached key, and never with another cached key', () => {
    const other = generateKeyPairSync('ed25519');
    const otherRaw = rawDeviceKey(other.publicKey);
    const proof = signHelloProof(device.privateKey, binding);
    for (let i = 0; i < 3; i++) {
      expect(verifyHelloProof(raw, binding, proof)).toBe(true);
      expect(verifyHelloProof(otherRaw, binding, proof)).toBe(false);
      expect(verifyHelloProof(otherRaw, binding, signHelloProof(other.privateKey, binding))).toBe(true);
    }
  });

  it('verify a device login only for exactly its fields, and never take one signature for the other', () => {
    const sig = signDeviceLogin(device.privateKey, fields);
    expect(verifyDeviceLogin(raw, fields, sig)).toBe(true);
    for (const over of [{ user: 'bob' }, { device: 'phone' }, { segment: undefined }, { prefix: true }, { time: fields.time + 1 }, { nonce: 'm'.repeat(22) }]) {
      expect(verifyDeviceLogin(raw, { ...fields, ...over }, sig), JSON.stringify(over)).toBe(false);
    }
    // The context strings differ: a hello proof over the login's bytes is no login signature.
    expect(verifyDeviceLogin(raw, fields, signHelloProof(device.privateKey, deviceLoginMessage(fields)))).toBe(false);
    expect(deviceLoginMessage(fields).toString()).toBe('EL device login v1\0["amy","laptop","lan",false,1750000000,"nnnnnnnnnnnnnnnnnnnnnn"]');
  });

  it('peekTicketClaims reads a ticket without trusting it, and nothing from a non-ticket', () => {
    const now = Math.floor(Date.now() / 1000);
    const t = signTicket({ jti: 'abcdefghijkl', sub: 'amy', seg: 'lan', mode: 'l2', iat: now, exp: now + 600, dk: raw }, generateTicketKeyPair().privateKey);
    expect(peekTicketClaims(t)?.dk).toBe(raw);
    expect(peekTicketClaims('el1.x.y')).toBeUndefined();
    expect(peekTicketClaims('nope')).toBeUndefined();
  });
});
