import { describe, it, expect } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { generateTicketKeyPair, verifyTicket } from '@elink/protocol';
import { TicketIssuer } from './tickets.js';

describe('TicketIssuer', () => {
  it('signs tickets a switch verifies, with a fresh jti and exp = iat + ttl', () => {
    const keys = generateTicketKeyPair();
    const now = 1_800_000_000_000;
    const issuer = new TicketIssuer(keys.privateKey, 90, () => now);
    const a = issuer.issue({ sub: 'alice', seg: 'lan', mode: 'l2', dev: 'default', mac: '02:00:00:00:00:01', ipv4: '198.19.0.2/16' });
    const b = issuer.issue({ sub: 'alice', seg: 'lan', mode: 'l2' });
    const claims = verifyTicket(a.ticket, [keys.publicKey], now / 1000);
    expect(claims).toMatchObject({ sub: 'alice', seg: 'lan', mode: 'l2', dev: 'default', mac: '02:00:00:00:00:01', ipv4: '198.19.0.2/16', iat: now / 1000, exp: now / 1000 + 90, jti: a.jti });
    expect(Buffer.from(a.jti, 'base64url')).toHaveLength(16);
    expect(a.jti).not.toBe(b.jti);
    expect(a.expiresAt.toISOString()).toBe(new Date(now + 90_000).toISOString());
    expect(() => verifyTicket(a.ticket, [keys.publicKey], now / 1000 + 90)).toThrow(expect.objectContaining({ code: 'EL_ERR_TICKET_EXPIRED' }));
  });

  it('refuses keys that are not Ed25519 private keys and silly TTLs', () => {
    const keys = generateTicketKeyPair();
    expect(() => new TicketIssuer(keys.publicKey)).toThrow(expect.objectContaining({ code: 'EL_ERR_CONFIG' }));
    expect(() => new TicketIssuer(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey)).toThrow(expect.objectContaining({ code: 'EL_ERR_CONFIG' }));
    expect(() => new TicketIssuer(keys.privateKey, 0)).toThrow(expect.objectContaining({ code: 'EL_ERR_CONFIG' }));
    expect(() => new TicketIssuer(keys.privateKey, 1.5)).toThrow(expect.objectContaining({ code: 'EL_ERR_CONFIG' }));
  });
});
