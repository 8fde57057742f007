/**
 * Tickets: what a broker hands a client after login and a switch node checks in `hello`.
 *
 *   el1.<base64url(JSON claims)>.<base64url(Ed25519 signature over "el1." + part 2)>
 *
 * Short-lived, single-use (the node remembers `jti` until `exp`), and verified against
 * a list of broker public keys so keys can rotate: `kid` names the signing key.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { ElError } from './errors.js';
import { cidrSchema } from './segment.js';
import { deviceKeySchema } from './device-key.js';

const PREFIX = 'el1.';
const BASE64URL = /^[A-Za-z0-9_-]+$/;

export const ticketClaimsSchema = z.object({
  v: z.literal(1),
  /** Unique ticket id; a node accepts it once. */
  jti: z.string().min(8).max(64),
  /** User name. */
  sub: z.string().min(1).max(128),
  /** Segment name. */
  seg: z.string().min(1).max(64),
  mode: z.enum(['l2', 'l3']),
  /** Device id the lease is bound to. */
  dev: z.string().max(128).optional(),
  /** Fixed MAC for this client, if the broker assigned one. */
  mac: z.string().optional(),
  /** Addresses assigned by the broker, CIDR notation (address/prefix-length). */
  ipv4: z.string().optional(),
  ipv6: z.string().optional(),
  /** Delegated prefixes routed to this session (L3): IPv6 (`prefix`) and IPv4 (`prefix4`). */
  prefix: z.string().optional(),
  prefix4: z.string().optional(),
  /** Source MACs this session may use, overriding the segment's macsPerSession: a
   * bridge (a client with a LAN behind it) needs many, a phone one. */
  macs: z.number().int().min(1).max(65536).optional(),
  /** LAN ranges a bridge session (more than one MAC) may claim in ARP and ND, overriding
   * the segment's bridgeRanges. */
  lan: z.array(cidrSchema).max(64).optional(),
  /** Issued at and expiry, seconds since the epoch. */
  iat: z.number().int(),
  exp: z.number().int(),
  /** Signing key id (see keyId). */
  kid: z.string().max(32).optional(),
  /** The device key (raw Ed25519, base64url) this ticket is bound to: hello must carry
   * its proof over the connection's channel binding (device-key.ts). */
  dk: deviceKeySchema.optional(),
});
export type TicketClaims = z.infer<typeof ticketClaimsSchema>;

export interface TicketKeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export function generateTicketKeyPair(): TicketKeyPair {
  return generateKeyPairSync('ed25519');
}

/** A short, stable id for a public key: base64url of the first 9 bytes of SHA-256 of its DER. */
const keyIds = new WeakMap<KeyObject, string>();
export function keyId(publicKey: KeyObject): string {
  const known = keyIds.get(publicKey);
  if (known) return known;
  const der = publicKey.export({ type: 'spki', format: 'der' });
  const id = createHash('sha256').update(der).digest().subarray(0, 9).toString('base64url');
  keyIds.set(publicKey, id);
  return id;
}

export function publicKeyToPem(key: KeyObject): string {
  return key.export({ type: 'spki', format: 'pem' }).toString();
}

export function privateKeyToPem(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }).toString();
}

export function publicKeyFromPem(pem: string): KeyObject {
  const key = createPublicKey(pem);
  if (key.asymmetricKeyType !== 'ed25519') throw new ElError('EL_ERR_CONFIG', `ticket public key must be Ed25519, got ${key.asymmetricKeyType}`);
  return key;
}

export function privateKeyFromPem(pem: string): KeyObject {
  const key = createPrivateKey(pem);
  if (key.asymmetricKeyType !== 'ed25519') throw new ElError('EL_ERR_CONFIG', `ticket signing key must be Ed25519, got ${key.asymmetricKeyType}`);
  return key;
}

export function signTicket(claims: Omit<TicketClaims, 'v' | 'kid'>, privateKey: KeyObject): string {
  const publicKey = createPublicKey(privateKey);
  const full: TicketClaims = { v: 1, ...claims, kid: keyId(publicKey) };
  const body = Buffer.from(JSON.stringify(full)).toString('base64url');
  const signature = sign(null, Buffer.from(PREFIX + body), privateKey).toString('base64url');
  return `${PREFIX}${body}.${signature}`;
}

/** A ticket split and its claims checked (format and schema), nothing trusted yet. */
interface ParsedTicket {
  claims: TicketClaims;
  /** Part 2 (the claims) and part 3 (the signature) as sent. */
  body: string;
  signatureText: string;
}

function parseTicket(token: string): ParsedTicket {
  if (!token.startsWith(PREFIX)) throw new ElError('EL_ERR_BAD_TICKET', 'ticket does not start with el1.');
  const dot = token.indexOf('.', PREFIX.length);
  if (dot < 0 || token.indexOf('.', dot + 1) >= 0) throw new ElError('EL_ERR_BAD_TICKET', 'ticket must have three dot-separated parts');
  const body = token.slice(PREFIX.length, dot);
  const signatureText = token.slice(dot + 1);
  // Node's base64url decoder skips foreign characters and ignores the last character's
  // spare bits, so without these checks many strings would carry one valid signature.
  if (!BASE64URL.test(body) || !BASE64URL.test(signatureText)) throw new ElError('EL_ERR_BAD_TICKET', 'ticket parts must be base64url');

  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    throw new ElError('EL_ERR_BAD_TICKET', 'ticket claims are not valid JSON');
  }
  const parsed = ticketClaimsSchema.safeParse(json);
  if (!parsed.success) throw new ElError('EL_ERR_BAD_TICKET', `ticket claims invalid: ${parsed.error.issues[0]?.message ?? 'unknown'}`);
  return { claims: parsed.data, body, signatureText };
}

/** The signature's bytes, canonical base64url only (verifyTicket; the resume path has no use for them). */
function signatureOf(t: ParsedTicket): Buffer {
  const signature = Buffer.from(t.signatureText, 'base64url');
  if (signature.toString('base64url') !== t.signatureText) throw new ElError('EL_ERR_BAD_TICKET', 'ticket signature is not canonical base64url');
  return signature;
}

function checkExpiry(claims: TicketClaims, nowSeconds: number): void {
  if (claims.exp <= nowSeconds) throw new ElError('EL_ERR_TICKET_EXPIRED', `ticket expired ${nowSeconds - claims.exp} s ago`);
}

/**
 * Checks format, signature (against any of `publicKeys`, by `kid` when it matches one)
 * and expiry. Throws ElError: EL_ERR_BAD_TICKET or EL_ERR_TICKET_EXPIRED. Replay and
 * segment checks are the caller's, which knows what it has seen and hosts.
 */
export function verifyTicket(token: string, publicKeys: readonly KeyObject[], nowSeconds = Math.floor(Date.now() / 1000)): TicketClaims {
  const parsed = parseTicket(token);
  const { claims } = parsed;
  const signature = signatureOf(parsed);
  // The bytes the signature covers: "el1." + part 2.
  const signed = Buffer.from(PREFIX + parsed.body);
  const byId = claims.kid ? publicKeys.filter((k) => keyId(k) === claims.kid) : [];
  const candidates = byId.length ? byId : publicKeys;
  const ok = candidates.some((key) => {
    try {
      return verify(null, signed, key, signature);
    } catch {
      return false;
    }
  });
  if (!ok) throw new ElError('EL_ERR_BAD_TICKET', 'ticket signature does not match any trusted broker key');
  checkExpiry(claims, nowSeconds);
  return claims;
}

/**
 * verifyTicket without the signature check, for a ticket whose authenticity the caller
 * proved otherwise (a resume proof, resume-proof.ts: only a node that verified this
 * exact ticket gave out its secret). Everything else still holds: format, claims, a
 * `kid` naming one of `publicKeys` (a rotated-out broker key ends resumption with it)
 * and expiry. Throws ElError like verifyTicket. Never trust a ticket on this alone.
 */
export function verifyTicketUnsigned(token: string, publicKeys: readonly KeyObject[], nowSeconds = Math.floor(Date.now() / 1000)): TicketClaims {
  const { claims } = parseTicket(token);
  if (claims.kid === undefined || !publicKeys.some((k) => keyId(k) === claims.kid)) throw new ElError('EL_ERR_BAD_TICKET', 'ticket names no trusted broker key');
  checkExpiry(claims, nowSeconds);
  return claims;
}

/**
 * The claims of a ticket, read without checking anything: for its holder (a client
 * deciding whether it is bound to a device key, how long it lasts). Undefined when it
 * is not a well-formed ticket. Never use it to trust a ticket: that is verifyTicket.
 */
export function peekTicketClaims(token: string): TicketClaims | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || `${parts[0]}.` !== PREFIX) return undefined;
  try {
    const parsed = ticketClaimsSchema.safeParse(JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
