/**
 * The admin port of every process: Prometheus metrics and health probes
 * (Kubernetes liveness = /healthz, readiness = /readyz).
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';

export interface AdminServerOptions {
  registry: Registry;
  logger: Logger;
  /** Resolves true when the process can do its job (stores reachable, listeners up). */
  ready: () => Promise<boolean> | boolean;
}

export function createAdminServer(opts: AdminServerOptions): FastifyInstance {
  const app = Fastify({ loggerInstance: opts.logger.child({ component: 'admin' }) as FastifyBaseLogger, disableRequestLogging: true });
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', opts.registry.contentType);
    return opts.registry.metrics();
  });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const ok = await Promise.resolve(opts.ready()).catch(() => false);
    reply.code(ok ? 200 : 503);
    return { status: ok ? 'ready' : 'not_ready' };
  });
  return app;
}
