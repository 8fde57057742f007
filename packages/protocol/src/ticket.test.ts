import { createHash, sign } from 'node:crypto';
import { describe, it, expect } from 'vitest';
import { ElError } from './errors.js';
import {
  generateTicketKeyPair,
  keyId,
  privateKeyFromPem,
  privateKeyToPem,
  publicKeyFromPem,
  publicKeyToPem,
  signTicket,
  verifyTicket,
  verifyTicketUnsigned,
  type TicketClaims,
} from './ticket.js';

const NOW = 1_750_000_000;
const claims: Omit<TicketClaims, 'v' | 'kid'> = {
  jti: 'Zm9vYmFyYmF6cXV4MTIz',
  sub: 'alice',
  seg: 'office',
  mode: 'l2',
  dev: 'laptop',
  mac: '02:11:22:33:44:55',
  ipv4: '198.19.0.2/16',
  ipv6: 'fd00:e1::2/64',
  iat: NOW,
  exp: NOW + 60,
};

const current = generateTicketKeyPair();
const previous = generateTicketKeyPair();
const stranger = generateTicketKeyPair();

function rejects(fn: () => unknown, code: string): ElError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ElError);
    expect((e as ElError).code).toBe(code);
    return e as ElError;
  }
  throw new Error(`expected ${code}, but it was accepted`);
}

/** Swaps one base64url character for another valid one, so only the content changes. */
function flipChar(s: string, at: number): string {
  return s.slice(0, at) + (s[at] === 'A' ? 'B' : 'A') + s.slice(at + 1);
}

/** Signs arbitrary body bytes correctly, to test what verify does with well-signed junk. */
function signRaw(bodyPart: string, key = current.privateKey): string {
  return `el1.${bodyPart}.${sign(null, Buffer.from(`el1.${bodyPart}`), key).toString('base64url')}`;
}

describe('tickets: sign and verify', () => {
  it('carries a bridge’s LAN ranges (`lan`) and rejects one that is not a prefix', () => {
    const lan = ['192.168.7.0/24', 'fd00:50::/64'];
    expect(verifyTicket(signTicket({ ...claims, macs: 16, lan }, current.privateKey), [current.publicKey], NOW).lan).toEqual(lan);
    const bad = Buffer.from(JSON.stringify({ v: 1, ...claims, lan: ['192.168.7.0'] })).toString('base64url');
    rejects(() => verifyTicket(signRaw(bad), [current.publicKey], NOW), 'EL_ERR_BAD_TICKET');
  });

  it('round-trips every claim, adding v and the signing key id', () => {
    const token = signTicket(claims, current.privateKey);
    const parts = token.split('.');
    expect(parts).toHaveLength(3);
    expect(parts[0]).toBe('el1');
    expect(parts[1]).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(parts[2]).toMatch(/^[A-Za-z0-9_-]+$/);
    // Ed25519 signatures are 64 bytes.
    expect(Buffer.from(parts[2], 'base64url')).toHaveLength(64);
    const got = verifyTicket(token, [current.publicKey], NOW);
    expect(got).toEqual({ v: 1, ...claims, kid: keyId(current.publicKey) });
  });

  it('carries the claims as plain base64url JSON, readable without the key', () => {
    const token = signTicket(claims, current.privateKey);
    const body = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
    expect(body).toMatchObject({ v: 1, sub: 'alice', seg: 'office', exp: NOW + 60 });
  });

  it('signs the ASCII text "el1." + claims part with Ed25519', () => {
    const token = signTicket(claims, current.privateKey);
    const [, body, sig] = token.split('.');
    // A peer in another language would check exactly this: a plain Ed25519 signature over the bytes.
    const again = sign(null, Buffer.from(`el1.${body}`), current.privateKey).toString('base64url');
    expect(sig).toBe(again); // Ed25519 is deterministic
  });

  it('computes kid as base64url of the first 9 bytes of SHA-256 of the SPKI DER', () => {
    const der = current.publicKey.export({ type: 'spki', format: 'der' });
    const expected = createHash('sha256').update(der).digest().subarray(0, 9).toString('base64url');
    expect(keyId(current.publicKey)).toBe(expected);
    expect(keyId(current.publicKey)).toHaveLength(12);
    expect(keyId(previous.publicKey)).not.toBe(expected);
    // Same key loaded again from PEM: same id.
    expect(keyId(publicKeyFromPem(publicKeyToPem(current.publicKey)))).toBe(expected);
  });

  it('keys survive a PEM round trip: a ticket signed with the reloaded key verifies with the original', () => {
    const reloaded = privateKeyFromPem(privateKeyToPem(current.privateKey));
    expect(verifyTicket(signTicket(claims, reloaded), [current.publicKey], NOW).sub).toBe('alice');
  });

  it('rejects non-Ed25519 PEM keys with EL_ERR_CONFIG', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    rejects(() => publicKeyFromPem(ec.publicKey.export({ type: 'spki', format: 'pem' }).toString()), 'EL_ERR_CONFIG');
    rejects(() => privateKeyFromPem(ec.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()), 'EL_ERR_CONFIG');
  });
});

describe('tickets: rejected with EL_ERR_BAD_TICKET', () => {
  const token = signTicket(claims, current.privateKey);
  const [, body, sig] = token.split('.');

  it('a tampered claims part', () => {
    const forged = Buffer.from(JSON.stringify({ v: 1, ...claims, sub: 'mallory', kid: keyId(current.publicKey) })).toString('base64url');
    rejects(() => verifyTicket(`el1.${forged}.${sig}`, [current.publicKey], NOW), 'EL_ERR_BAD_TICKET');
    rejects(() => verifyTicket(`el1.${flipChar(body, 10)}.${sig}`, [current.publicKey], NOW), 'EL_ERR_BAD_TICKET');
  });

  it('a tampered signature', () => {
    const err = rejects(() => verifyTicket(`el1.${body}.${flipChar(sig, 5)}`, [current.publicKey], NOW), 'EL_ERR_BAD_TICKET');
    expect(err.message).toMatch(/signature/);
    rejects(() => verifyTicket(`el1.${body}.${sig.slice(0, 40)}`, [current.publicKey], NOW), 'EL_ERR_BAD_TICKET');
    rejects(() => verifyTicket(`el1.${body}.`, [current.publicKey], NOW), 'EL_ERR_BAD_TICKET');
  });

  it('a ticket signed by a key that is not trusted', () => {
    rejects(() => verifyTicket(token, [stranger.publicKey], NOW), 'EL_ERR_BAD_TICKET');
    rejects(() => verifyTicket(token, [], NOW), 'EL_ERR_BAD_TICKET');
  });

  it('malformed tokens', () => {
    const cases: [string, RegExp][] = [
      [`el1.${body}`, /three/], // 2 parts
      [`el1.${body}.${sig}.extra`, /three/], // 4 parts
      [`${body}.${sig}`, /el1/], // no prefix
      [`el2.${body}.${sig}`, /el1/], // another version
      [`EL1.${body}.${sig}`, /el1/],
      ['', /el1/],
      ['el1.', /three/],
      ['el1..', /base64url/],
      [`el1.!!!$$$***.${sig}`, /base64url/], // not base64url
      [`el1.${body}.${sig.slice(0, 10)}=${sig.slice(10)}`, /base64url/], // a character the decoder would skip
      [`el1.${body}.${sig.slice(0, -1)}${sig.endsWith('A') ? 'B' : 'A'}`, /canonical|signature/], // the last character's spare bits
      [`el1.${Buffer.from('{"v":1,').toString('base64url')}.${sig}`, /JSON/], // not JSON
      [`el1.${Buffer.from('[1,2]').toString('base64url')}.${sig}`, /claims invalid/],
    ];
    for (const [t, why] of cases) {
      const err = rejects(() => verifyTicket(t, [current.publicKey], NOW), 'EL_ERR_BAD_TICKET');
      expect(err.message, t).toMatch(why);
    }
  });

  it('well-signed claims that do not match the schema', () => {
    const bad = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const base = { v: 1, ...claims };
    for (const o of [{ ...base, v: 2 }, { ...base, jti: 'short' }, { ...base, mode: 'l4' }, { ...base, exp: 'soon' }, { ...base, sub: '' }, { ...base, seg: undefined }]) {
      rejects(() => verifyTicket(signRaw(bad(o)), [current.publicKey], NOW), 'EL_ERR_BAD_TICKET');
    }
  });
});

describe('tickets: expiry', () => {
  const token = signTicket(claims, current.privateKey);

  it('is valid up to the second before exp, and expired from exp on', () => {
    expect(verifyTicket(token, [current.publicKey], NOW + 59).sub).toBe('alice');
    const err = rejects(() => verifyTicket(token, [current.publicKey], NOW + 60), 'EL_ERR_TICKET_EXPIRED');
    expect(err.message).toMatch(/expired 0 s ago/);
    expect(rejects(() => verifyTicket(token, [current.publicKey], NOW + 3600), 'EL_ERR_TICKET_EXPIRED').message).toMatch(/3540 s ago/);
  });

  it('checks the signature before the expiry: a forged expired ticket is BAD, not EXPIRED', () => {
    rejects(() => verifyTicket(token, [stranger.publicKey], NOW + 3600), 'EL_ERR_BAD_TICKET');
  });

  it('uses the wall clock by default', () => {
    const now = Math.floor(Date.now() / 1000);
    const fresh = signTicket({ ...claims, iat: now, exp: now + 60 }, current.privateKey);
    expect(verifyTicket(fresh, [current.publicKey]).sub).toBe('alice');
    const stale = signTicket({ ...claims, iat: now - 120, exp: now - 60 }, current.privateKey);
    rejects(() => verifyTicket(stale, [current.publicKey]), 'EL_ERR_TICKET_EXPIRED');
  });
});

describe('tickets: key rotation', () => {
  const fromCurrent = signTicket(claims, current.privateKey);
  const fromPrevious = signTicket({ ...claims, sub: 'bob' }, previous.privateKey);

  it('a list with the old and the new key verifies tickets from both, in either order', () => {
    for (const keys of [[current.publicKey, previous.publicKey], [previous.publicKey, current.publicKey]]) {
      expect(verifyTicket(fromCurrent, keys, NOW).sub).toBe('alice');
      expect(verifyTicket(fromPrevious, keys, NOW).sub).toBe('bob');
    }
  });

  it('once the old key is dropped, its tickets fail', () => {
    rejects(() => verifyTicket(fromPrevious, [current.publicKey], NOW), 'EL_ERR_BAD_TICKET');
  });

  it('names the signing key in kid, which selects it from the list', () => {
    const claimsOf = (t: string) => JSON.parse(Buffer.from(t.split('.')[1], 'base64url').toString('utf8')) as TicketClaims;
    expect(claimsOf(fromCurrent).kid).toBe(keyId(current.publicKey));
    expect(claimsOf(fromPrevious).kid).toBe(keyId(previous.publicKey));
    expect(verifyTicket(fromPrevious, [stranger.publicKey, current.publicKey, previous.publicKey], NOW).kid).toBe(keyId(previous.publicKey));
  });

  it('a ticket whose kid matches a trusted key but whose signature is by another key fails', () => {
    // Claims that name the trusted key's kid, signed by a stranger.
    const body = Buffer.from(JSON.stringify({ v: 1, ...claims, kid: keyId(current.publicKey) })).toString('base64url');
    rejects(() => verifyTicket(signRaw(body, stranger.privateKey), [current.publicKey, previous.publicKey], NOW), 'EL_ERR_BAD_TICKET');
  });

  it('a ticket whose kid matches no key falls back to trying every key, and fails if none signed it', () => {
    const unknownKid = Buffer.from(JSON.stringify({ v: 1, ...claims, kid: 'AAAAAAAAAAAA' })).toString('base64url');
    // Signed by a trusted key: accepted through the fallback.
    expect(verifyTicket(signRaw(unknownKid, previous.privateKey), [current.publicKey, previous.publicKey], NOW).sub).toBe('alice');
    // Signed by an untrusted key: no key in the list matches.
    rejects(() => verifyTicket(signRaw(unknownKid, stranger.privateKey), [current.publicKey, previous.publicKey], NOW), 'EL_ERR_BAD_TICKET');
    // No kid at all: the same.
    const noKid = Buffer.from(JSON.stringify({ v: 1, ...claims })).toString('base64url');
    expect(verifyTicket(signRaw(noKid, current.privateKey), [previous.publicKey, current.publicKey], NOW).sub).toBe('alice');
    rejects(() => verifyTicket(signRaw(noKid, stranger.privateKey), [previous.publicKey, current.publicKey], NOW), 'EL_ERR_BAD_TICKET');
  });
});

describe('tickets: verifyTicketUnsigned (authenticity proved otherwise, resume-proof.ts)', () => {
  const token = signTicket(claims, current.privateKey);

  it('accepts a ticket without checking its signature, but with a kid naming a trusted key and before exp', () => {
    // The signature bytes altered: still read (the caller proved the ticket otherwise).
    const sig = token.split('.')[2]!;
    const altered = `${token.slice(0, token.length - sig.length)}${flipChar(sig, 3)}`;
    rejects(() => verifyTicket(altered, [current.publicKey], NOW), 'EL_ERR_BAD_TICKET');
    expect(verifyTicketUnsigned(altered, [previous.publicKey, current.publicKey], NOW).sub).toBe('alice');
  });

  it('still refuses what verifyTicket refuses besides the signature: format, claims, untrusted or missing kid, expiry', () => {
    rejects(() => verifyTicketUnsigned('el2.x.y', [current.publicKey], NOW), 'EL_ERR_BAD_TICKET');
    rejects(() => verifyTicketUnsigned(signRaw(Buffer.from(JSON.stringify({ v: 1, ...claims, jti: 'short' })).toString('base64url')), [current.publicKey], NOW), 'EL_ERR_BAD_TICKET');
    expect(rejects(() => verifyTicketUnsigned(token, [previous.publicKey], NOW), 'EL_ERR_BAD_TICKET').message).toMatch(/no trusted broker key/);
    const noKid = signRaw(Buffer.from(JSON.stringify({ v: 1, ...claims })).toString('base64url'));
    rejects(() => verifyTicketUnsigned(noKid, [current.publicKey], NOW), 'EL_ERR_BAD_TICKET');
    rejects(() => verifyTicketUnsigned(token, [current.publicKey], NOW + 60), 'EL_ERR_TICKET_EXPIRED');
  });
});
