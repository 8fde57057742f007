/** The console's metrics (docs/operations.md, Broker). */
import * as prom from 'prom-client';

export type ConsoleLoginResult = 'ok' | 'refused' | 'rate_limited' | 'error';
const RESULTS: readonly ConsoleLoginResult[] = ['ok', 'refused', 'rate_limited', 'error'];

export function registerConsoleMetrics(registry: prom.Registry, read: { sessions: () => number; streams: () => number }): { logins: prom.Counter<'result'> } {
  new prom.Gauge({ name: 'el_broker_console_sessions', help: 'Console sign-ins this broker holds (broker.console.maxSessions at most).', registers: [registry], collect() { this.set(read.sessions()); } });
  new prom.Gauge({ name: 'el_broker_console_streams', help: 'Open console event streams (GET /v1/admin/events) on this broker.', registers: [registry], collect() { this.set(read.streams()); } });
  const logins = new prom.Counter({ name: 'el_broker_console_logins_total', help: 'Console sign-ins (POST /v1/console/login) by result.', labelNames: ['result'], registers: [registry] });
  for (const result of RESULTS) logins.inc({ result }, 0);
  return { logins };
}
