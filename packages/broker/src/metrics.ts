/** The broker's Prometheus metrics, registered in the registry the process passes in. */
import * as prom from 'prom-client';

export type LoginResult = 'ok' | 'bad_credentials' | 'forbidden' | 'no_segment' | 'pool_exhausted' | 'no_node' | 'rate_limited' | 'unavailable' | 'invalid' | 'internal';

export const LOGIN_RESULTS: readonly LoginResult[] = ['ok', 'bad_credentials', 'forbidden', 'no_segment', 'pool_exhausted', 'no_node', 'rate_limited', 'unavailable', 'invalid', 'internal'];

export interface BrokerMetrics {
  logins: prom.Counter<'result'>;
  loginDuration: prom.Histogram<string>;
  leases: prom.Gauge<'segment'>;
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
  return { logins, loginDuration, leases };
}
