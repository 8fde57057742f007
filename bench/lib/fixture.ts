/** A throwaway CA, server certificate (ECDSA P-256, from @elink/pki) and ticket key. */
import { randomBytes, createPrivateKey, type KeyObject } from 'node:crypto';
import { createCertificateAuthority, issueServerCertificate } from '@elink/pki';
import { generateTicketKeyPair, signTicket, formatMac } from '@elink/protocol';

export interface BenchFixture {
  caPem: string;
  certPem: string;
  keyPem: string;
  ticketPrivatePem: string;
  ticketPublicPem: string;
}

export async function makeFixture(): Promise<BenchFixture> {
  const ca = await createCertificateAuthority('bench CA');
  const cert = await issueServerCertificate(ca, ['localhost', '127.0.0.1']);
  const t = generateTicketKeyPair();
  return {
    caPem: ca.certPem,
    certPem: cert.certPem,
    keyPem: cert.keyPem,
    ticketPrivatePem: t.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    ticketPublicPem: t.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** Idle session n of idle-clients.ts uses MAC IDLE_MAC_BASE + n. */
export const IDLE_MAC_BASE = 0x02e1c0000000;

/** A fresh single-use ticket for `segment` (an L2 one) with its own MAC. */
/** `dk`: bind the ticket to this device key (raw, base64url): hello must carry its proof. */
export function ticketFor(privatePem: string | KeyObject, user: string, mac: number, ttl = 600, segment = 'lan', dk?: string): string {
  const key = typeof privatePem === 'string' ? createPrivateKey(privatePem) : privatePem;
  const now = Math.floor(Date.now() / 1000);
  return signTicket({ jti: randomBytes(12).toString('base64url'), sub: user, seg: segment, mode: 'l2', mac: formatMac(mac), iat: now, exp: now + ttl, ...(dk ? { dk } : {}) }, key);
}
