/** The broker's Prometheus metrics, registered in the registry the process passes in. */
import * as prom from 'prom-client';
import { LIMIT_NAMES } from './rate-limit.js';
import { HEARTBEAT_RESULTS } from './node-routes.js';
import { CREDENTIAL_METHODS } from './login.js';

export type LoginResult = 'ok' | 'bad_credentials' | 'forbidden' | 'no_segment' | 'device_limit' | 'pool_exhausted' | 'no_node' | 'rate_limited' | 'unavailable' | 'invalid' | 'internal';

export const LOGIN_RESULTS: readonly LoginResult[] = ['ok', 'bad_credentials', 'forbidden', 'no_segment', 'device_limit', 'pool_exhausted', 'no_node', 'rate_limited', 'unavailable', 'invalid', 'internal'];

export type AdminAuthResult = 'ok' | 'bad_token' | 'rate_limited';
const ADMIN_AUTH_RESULTS: readonly AdminAuthResult[] = ['ok', 'bad_token', 'rate_limited'];

export interface BrokerMetrics {
  logins: prom.Counter<'result'>;
  deviceLogins: prom.Counter<'result'>;
  loginDuration: prom.Histogram<string>;
  leases: prom.Gauge<'segment'>;
  credentialChecks: prom.Counter<'method'>;
  rateLimited: prom.Counter<'limit'>;
  adminAuth: prom.Counter<'result'>;
  heartbeats: prom.Counter<'result'>;
}

export function createBrokerMetrics(registry: prom.Registry, segments: readonly string[], countLeases: (segment: string) => Promise<number | undefined>): BrokerMetrics {
  const logins = new prom.Counter({
    name: 'el_broker_logins_total',
    help: 'Login attempts by result.',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  // Zero-initialise every result so a dashboard sees the series before the first failure.
  for (const result of LOGIN_RESULTS) logins.inc({ result }, 0);
  const deviceLogins = new prom.Counter({
    name: 'el_broker_device_logins_total',
    help: 'Device logins (POST /v1/login/device: a ticket for a device key signature, no password hash) by result.',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  for (const result of LOGIN_RESULTS) deviceLogins.inc({ result }, 0);
  const loginDuration = new prom.Histogram({
    name: 'el_broker_login_duration_seconds',
    help: 'Time to answer a login, including the password hash check.',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const leases = new prom.Gauge({
    name: 'el_broker_leases',
    help: 'Address leases held per segment (user+device keys).',
    labelNames: ['segment'] as const,
    registers: [registry],
    async collect() {
      const counts = await Promise.all(segments.map((s) => countLeases(s)));
      // undefined: the store did not answer; the gauge keeps its last value.
      segments.forEach((segment, i) => counts[i] !== undefined && this.set({ segment }, counts[i]));
    },
  });
  const credentialChecks = new prom.Counter({
    name: 'el_broker_credential_checks_total',
    help: 'Credentials checked (password: a scrypt hash, digest, device_key: an Ed25519 signature), after the rate limits let the attempt through.',
    labelNames: ['method'] as const,
    registers: [registry],
  });
  for (const method of CREDENTIAL_METHODS) credentialChecks.inc({ method }, 0);
  const rateLimited = new prom.Counter({
    name: 'el_broker_rate_limited_total',
    help: 'Requests answered 429, by the limit that refused them.',
    labelNames: ['limit'] as const,
    registers: [registry],
  });
  for (const limit of LIMIT_NAMES) rateLimited.inc({ limit }, 0);
  const adminAuth = new prom.Counter({
    name: 'el_broker_admin_auth_total',
    help: 'Admin API requests by the outcome of their token check.',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  for (const result of ADMIN_AUTH_RESULTS) adminAuth.inc({ result }, 0);
  const heartbeats = new prom.Counter({
    name: 'el_broker_heartbeats_total',
    help: 'Switch node heartbeats received, by result (ok, bad_secret, rate_limited, disabled: no broker.clusterSecret, error: the store failed).',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  for (const result of HEARTBEAT_RESULTS) heartbeats.inc({ result }, 0);
  return { logins, deviceLogins, loginDuration, leases, credentialChecks, rateLimited, adminAuth, heartbeats };
}
