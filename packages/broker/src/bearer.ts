/** Bearer-token checks for the cluster secret and the admin token: constant time, one error. */
import { createHash, timingSafeEqual } from 'node:crypto';
import { ElError } from '@elink/protocol';

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** Throws EL_ERR_AUTH unless `header` is `Bearer <expected>`. */
export function requireBearer(header: string | undefined, expected: string, what: string): void {
  const given = header?.startsWith('Bearer ') ? header.slice(7) : '';
  // Hashing first makes the comparison constant-time whatever the lengths.
  if (!timingSafeEqual(digest(given), digest(expected))) throw new ElError('EL_ERR_AUTH', `missing or wrong ${what} (Authorization: Bearer …)`);
}

/** Constant-time comparison of a secret given some other way (the console's sign-in body). */
export function secretMatches(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}
