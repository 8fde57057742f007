/**
 * Remember tokens: proof that a device logged in successfully before, so the user-wide
 * failed-login limit (rate-limit.ts) cannot lock a user's own devices out.
 *
 *   elr1.<base64url JSON {sub, dev, exp}>.<base64url Ed25519 signature of "elr1.<payload>">
 *
 * Signed with the ticket key (every broker has it; rotation publishes old keys), and
 * told apart from tickets by the prefix inside the signed bytes (tickets sign "el1.…"),
 * so neither can pass for the other. A login reply carries a fresh one; the client
 * keeps it in memory and sends it with its next logins. It grants nothing by itself:
 * the password is still checked, and the per-source limits still apply.
 */
import { sign, verify, type KeyObject } from 'node:crypto';

const PREFIX = 'elr1.';
const MAX_TOKEN = 1024;

interface RememberClaims {
  sub: string;
  dev: string;
  /** Seconds since the epoch. */
  exp: number;
}

export function issueRemember(key: KeyObject, user: string, device: string, ttlSeconds: number, now = Date.now()): string {
  const claims: RememberClaims = { sub: user, dev: device, exp: Math.floor(now / 1000) + ttlSeconds };
  const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return `${PREFIX}${body}.${sign(null, Buffer.from(PREFIX + body), key).toString('base64url')}`;
}

/** True when `token` was signed by one of `keys` for this user and device and has not expired. */
export function rememberValid(token: string, keys: readonly KeyObject[], user: string, device: string, now = Date.now()): boolean {
  if (token.length > MAX_TOKEN || !token.startsWith(PREFIX)) return false;
  const parts = token.slice(PREFIX.length).split('.');
  if (parts.length !== 2) return false;
  const [body, sig] = parts as [string, string];
  const signature = Buffer.from(sig, 'base64url');
  if (!keys.some((k) => verify(null, Buffer.from(PREFIX + body), k, signature))) return false;
  let claims: Partial<RememberClaims>;
  try {
    claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Partial<RememberClaims>;
  } catch {
    return false;
  }
  return claims.sub === user && claims.dev === device && typeof claims.exp === 'number' && claims.exp * 1000 > now;
}
