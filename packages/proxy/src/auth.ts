/**
 * The one user name and password of a proxy's listeners (SOCKS5 RFC 1929 and HTTP
 * Proxy-Authorization: Basic), compared in constant time.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ElError } from '@elink/protocol';

export interface ProxyAuth {
  user: string;
  password: string;
}

const digest = (b: Uint8Array | string) => createHash('sha256').update(b).digest();

export function credentialsMatch(auth: ProxyAuth, user: Uint8Array | string, password: Uint8Array | string): boolean {
  // Both compared, always: the time does not tell which one was wrong.
  const u = timingSafeEqual(digest(user), digest(auth.user));
  const p = timingSafeEqual(digest(password), digest(auth.password));
  return u && p;
}

/** `Proxy-Authorization: Basic …` against the credentials. */
export function basicMatches(auth: ProxyAuth, header: string | undefined): boolean {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!m) return false;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return false;
  return credentialsMatch(auth, decoded.slice(0, colon), decoded.slice(colon + 1));
}

/** A file whose first line is `user:password` (1–255 bytes each, RFC 1929's limits). */
export function readAuthFile(file: string): ProxyAuth {
  let line: string;
  try {
    line = readFileSync(file, 'utf8').split('\n')[0]!.replace(/\r$/, '');
  } catch (e) {
    throw new ElError('EL_ERR_INVALID', `cannot read ${file}: ${(e as Error).message}`);
  }
  const colon = line.indexOf(':');
  const user = colon > 0 ? line.slice(0, colon) : '';
  const password = colon > 0 ? line.slice(colon + 1) : '';
  const ok = (s: string) => Buffer.byteLength(s) >= 1 && Buffer.byteLength(s) <= 255;
  if (!ok(user) || !ok(password)) throw new ElError('EL_ERR_INVALID', `${file}: the first line must be user:password, each 1-255 bytes`);
  return { user, password };
}
