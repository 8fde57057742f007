/** The DTCP listener's metrics (el_dtcp_*, docs/operations.md and docs/dtcp.md). */
import { Counter, Gauge, type Registry } from 'prom-client';
import { DTCP_TYPES, type DtcpType } from '@elink/protocol';

/** Why a command or connection failed: the `reason` label of el_dtcp_failures_total. */
export type DtcpFailure =
  | 'auth'
  | 'rate_limited'
  | 'unsupported_type'
  | 'invalid_command'
  | 'line_too_long'
  | 'too_many_lines'
  | 'timeout'
  | 'slow_reader'
  | 'forbidden'
  | 'no_segment'
  | 'pool_exhausted'
  | 'device_limit'
  | 'address_in_use'
  | 'no_ipv4'
  | 'max_tunnels'
  | 'plane'
  | 'draining'
  | 'unavailable';

export const DTCP_FAILURES: readonly DtcpFailure[] = ['auth', 'rate_limited', 'unsupported_type', 'invalid_command', 'line_too_long', 'too_many_lines', 'timeout', 'slow_reader', 'forbidden', 'no_segment', 'pool_exhausted', 'device_limit', 'address_in_use', 'no_ipv4', 'max_tunnels', 'plane', 'draining', 'unavailable'];

export interface DtcpMetrics {
  failed(reason: DtcpFailure): void;
  opened(type: DtcpType): void;
}

export interface DtcpGauges {
  connections: () => number;
  tunnels: () => Record<DtcpType, number>;
}

export function registerDtcpMetrics(registry: Registry, gauges: DtcpGauges): DtcpMetrics {
  const registers = [registry];
  const failures = new Counter({ name: 'el_dtcp_failures_total', help: 'DTCP commands and connections that failed, by reason (auth: wrong user or digest; rate_limited; timeout; line_too_long; …; unavailable: no broker answered)', labelNames: ['reason'] as const, registers });
  for (const reason of DTCP_FAILURES) failures.inc({ reason }, 0);
  const opened = new Counter({ name: 'el_dtcp_tunnels_opened_total', help: 'DTCP tunnels granted and opened, by type', labelNames: ['type'] as const, registers });
  for (const type of DTCP_TYPES) opened.inc({ type }, 0);
  new Gauge({
    name: 'el_dtcp_tunnels',
    help: 'DTCP tunnels up now, by type',
    labelNames: ['type'] as const,
    registers,
    collect() {
      for (const [type, n] of Object.entries(gauges.tunnels())) this.set({ type }, n);
    },
  });
  new Gauge({
    name: 'el_dtcp_connections',
    help: 'DTCP TCP connections open now (with or without a tunnel)',
    registers,
    collect() {
      this.set(gauges.connections());
    },
  });
  return { failed: (reason) => failures.inc({ reason }), opened: (type) => opened.inc({ type }) };
}
