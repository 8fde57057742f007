/**
 * The broker's HTTP API (fastify). Routes:
 *
 *   POST /v1/login  {user, password, segment?, device?} → ticket, servers, addresses, MAC
 *   GET  /healthz   the process is up
 *   GET  /readyz    the user directory and lease store answer
 *
 * Every error reply is `{error: EL_ERR_*, message}` — fastify's own (schema, body
 * size, content type, unknown route) included — so clients handle one shape.
 * Metrics are not served here: the process's admin listener serves the registry.
 */
import type { KeyObject } from 'node:crypto';
import { fastify, type FastifyInstance, type FastifyReply } from 'fastify';
import type { pino } from 'pino';
import * as prom from 'prom-client';
import { ElError, type ErrorCode, type SegmentDef } from '@elink/protocol';
import { Ipam } from './ipam.js';
import { MemoryLeaseStore, type LeaseStore } from './lease-store.js';
import { DEFAULT_DEVICE, LoginService, type LoginRequest } from './login.js';
import { createBrokerMetrics, type LoginResult } from './metrics.js';
import type { NodeContext, NodeInfo } from './nodes.js';
import { TicketIssuer } from './tickets.js';
import type { UserDirectory } from './users.js';

export interface BrokerHttpsOptions {
  cert: string | Buffer;
  key: string | Buffer;
}

export interface BrokerOptions {
  /** Segment definitions, parsed with defaults (segmentSchema from @elink/protocol). */
  segments: SegmentDef[];
  users: UserDirectory;
  /** Default: a MemoryLeaseStore (leases last as long as the process). */
  leases?: LeaseStore;
  /** Ed25519 private key that signs tickets. */
  signingKey: KeyObject;
  nodes: (ctx: NodeContext) => NodeInfo[];
  /** Default 60. */
  ticketTtlSeconds?: number;
  logger: pino.Logger;
  /** Default: a new Registry (metrics then go nowhere; pass the process's registry). */
  registry?: prom.Registry;
  /** Serve HTTPS with this certificate; absent = plain HTTP (behind a TLS-terminating ingress). */
  https?: BrokerHttpsOptions;
}

/** HTTP status and metric label for each error code a login can end with. */
const LOGIN_ERRORS: Partial<Record<ErrorCode, { status: number; result: LoginResult }>> = {
  EL_ERR_INVALID: { status: 400, result: 'invalid' },
  EL_ERR_AUTH: { status: 401, result: 'bad_credentials' },
  EL_ERR_FORBIDDEN: { status: 403, result: 'forbidden' },
  EL_ERR_NO_SEGMENT: { status: 404, result: 'no_segment' },
  EL_ERR_POOL_EXHAUSTED: { status: 503, result: 'pool_exhausted' },
  EL_ERR_NO_NODE: { status: 503, result: 'no_node' },
};

const READY_TIMEOUT_MS = 2000;
const SEGMENT_NAME = '^[a-z0-9][a-z0-9_-]{0,62}$';

const errorReply = {
  type: 'object',
  required: ['error', 'message'],
  properties: { error: { type: 'string' }, message: { type: 'string' } },
} as const;

const loginSchema = {
  body: {
    type: 'object',
    additionalProperties: false,
    required: ['user', 'password'],
    properties: {
      user: { type: 'string', minLength: 1, maxLength: 128 },
      password: { type: 'string', minLength: 1, maxLength: 1024 },
      segment: { type: 'string', pattern: SEGMENT_NAME },
      device: { type: 'string', minLength: 1, maxLength: 128 },
    },
  },
  response: {
    200: {
      type: 'object',
      required: ['ticket', 'expiresAt', 'servers', 'segment', 'mode', 'mac'],
      properties: {
        ticket: { type: 'string' },
        expiresAt: { type: 'string' },
        servers: {
          type: 'array',
          items: {
            type: 'object',
            required: ['node', 'host', 'port'],
            properties: { node: { type: 'string' }, host: { type: 'string' }, port: { type: 'integer' }, fingerprint: { type: 'string' } },
          },
        },
        segment: { type: 'string' },
        mode: { type: 'string', enum: ['l2', 'l3'] },
        mac: { type: 'string' },
        ipv4: { type: 'string' },
        ipv6: { type: 'string' },
      },
    },
    '4xx': errorReply,
    '5xx': errorReply,
  },
} as const;

const statusSchema = {
  response: {
    200: { type: 'object', required: ['status'], properties: { status: { type: 'string' } } },
    503: { type: 'object', required: ['status', 'error', 'message'], properties: { status: { type: 'string' }, error: { type: 'string' }, message: { type: 'string' } } },
  },
} as const;

function sendError(reply: FastifyReply, status: number, error: ErrorCode, message: string): FastifyReply {
  return reply.code(status).send({ error, message });
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ElError('EL_ERR_UNAVAILABLE', `${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export async function createBrokerApp(opts: BrokerOptions): Promise<FastifyInstance> {
  const names = opts.segments.map((s) => s.name);
  const duplicate = names.find((n, i) => names.indexOf(n) !== i);
  if (duplicate !== undefined) throw new ElError('EL_ERR_CONFIG', `segment "${duplicate}" is defined twice`);
  const leases = opts.leases ?? new MemoryLeaseStore();
  const registry = opts.registry ?? new prom.Registry();
  const ipam = new Ipam(opts.segments, leases);
  const issuer = new TicketIssuer(opts.signingKey, opts.ticketTtlSeconds);
  const service = await LoginService.create({ segments: opts.segments, users: opts.users, ipam, issuer, nodes: opts.nodes });
  const metrics = createBrokerMetrics(registry, names, (s) => ipam.count(s));

  const app = fastify({
    loggerInstance: opts.logger,
    https: opts.https ? { cert: opts.https.cert, key: opts.https.key } : null,
    bodyLimit: 16 * 1024,
    ajv: {
      // Reject what the schema does not allow instead of silently fixing it up.
      customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false },
    },
  });

  app.setErrorHandler((error: unknown, request, reply) => {
    const e = error as { validation?: unknown; statusCode?: number; message?: string };
    if (e.validation) {
      return sendError(reply, 400, 'EL_ERR_INVALID', `invalid request: ${e.message ?? 'does not match the schema'}`);
    }
    if (error instanceof ElError) {
      const known = LOGIN_ERRORS[error.code];
      if (known) return sendError(reply, known.status, error.code, error.message);
    }
    if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
      // fastify's own client errors: body too large, bad JSON, wrong content type.
      return sendError(reply, e.statusCode, 'EL_ERR_INVALID', e.message ?? 'invalid request');
    }
    // A bug or a failing store: the details (which may name internals) go to the log only.
    request.log.error({ err: error }, 'request failed');
    return sendError(reply, 500, 'EL_ERR_INTERNAL', 'internal error; the broker log has the details');
  });

  app.setNotFoundHandler((request, reply) => sendError(reply, 404, 'EL_ERR_INVALID', `no route ${request.method} ${request.url.split('?')[0]}`));

  // Logins that never reach the handler (schema, JSON, body size) or fail inside it
  // unexpectedly are counted here, so every login attempt is counted exactly once.
  const counted = new WeakSet<object>();
  app.addHook('onResponse', async (request, reply) => {
    if (request.routeOptions.url !== '/v1/login' || counted.has(request)) return;
    metrics.logins.inc({ result: reply.statusCode < 500 ? 'invalid' : 'internal' });
  });

  app.post<{ Body: LoginRequest }>('/v1/login', { schema: loginSchema }, async (request, reply) => {
    const endTimer = metrics.loginDuration.startTimer();
    const { user, segment, device } = request.body;
    try {
      const result = await service.login(request.body, { localAddress: request.socket.localAddress });
      metrics.logins.inc({ result: 'ok' });
      counted.add(request);
      request.log.info({ user, segment: result.segment, device: device ?? DEFAULT_DEVICE, ipv4: result.ipv4, ipv6: result.ipv6 }, 'login ok');
      return result;
    } catch (err) {
      const known = err instanceof ElError ? LOGIN_ERRORS[err.code] : undefined;
      if (!known || !(err instanceof ElError)) throw err;
      metrics.logins.inc({ result: known.result });
      counted.add(request);
      request.log.info({ user, segment, device, code: err.code }, 'login refused');
      return sendError(reply, known.status, err.code, err.message);
    } finally {
      endTimer();
    }
  });

  app.get('/healthz', { schema: statusSchema }, async () => ({ status: 'ok' }));

  app.get('/readyz', { schema: statusSchema }, async (request, reply) => {
    try {
      await withTimeout(Promise.all([leases.ping(), opts.users.ping?.()]), READY_TIMEOUT_MS, 'the lease store or user directory');
      return { status: 'ok' };
    } catch (err) {
      request.log.warn({ err }, 'not ready');
      const message = err instanceof ElError ? err.message : `a store failed: ${(err as Error).message}`;
      return reply.code(503).send({ status: 'unavailable', error: 'EL_ERR_UNAVAILABLE', message });
    }
  });

  return app as unknown as FastifyInstance;
}
