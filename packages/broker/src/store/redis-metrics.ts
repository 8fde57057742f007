/**
 * Metrics of the Redis store: how long its operations take and how often they fail,
 * so a slow or flapping Redis shows before logins time out.
 */
import { Counter, Histogram, type Registry } from 'prom-client';

export interface RedisObserver {
  /** One store operation (`op`: a fixed name such as "claim", "get_user") finished. */
  operation(op: string, seconds: number, ok: boolean): void;
  /** The client reported a connection error (it reconnects by itself). */
  connectionError(): void;
}

export function redisMetrics(registry: Registry): RedisObserver {
  const registers = [registry];
  const duration = new Histogram({
    name: 'el_broker_redis_command_duration_seconds',
    help: 'Time of each Redis store operation (one or more commands or a Lua script), failed ones included, by operation.',
    labelNames: ['op'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers,
  });
  const errors = new Counter({
    name: 'el_broker_redis_errors_total',
    help: 'Redis store operations that failed (answered 503 EL_ERR_UNAVAILABLE), by operation; op="connection" counts client connection errors.',
    labelNames: ['op'] as const,
    registers,
  });
  errors.inc({ op: 'connection' }, 0);
  return {
    operation(op, seconds, ok) {
      duration.observe({ op }, seconds);
      if (!ok) errors.inc({ op });
    },
    connectionError() {
      errors.inc({ op: 'connection' });
    },
  };
}
