/**
 * Which failures end the client and which it retries. A permanent failure is one no wait
 * changes: someone has to fix a flag, a password, the CA or the broker's configuration.
 * Retrying it only repeats it, and failed logins fill the broker's rate limits for the
 * user's other devices. Everything else (unreachable, 5xx, node full or draining,
 * ticket trouble, a lost session) is transient: retried with backoff.
 */
import type { ElError, ErrorCode } from '@elink/protocol';

export const PERMANENT_FAILURES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'EL_ERR_CERTIFICATE',
  'EL_ERR_AUTH',
  'EL_ERR_PROXY_AUTH',
  'EL_ERR_FORBIDDEN',
  'EL_ERR_NO_SEGMENT',
  'EL_ERR_DEVICE_LIMIT',
  'EL_ERR_SUPERSEDED',
  'EL_ERR_DISABLED',
  'EL_ERR_INVALID',
]);

export function isPermanent(err: ElError): boolean {
  return PERMANENT_FAILURES.has(err.code);
}
