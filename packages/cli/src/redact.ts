/**
 * The effective configuration with its secrets replaced, for `elink config check`:
 * cluster secret, admin token, password hashes, digest secrets, Redis passwords.
 */
import type { Config } from './config.js';

export const REDACTED = '(redacted)';

export function redactConfig(config: Config): unknown {
  const c = structuredClone(config) as Config & Record<string, unknown>;
  if (c.broker.clusterSecret !== undefined) c.broker.clusterSecret = REDACTED;
  if (c.broker.adminToken !== undefined) c.broker.adminToken = REDACTED;
  if (c.switch.broker) c.switch.broker.clusterSecret = REDACTED;
  const store = c.broker.store as Record<string, unknown>;
  if (typeof store.password === 'string') store.password = REDACTED;
  if (typeof store.url === 'string') store.url = store.url.replace(/\/\/([^@/]*)@/, `//${REDACTED}@`);
  for (const u of c.users) {
    u.password = REDACTED;
    if (u.digestSecret !== undefined) u.digestSecret = REDACTED;
  }
  return c;
}
