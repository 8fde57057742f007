/**
 * The admin port of every process: Prometheus metrics and health probes
 * (Kubernetes liveness = /healthz, readiness = /readyz).
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { httpServerOptions, type HttpLimits } from '@elink/broker';
import type { HealthOk, HealthUnavailable } from '@elink/protocol';

export interface AdminServerOptions {
  registry: Registry;
  logger: Logger;
  /** The reasons the process is not ready (readiness.ts); empty = ready. A boolean is taken as it is. */
  ready: () => Promise<string[] | boolean> | string[] | boolean;
  /** Connection deadlines (headers, request, idle); defaults DEFAULT_HTTP_LIMITS. */
  httpLimits?: Partial<HttpLimits>;
}

export function createAdminServer(opts: AdminServerOptions): FastifyInstance {
  const { http, connectionTimeout, keepAliveTimeout, requestTimeout } = httpServerOptions(opts.httpLimits);
  const app = Fastify({ loggerInstance: opts.logger.child({ component: 'admin' }) as FastifyBaseLogger, http, connectionTimeout, keepAliveTimeout, requestTimeout });
  // Scrapes and probes arrive every few seconds: log them only when something is wrong.
  const quiet = { logLevel: 'warn' as const };
  app.get('/metrics', quiet, async (_req, reply) => {
    reply.header('content-type', opts.registry.contentType);
    return opts.registry.metrics();
  });
  app.get('/healthz', quiet, async (): Promise<HealthOk> => ({ status: 'ok' }));
  app.get('/readyz', quiet, async (_req, reply): Promise<HealthOk | HealthUnavailable> => {
    // The same answer as the broker's /readyz (docs/operations.md, "Health").
    const r = await Promise.resolve(opts.ready()).catch((err: unknown) => [`readiness check failed: ${(err as Error).message}`]);
    const reasons = r === true ? [] : r === false ? ['not ready'] : r;
    if (reasons.length === 0) return { status: 'ok' };
    reply.code(503);
    return { status: 'unavailable', error: 'EL_ERR_UNAVAILABLE', message: reasons.join('; ') };
  });
  return app;
}
