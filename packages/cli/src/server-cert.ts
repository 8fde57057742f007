/**
 * The advertised name (switch.advertise, ELINK_ADVERTISE or --advertise) must be in the
 * server certificate, or clients that reach the broker by that name fail verification.
 * A certificate of the state directory's own CA is re-issued with it; an operator's
 * certificate is left alone and the missing names are reported.
 */
import { existsSync, readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { dirname, join } from 'node:path';
import type { LoadedConfig } from './config.js';
import { ensureServerCertificate } from './state.js';

export function advertisedNames(advertise: string | undefined): string[] {
  return (advertise ?? '').split(',').map((h) => h.trim()).filter(Boolean);
}

/** The names of `names` the certificate (PEM) does not cover (wildcards count, as in TLS). */
export function missingNames(certPem: string | Buffer, names: readonly string[]): string[] {
  const cert = new X509Certificate(certPem);
  return names.filter((n) => (isIP(n) ? cert.checkIP(n) === undefined : cert.checkHost(n) === undefined));
}

export type AdvertiseCheck = { state: 'ok' } | { state: 'reissued'; names: string[]; cert: string } | { state: 'missing'; names: string[]; cert: string };

export async function ensureAdvertisedNames(loaded: LoadedConfig): Promise<AdvertiseCheck> {
  const names = advertisedNames(loaded.config.switch.advertise);
  if (names.length === 0) return { state: 'ok' };
  const cert = loaded.path(loaded.config.tls.cert);
  if (!existsSync(cert)) return { state: 'missing', names, cert };
  const missing = missingNames(readFileSync(cert), names);
  if (missing.length === 0) return { state: 'ok' };
  // Only the layout `elink init` makes (server.pem/server.key beside our ca.pem/ca.key) is ours to re-issue.
  const dir = dirname(cert);
  const ours = cert === join(dir, 'server.pem') && loaded.path(loaded.config.tls.key) === join(dir, 'server.key') && loaded.path(loaded.config.tls.ca) === join(dir, 'ca.pem') && existsSync(join(dir, 'ca.key'));
  if (!ours) return { state: 'missing', names: missing, cert };
  await ensureServerCertificate(dir, names);
  return { state: 'reissued', names: missing, cert };
}

/** The warning for an operator's certificate that lacks the advertised names. */
export function missingNamesMessage(check: { names: string[]; cert: string }): string {
  return `the server certificate ${check.cert} does not name ${check.names.join(', ')} (switch.advertise / ELINK_ADVERTISE / --advertise): clients that connect by that name will fail to verify it. Issue a certificate with ${check.names.join(', ')} in its subjectAltName`;
}
