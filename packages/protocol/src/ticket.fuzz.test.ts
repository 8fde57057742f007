/**
 * Property-based tests of ticket verification: arbitrary strings, and valid tickets with
 * any edit (a character changed, inserted, deleted, the token cut short, parts swapped
 * between tickets, claims re-encoded), never verify and never throw anything but
 * EL_ERR_BAD_TICKET. fast-check prints the seed and the shrunk counterexample on failure.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { ElError } from './errors.js';
import { generateTicketKeyPair, signTicket, verifyTicket } from './ticket.js';

const RUNS = { numRuns: 300 };
const NOW = 1_700_000_000;
const trusted = generateTicketKeyPair();
const stranger = generateTicketKeyPair();
const keys = [trusted.publicKey];

/** The error code verifyTicket throws, or 'verified'; anything but an ElError fails the test. */
function verdict(token: string): string {
  try {
    verifyTicket(token, keys, NOW);
    return 'verified';
  } catch (e) {
    if (!(e instanceof ElError)) throw new Error(`verifyTicket threw a non-ElError: ${String(e)}`);
    return e.code;
  }
}

const claimsArb = fc.record({
  jti: fc.string({ minLength: 8, maxLength: 64 }),
  sub: fc.string({ minLength: 1, maxLength: 128 }),
  seg: fc.string({ minLength: 1, maxLength: 64 }),
  mode: fc.constantFrom('l2' as const, 'l3' as const),
  iat: fc.constant(NOW - 10),
  exp: fc.integer({ min: NOW + 1, max: NOW + 3600 }),
});

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const charArb = fc.oneof(fc.constantFrom(...B64URL.split('')), fc.constantFrom('.', '=', '+', '/', ' ', '\n', '\u0000', 'é', '\ud800'));

type Edit = { kind: 'replace' | 'insert'; at: number; ch: string } | { kind: 'delete' | 'truncate'; at: number };
const editArb: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constantFrom('replace' as const, 'insert' as const), at: fc.nat(), ch: charArb }),
  fc.record({ kind: fc.constantFrom('delete' as const, 'truncate' as const), at: fc.nat() }),
);

function applyEdit(token: string, e: Edit): string {
  const at = e.at % (token.length + (e.kind === 'insert' ? 1 : 0));
  switch (e.kind) {
    case 'replace':
      return token.slice(0, at) + e.ch + token.slice(at + 1);
    case 'insert':
      return token.slice(0, at) + e.ch + token.slice(at);
    case 'delete':
      return token.slice(0, at) + token.slice(at + 1);
    case 'truncate':
      return token.slice(0, at);
  }
}

describe('verifyTicket under arbitrary input (fast-check)', () => {
  it('arbitrary strings, with or without the el1. prefix and dots, never verify: EL_ERR_BAD_TICKET', () => {
    const tokenArb = fc.oneof(
      fc.string({ maxLength: 300, unit: 'binary' }),
      fc.tuple(fc.string({ maxLength: 200 }), fc.string({ maxLength: 120 })).map(([a, b]) => `el1.${a}.${b}`),
      fc.tuple(fc.base64String({ maxLength: 200 }), fc.base64String({ maxLength: 120 })).map(([a, b]) => `el1.${a}.${b}`),
      fc.tuple(fc.jsonValue({ maxDepth: 2 }), fc.uint8Array({ minLength: 64, maxLength: 64 })).map(([claims, sig]) => `el1.${Buffer.from(JSON.stringify(claims) ?? 'null').toString('base64url')}.${Buffer.from(sig).toString('base64url')}`),
    );
    fc.assert(
      fc.property(tokenArb, (token) => {
        expect(verdict(token)).toBe('EL_ERR_BAD_TICKET');
      }),
      RUNS,
    );
  });

  it('a valid ticket verifies; with any edit (one or more) it no longer does', () => {
    fc.assert(
      fc.property(claimsArb, fc.array(editArb, { minLength: 1, maxLength: 3 }), (claims, edits) => {
        const token = signTicket(claims, trusted.privateKey);
        expect(verdict(token)).toBe('verified');
        const edited = edits.reduce(applyEdit, token);
        fc.pre(edited !== token);
        expect(verdict(edited)).toBe('EL_ERR_BAD_TICKET');
      }),
      RUNS,
    );
  });

  it('claims edited and re-encoded, signatures swapped between tickets, or signed by another key: EL_ERR_BAD_TICKET', () => {
    fc.assert(
      fc.property(claimsArb, claimsArb, fc.constantFrom('sub', 'seg', 'mode', 'exp', 'jti', 'ipv4', 'macs', 'kid'), fc.jsonValue({ maxDepth: 1 }), (a, b, field, value) => {
        const ta = signTicket(a, trusted.privateKey);
        const tb = signTicket(b, trusted.privateKey);
        const [, bodyA, sigA] = ta.split('.');
        const [, bodyB, sigB] = tb.split('.');
        const claims = JSON.parse(Buffer.from(bodyA, 'base64url').toString('utf8')) as Record<string, unknown>;
        claims[field] = value;
        const rewritten = `el1.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${sigA}`;
        fc.pre(rewritten !== ta);
        expect(verdict(rewritten)).toBe('EL_ERR_BAD_TICKET');
        if (bodyA !== bodyB) {
          expect(verdict(`el1.${bodyA}.${sigB}`)).toBe('EL_ERR_BAD_TICKET');
          expect(verdict(`el1.${bodyB}.${sigA}`)).toBe('EL_ERR_BAD_TICKET');
        }
        expect(verdict(signTicket(a, stranger.privateKey))).toBe('EL_ERR_BAD_TICKET');
      }),
      { numRuns: 100 },
    );
  });

  it('an expired ticket is EL_ERR_TICKET_EXPIRED only when its signature holds', () => {
    fc.assert(
      fc.property(claimsArb, fc.integer({ min: 0, max: 10_000_000 }), editArb, (claims, ago, edit) => {
        const token = signTicket({ ...claims, exp: NOW - ago }, trusted.privateKey);
        expect(verdict(token)).toBe('EL_ERR_TICKET_EXPIRED');
        const edited = applyEdit(token, edit);
        fc.pre(edited !== token);
        expect(verdict(edited)).toBe('EL_ERR_BAD_TICKET');
      }),
      RUNS,
    );
  });
});
