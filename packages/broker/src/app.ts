/**
 * The broker's HTTP API (fastify). Routes:
 *
 *   POST /v1/login            {user, password | challenge+digest, segment?, device?, prefix?}
 *                             → ticket, servers, addresses, MAC (login.ts)
 *   POST /v1/login/device     {user, device, segment?, prefix?, time, nonce, signature}: the
 *                             same for a device key's signature, no password hash (login.ts)
 *   GET  /v1/challenge        a single-use challenge for digest logins (challenge.ts)
 *   POST /v1/nodes/heartbeat  switch nodes, with the cluster secret (node-routes.ts)
 *   POST /v1/dtcp/tunnel      a node's DTCP listener: digest + leases, cluster secret (dtcp-routes.ts)
 *   /v1/console/login|logout|session   the web console's sign-in (console/auth.ts)
 *   /v1/admin/…               nodes, leases, users, the console's views, actions, audit log and
 *                             events; admin token or console cookie (admin-routes.ts, console/)
 *   GET  /console/…           the web console's static files (console-assets.ts)
 *   GET  /healthz             the process is up
 *   GET  /readyz              the store and user directory answer
 *
 * Bodies and replies are the contracts of @elink/protocol (http/): bodies parsed with
 * them before the handler, replies serialized with them (wire.ts). Every error reply is
 * `{error: EL_ERR_*, message}` — fastify's own (body size, content type, unknown route)
 * included — so clients handle one shape.
 * Metrics are not served here: the process's admin listener serves the registry.
 */
import type { KeyObject } from 'node:crypto';
import { fastify, type FastifyInstance, type FastifyReply } from 'fastify';
import type { pino } from 'pino';
import * as prom from 'prom-client';
import { challengeReplySchema, deviceLoginRequestSchema, ElError, healthOkSchema, type DeviceLoginRequest, type Revocation, healthUnavailableSchema, type HealthOk, type HealthUnavailable, loginReplySchema, loginRequestSchema, wireJsonSchema, type ErrorBody, type ErrorCode, type LoginReply, type LoginRequest, type SegmentDef } from '@elink/protocol';
import { registerAdminRoutes } from './admin-routes.js';
import { AuditLog } from './console/audit.js';
import { registerConsoleAuthRoutes } from './console/auth.js';
import { takeCommands } from './console/commands.js';
import { DEFAULT_CONSOLE, type ConsoleSettings } from './console/defaults.js';
import { EventStreams } from './console/events.js';
import { LiveStats } from './console/live-stats.js';
import { registerConsoleMetrics } from './console/metrics.js';
import type { LocalNode } from './console/local-node.js';
import { ConsoleSessions } from './console/sessions.js';
import { DEFAULT_RETAIN_SECONDS } from './node-registry.js';
import { Challenges, DEFAULT_CHALLENGE_TTL_SECONDS } from './challenge.js';
import { registerConsoleAssets } from './console-assets.js';
import { httpServerOptions, type HttpLimits } from './http-limits.js';
import { DtcpService } from './dtcp.js';
import { registerDtcpRoutes } from './dtcp-routes.js';
import { DEFAULT_LEASE_IDLE_SECONDS, Ipam, type StaticAssignment } from './ipam.js';
import { KeyRing } from './keyring.js';
import { DEFAULT_DEVICE, LoginService } from './login.js';
import { createBrokerMetrics, type LoginResult } from './metrics.js';
import { NodeRegistry } from './node-registry.js';
import { registerNodeRoutes } from './node-routes.js';
import { lostNodeOf, lostNodeResult, registerSuspicionMetrics } from './suspicion-metrics.js';
import type { NodeContext, NodeInfo } from './nodes.js';
import { RateLimitedError, RateLimiter, type RateLimits } from './rate-limit.js';
import { MemoryStore } from './store/memory-store.js';
import type { BrokerStore } from './store/store.js';
import { TicketIssuer } from './tickets.js';
import { StoreUserDirectory, type UserDirectory } from './users.js';
import { bodyOf, replies } from './wire.js';

export interface BrokerHttpsOptions {
  cert: string | Buffer;
  key: string | Buffer;
}

/** The broker's HTTP app and what a config reload may change in it. */
export type BrokerApp = FastifyInstance & {
  /**
   * Segments new to this broker: logins, heartbeat replies (nodes start hosting them) and
   * the admin API know them from now on. Throws EL_ERR_CONFIG (a name already known, a pool
   * that does not parse) before adding any. Existing segments never change under live leases.
   */
  addSegments(defs: readonly SegmentDef[]): void;
  /**
   * New definitions of known segments whose pools and mode are unchanged (the caller
   * keeps those as they run: live settings only). Heartbeat replies carry them to the
   * nodes from now on. Throws EL_ERR_CONFIG for a segment it does not know.
   */
  updateSegments(defs: readonly SegmentDef[]): void;
  /** DTCP digest checks and leases: a switch node in this process calls it directly (`elink up`). */
  dtcp: DtcpService;
};

export interface BrokerOptions {
  /** Segment definitions, parsed with defaults (segmentSchema from @elink/protocol). */
  segments: SegmentDef[];
  /** Default: the store's users (StoreUserDirectory). */
  users?: UserDirectory;
  /** Leases, challenges, node registry, failure counters, users. Default: a MemoryStore. */
  store?: BrokerStore;
  /** Ed25519 private key that signs tickets (or give `keys`). */
  signingKey?: KeyObject;
  /** Signing key and published keys (rotation); wins over `signingKey`. */
  keys?: KeyRing;
  /** Statically known switch nodes; registered nodes (heartbeats) come first. */
  nodes?: (ctx: NodeContext) => NodeInfo[];
  /** Idle time after which a lease may go to another device. Default 30 days. */
  leaseIdleSeconds?: number;
  /** Devices per user and segment holding a lease at once. Default 8. */
  maxDevicesPerUser?: number;
  /** Fixed addresses from configuration. */
  statics?: readonly StaticAssignment[];
  rateLimits?: Partial<RateLimits>;
  /** Default 30. */
  challengeTtlSeconds?: number;
  /** Switch nodes authenticate their heartbeats with this; absent = heartbeats refused. */
  clusterSecret?: string;
  /** Bearer token for /v1/admin; absent = the admin API is off. */
  adminToken?: string;
  /** A node whose last heartbeat is older is not offered to clients. Default 15. */
  healthySeconds?: number;
  /** Heartbeat interval suggested to nodes. Default 5. */
  heartbeatSeconds?: number;
  /** Milliseconds since the epoch (tests set a clock; the store takes its own). */
  now?: () => number;
  /** Default 60. */
  ticketTtlSeconds?: number;
  /** Lifetime of tickets bound to a device key. Default 600. */
  deviceTicketTtlSeconds?: number;
  /** A revocation was recorded here (the admin API): a switch node in this process applies it at once. */
  onRevoked?: (list: readonly Revocation[]) => void;
  logger: pino.Logger;
  /** Default: a new Registry (metrics then go nowhere; pass the process's registry). */
  registry?: prom.Registry;
  /** Serve HTTPS with this certificate; absent = plain HTTP (behind a TLS-terminating ingress). */
  https?: BrokerHttpsOptions;
  /** Connection deadlines (handshake, headers, request, idle); defaults DEFAULT_HTTP_LIMITS. */
  httpLimits?: Partial<HttpLimits>;
  /**
   * The process's readiness (reasons it is not ready; empty = ready), so /readyz here
   * answers as the admin port's does. Absent: the store and user directory answer.
   */
  ready?: () => Promise<string[]>;
  /** The switch node of this process (`elink up`): the console and `elink status` see it without heartbeats. */
  localNode?: LocalNode;
  /** The web console's settings (config broker.console); defaults DEFAULT_CONSOLE. */
  console?: Partial<ConsoleSettings>;
}

/** HTTP status and metric label for each error code a login can end with. */
const LOGIN_ERRORS: Partial<Record<ErrorCode, { status: number; result: LoginResult }>> = {
  EL_ERR_INVALID: { status: 400, result: 'invalid' },
  EL_ERR_AUTH: { status: 401, result: 'bad_credentials' },
  EL_ERR_FORBIDDEN: { status: 403, result: 'forbidden' },
  EL_ERR_DISABLED: { status: 403, result: 'forbidden' },
  EL_ERR_NO_SEGMENT: { status: 404, result: 'no_segment' },
  EL_ERR_DEVICE_LIMIT: { status: 403, result: 'device_limit' },
  EL_ERR_POOL_EXHAUSTED: { status: 503, result: 'pool_exhausted' },
  EL_ERR_NO_NODE: { status: 503, result: 'no_node' },
  EL_ERR_RATE_LIMITED: { status: 429, result: 'rate_limited' },
  EL_ERR_UNAVAILABLE: { status: 503, result: 'unavailable' },
};

const READY_TIMEOUT_MS = 2000;

/** Errors of the other routes (heartbeat, admin). */
const OTHER_ERRORS: Partial<Record<ErrorCode, { status: number }>> = {
  EL_ERR_INVALID: { status: 400 },
  EL_ERR_AUTH: { status: 401 },
  EL_ERR_FORBIDDEN: { status: 403 },
  EL_ERR_NO_SEGMENT: { status: 404 },
  EL_ERR_CONFIG: { status: 400 },
  EL_ERR_CSRF: { status: 403 },
  EL_ERR_NOT_FOUND: { status: 404 },
  EL_ERR_RATE_LIMITED: { status: 429 },
  EL_ERR_UNAVAILABLE: { status: 503 },
};

const statusSchema = { response: { 200: wireJsonSchema(healthOkSchema), 503: wireJsonSchema(healthUnavailableSchema) } };

function sendError(reply: FastifyReply, status: number, error: ErrorCode, message: string): FastifyReply {
  return reply.code(status).send({ error, message } satisfies ErrorBody);
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ElError('EL_ERR_UNAVAILABLE', `${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export async function createBrokerApp(opts: BrokerOptions): Promise<BrokerApp> {
  // Shared by reference with the routes and metrics, so addSegments reaches all of them.
  const segments = [...opts.segments];
  const names = segments.map((s) => s.name);
  const duplicate = names.find((n, i) => names.indexOf(n) !== i);
  if (duplicate !== undefined) throw new ElError('EL_ERR_CONFIG', `segment "${duplicate}" is defined twice`);
  const store = opts.store ?? new MemoryStore();
  const users = opts.users ?? new StoreUserDirectory(store);
  const registry = opts.registry ?? new prom.Registry();
  if (!opts.keys && !opts.signingKey) throw new ElError('EL_ERR_CONFIG', 'the broker needs a ticket signing key');
  const keys = opts.keys ?? new KeyRing(opts.signingKey!);
  const ipam = new Ipam(segments, store, { leaseIdleSeconds: opts.leaseIdleSeconds, statics: opts.statics, maxDevicesPerUser: opts.maxDevicesPerUser });
  const issuer = new TicketIssuer(() => keys.signingKey, opts.ticketTtlSeconds, undefined, opts.deviceTicketTtlSeconds);
  const nodeRegistry = new NodeRegistry({ store, healthySeconds: opts.healthySeconds, now: opts.now });
  const limiter = new RateLimiter(store, opts.rateLimits);
  const challenges = new Challenges(store, opts.challengeTtlSeconds ?? DEFAULT_CHALLENGE_TTL_SECONDS, opts.now, limiter);
  const nodes = opts.nodes ?? (() => []);
  // A store outage must not break a scrape: the lease gauge then keeps its last values.
  const metrics = createBrokerMetrics(registry, names, (s) => ipam.count(s).catch(() => undefined));
  const suspicion = registerSuspicionMetrics(registry, () => nodeRegistry.suspects().then((m) => m.size, () => undefined));
  const service = await LoginService.create({
    segments,
    users,
    ipam,
    issuer,
    nodes,
    registry: nodeRegistry,
    limiter,
    challenges,
    // A device keeps passing the user-wide limit as long as its lease would last.
    remember: { signingKey: () => keys.signingKey, publicKeys: () => keys.publicKeys(), ttlSeconds: opts.leaseIdleSeconds ?? DEFAULT_LEASE_IDLE_SECONDS, now: opts.now },
    onCheck: (method) => metrics.credentialChecks.inc({ method }),
    // A device key lives as long as the device's lease would.
    deviceKeys: { store, ttlSeconds: opts.leaseIdleSeconds ?? DEFAULT_LEASE_IDLE_SECONDS },
  });

  const dtcp = new DtcpService({ segments, users, ipam, limiter, onCheck: (method) => metrics.credentialChecks.inc({ method }), onRateLimited: (limit) => metrics.rateLimited.inc({ limit }) });

  const app = fastify({
    loggerInstance: opts.logger,
    ...httpServerOptions(opts.httpLimits, opts.https),
    bodyLimit: 16 * 1024,
    ajv: {
      // Reject what the schema does not allow instead of silently fixing it up.
      customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false },
    },
  });

  // Every body is JSON: without fastify's text/plain parser such a body gets 415, not a
  // schema error about a string (protocol.md §6).
  app.removeContentTypeParser('text/plain');

  app.setErrorHandler((error: unknown, request, reply) => {
    const e = error as { validation?: unknown; statusCode?: number; message?: string; code?: string };
    if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      return sendError(reply, 415, 'EL_ERR_INVALID', `content type ${JSON.stringify(request.headers['content-type'] ?? '')} not accepted: send JSON with Content-Type: application/json`);
    }
    if (e.validation) {
      return sendError(reply, 400, 'EL_ERR_INVALID', `invalid request: ${e.message ?? 'does not match the schema'}`);
    }
    if (error instanceof ElError) {
      const known = LOGIN_ERRORS[error.code] ?? OTHER_ERRORS[error.code];
      if (known) {
        if (error instanceof RateLimitedError) {
          reply.header('retry-after', String(error.retryAfter));
          metrics.rateLimited.inc({ limit: error.limit });
        }
        return sendError(reply, known.status, error.code, error.message);
      }
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
    const url = request.routeOptions.url;
    if ((url !== '/v1/login' && url !== '/v1/login/device') || counted.has(request)) return;
    (url === '/v1/login' ? metrics.logins : metrics.deviceLogins).inc({ result: reply.statusCode < 500 ? 'invalid' : 'internal' });
  });

  app.post<{ Body: DeviceLoginRequest }>('/v1/login/device', { schema: { response: replies(loginReplySchema) }, preValidation: bodyOf(deviceLoginRequestSchema) }, async (request, reply): Promise<LoginReply | FastifyReply> => {
    const { user, segment, device } = request.body;
    try {
      const lost = lostNodeOf(request.headers);
      const result = await service.deviceLogin(request.body, { localAddress: request.socket.localAddress, remoteAddress: request.ip, ...(lost.node !== undefined ? { lostNode: lost.node } : {}) });
      metrics.deviceLogins.inc({ result: 'ok' });
      counted.add(request);
      const lostResult = lostNodeResult(lost, result.servers);
      if (lostResult) suspicion.lostNode.inc({ result: lostResult });
      request.log.info({ user, segment: result.segment, device, ipv4: result.ipv4, ipv6: result.ipv6, ...(lostResult ? { lostNode: lost.node ?? null, lostNodeResult: lostResult } : {}) }, 'device login ok');
      return result;
    } catch (err) {
      const known = err instanceof ElError ? LOGIN_ERRORS[err.code] : undefined;
      if (!known || !(err instanceof ElError)) throw err;
      metrics.deviceLogins.inc({ result: known.result });
      counted.add(request);
      request.log.info({ user, segment, device, code: err.code }, 'device login refused');
      if (err instanceof RateLimitedError) {
        reply.header('retry-after', String(err.retryAfter));
        metrics.rateLimited.inc({ limit: err.limit });
      }
      return sendError(reply, known.status, err.code, err.message);
    }
  });

  app.post<{ Body: LoginRequest }>('/v1/login', { schema: { response: replies(loginReplySchema) }, preValidation: bodyOf(loginRequestSchema) }, async (request, reply): Promise<LoginReply | FastifyReply> => {
    const endTimer = metrics.loginDuration.startTimer();
    const { user, segment, device } = request.body;
    try {
      const lost = lostNodeOf(request.headers);
      const result = await service.login(request.body, { localAddress: request.socket.localAddress, remoteAddress: request.ip, ...(lost.node !== undefined ? { lostNode: lost.node } : {}) });
      metrics.logins.inc({ result: 'ok' });
      counted.add(request);
      const lostResult = lostNodeResult(lost, result.servers);
      if (lostResult) suspicion.lostNode.inc({ result: lostResult });
      request.log.info({ user, segment: result.segment, device: device ?? DEFAULT_DEVICE, ipv4: result.ipv4, ipv6: result.ipv6, ...(lostResult ? { lostNode: lost.node ?? null, lostNodeResult: lostResult } : {}) }, 'login ok');
      return result;
    } catch (err) {
      const known = err instanceof ElError ? LOGIN_ERRORS[err.code] : undefined;
      if (!known || !(err instanceof ElError)) throw err;
      metrics.logins.inc({ result: known.result });
      counted.add(request);
      request.log.info({ user, segment, device, code: err.code, ...(err.code === 'EL_ERR_UNAVAILABLE' ? { reason: err.message } : {}) }, 'login refused');
      if (err instanceof RateLimitedError) {
        reply.header('retry-after', String(err.retryAfter));
        metrics.rateLimited.inc({ limit: err.limit });
      }
      return sendError(reply, known.status, err.code, err.message);
    } finally {
      endTimer();
    }
  });

  app.get('/v1/challenge', { schema: { response: replies(challengeReplySchema) } }, async (request) => challenges.issue(request.ip));

  const consoleSettings: ConsoleSettings = { ...DEFAULT_CONSOLE, ...opts.console };
  const consoleSessions = new ConsoleSessions({ max: consoleSettings.maxSessions, idleSeconds: consoleSettings.sessionIdleSeconds, lifetimeSeconds: consoleSettings.sessionLifetimeSeconds, now: opts.now });
  const audit = new AuditLog(store, consoleSettings.auditEntries, opts.logger.child({ component: 'audit' }), opts.now);
  const live = new LiveStats({ store, ...(opts.localNode ? { local: opts.localNode } : {}), healthySeconds: nodeRegistry.healthySeconds, now: opts.now });
  const streams = new EventStreams({ live, max: consoleSettings.maxStreams, logger: opts.logger.child({ component: 'console' }), now: opts.now });
  app.addHook('onClose', async () => streams.close());
  const consoleMetrics = registerConsoleMetrics(registry, { sessions: () => consoleSessions.size, streams: () => streams.size });
  registerConsoleAuthRoutes(app as unknown as FastifyInstance, { onLogin: (result) => consoleMetrics.logins.inc({ result }), adminToken: opts.adminToken, limiter, onAuth: (result) => metrics.adminAuth.inc({ result }), sessions: consoleSessions, users, audit, lifetimeSeconds: consoleSettings.sessionLifetimeSeconds });

  registerNodeRoutes(app as unknown as FastifyInstance, {
    registry: nodeRegistry,
    keys,
    segments,
    clusterSecret: opts.clusterSecret,
    heartbeatSeconds: opts.heartbeatSeconds ?? 5,
    limiter,
    revocations: () => store.listRevocations(),
    onHeartbeat: (result) => metrics.heartbeats.inc({ result }),
    report: (node, report) => store.putNodeReport(node, report, DEFAULT_RETAIN_SECONDS),
    commands: (node) => takeCommands(store, node),
    onLosses: (reporter, losses) => {
      suspicion.suspicions.inc({ reason: 'trunk_down' }, losses.length);
      for (const l of losses) opts.logger.info({ node: l.node, reporter, downSince: new Date(l.downAt).toISOString() }, 'node suspect: a trunk peer lost it; logins rank it last until it heartbeats');
    },
    onReturns: (reporter, back) => {
      suspicion.lossesWithdrawn.inc(back.length);
      for (const b of back) opts.logger.info({ node: b.node, reporter }, 'trunk peer back: its loss withdrawn');
    },
  });
  registerDtcpRoutes(app as unknown as FastifyInstance, { service: dtcp, clusterSecret: opts.clusterSecret, limiter });
  registerAdminRoutes(app as unknown as FastifyInstance, {
    store,
    users,
    registry: nodeRegistry,
    keys,
    segments,
    adminToken: opts.adminToken,
    limiter,
    onAuth: (result) => metrics.adminAuth.inc({ result }),
    revocationSeconds: () => issuer.maxLifetimeSeconds,
    now: opts.now,
    onRevoked: opts.onRevoked,
    console: { ipam, live, streams, audit, sessions: consoleSessions, ...(opts.localNode ? { local: opts.localNode } : {}), statics: () => nodes({}) },
  });

  registerConsoleAssets(app as unknown as FastifyInstance);

  app.get('/healthz', { schema: statusSchema }, async (): Promise<HealthOk> => ({ status: 'ok' }));

  app.get('/readyz', { schema: statusSchema }, async (request, reply) => {
    if (opts.ready) {
      const reasons = await opts.ready();
      if (reasons.length === 0) return { status: 'ok' };
      request.log.warn({ reasons }, 'not ready');
      return reply.code(503).send({ status: 'unavailable', error: 'EL_ERR_UNAVAILABLE', message: reasons.join('; ') } satisfies HealthUnavailable);
    }
    try {
      await withTimeout(Promise.all([store.ping(), users.ping?.()]), READY_TIMEOUT_MS, 'the store or user directory');
      return { status: 'ok' };
    } catch (err) {
      request.log.warn({ err }, 'not ready');
      const message = err instanceof ElError ? err.message : `a store failed: ${(err as Error).message}`;
      return reply.code(503).send({ status: 'unavailable', error: 'EL_ERR_UNAVAILABLE', message } satisfies HealthUnavailable);
    }
  });

  const addSegments = (defs: readonly SegmentDef[]): void => {
    for (const d of defs) if (names.includes(d.name)) throw new ElError('EL_ERR_CONFIG', `segment "${d.name}" exists already`);
    ipam.addSegments(defs);
    for (const d of defs) {
      segments.push(d);
      names.push(d.name);
      service.setSegment(d);
      dtcp.setSegment(d);
    }
  };
  const updateSegments = (defs: readonly SegmentDef[]): void => {
    for (const d of defs) if (!names.includes(d.name)) throw new ElError('EL_ERR_CONFIG', `segment "${d.name}" is not known to this broker`);
    for (const d of defs) {
      segments[names.indexOf(d.name)] = d;
      service.setSegment(d);
      dtcp.setSegment(d);
    }
  };
  app.decorate('addSegments', addSegments);
  app.decorate('updateSegments', updateSegments);
  app.decorate('dtcp', dtcp);
  return app as unknown as BrokerApp;
}
