/**
 * The admin API, under /v1/admin, behind a Bearer token (`adminToken`) or a console session
 * cookie with its CSRF header (console/auth.ts); every state-changing request is audited
 * (console/audit-hook.ts). The console's views and actions are in console/routes.ts; here:
 *
 *   GET    /v1/admin/status                      nodes, sessions and leases at a glance
 *   GET    /v1/admin/nodes                       every registered node with its health
 *   GET    /v1/admin/nodes/:node/sessions        one node's sessions (total and per segment it serves)
 *   DELETE /v1/admin/nodes/:node                 forget a node (it reappears on its next heartbeat)
 *   GET    /v1/admin/leases?segment=S&limit=N    live leases of a segment
 *   DELETE /v1/admin/leases/:segment/:user/:device   free a device's addresses
 *   GET    /v1/admin/users                       users (store and configuration); never hashes or secrets
 *   POST   /v1/admin/users                       {name, password, segments, macs?, lan?}
 *   DELETE /v1/admin/users/:name
 *   PUT    /v1/admin/users/:name/password        {password}
 *   PUT    /v1/admin/users/:name/digest          {secret}: enables challenge–response (stores the secret)
 *   DELETE /v1/admin/users/:name/digest          disables it and forgets the secret
 *   POST   /v1/admin/revocations                 {user, device?}: revoke a device's key, or every key
 *                                                of the user; nodes close their sessions within a heartbeat
 *   GET    /v1/admin/revocations                 the live revocations
 *
 * Users from the configuration file are read-only here (edit the file with `elink user`);
 * users created here live in the store, shared by every broker.
 */
import type { FastifyInstance } from 'fastify';
import {
  adminDigestRequestSchema,
  adminLeasesReplySchema,
  adminNodeSessionsReplySchema,
  adminNodesReplySchema,
  adminOkReplySchema,
  adminRevocationsReplySchema,
  adminRevokeReplySchema,
  adminRevokeRequestSchema,
  adminPasswordRequestSchema,
  adminStatusReplySchema,
  adminUserCreateRequestSchema,
  adminUsersReplySchema,
  cidrSchema,
  ElError,
  type AdminDigestRequest,
  type AdminLeasesReply,
  type AdminNode,
  type AdminNodeSessionsReply,
  type AdminNodesReply,
  type AdminOkReply,
  type AdminPasswordRequest,
  type AdminRevocationsReply,
  type AdminRevokeReply,
  type AdminRevokeRequest,
  type Revocation,
  type AdminStatusReply,
  type AdminUserCreateRequest,
  type AdminUsersReply,
  type SegmentDef,
} from '@elink/protocol';
import { registerAuditHook } from './console/audit-hook.js';
import { adminAuthHook } from './console/auth.js';
import { kickSessions, registerConsoleRoutes, type ConsoleRouteOptions } from './console/routes.js';
import { leaseKey } from './ipam.js';
import type { KeyRing } from './keyring.js';
import type { NodeRegistry } from './node-registry.js';
import type { AdminAuthResult } from './metrics.js';
import { hashPassword } from './password.js';
import type { RateLimiter } from './rate-limit.js';
import type { BrokerStore } from './store/store.js';
import type { UserDirectory, UserRecord } from './users.js';
import { bodyOf, replies } from './wire.js';

export interface AdminRouteOptions {
  store: BrokerStore;
  users: UserDirectory & { configUsers?(): UserRecord[] };
  registry: NodeRegistry;
  keys: KeyRing;
  segments: readonly SegmentDef[];
  adminToken?: string;
  /** Failed tokens are limited per source, reserved before the check like logins. */
  limiter?: RateLimiter;
  onAuth?: (result: AdminAuthResult) => void;
  /** How long a revocation is kept: the longest ticket lifetime (TicketIssuer.maxLifetimeSeconds). */
  revocationSeconds?: () => number;
  /** Milliseconds since the epoch (tests). */
  now?: () => number;
  /** A revocation was recorded (the in-process switch node applies it at once). */
  onRevoked?: (list: readonly Revocation[]) => void;
  /** The console's parts (console/): sign-ins, audit log, live stats, event streams, the in-process node. */
  console: Omit<ConsoleRouteOptions, 'store' | 'registry' | 'segments' | 'storedUser' | 'now'>;
}

const USER_NAME = { type: 'string', pattern: '^[A-Za-z0-9._@-]{1,128}$' } as const;
const SEGMENT = { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{0,62}$' } as const;
const userParams = { type: 'object', required: ['name'], properties: { name: USER_NAME } } as const;

export function registerAdminRoutes(app: FastifyInstance, opts: AdminRouteOptions): void {
  const { store, registry } = opts;
  // Looked up at each request: a config reload may add segments (opts.segments grows).
  const hasSegment = (name: string) => opts.segments.some((s) => s.name === name);

  app.register(async (admin) => {
    admin.addHook('onRequest', adminAuthHook({ adminToken: opts.adminToken, limiter: opts.limiter, onAuth: opts.onAuth, sessions: opts.console.sessions }));
    registerAuditHook(admin, opts.console.audit);

    // The in-process node (`elink up`) first, as if it had just sent its heartbeat.
    const nodeView = async (): Promise<AdminNode[]> => {
      const local = opts.console.local;
      const registered = (await registry.list()).filter((n) => n.node !== local?.node).map(({ suspectSince, ...n }) => ({ ...n, seenAt: new Date(n.seenAt).toISOString(), ...(suspectSince !== undefined ? { suspectSince: new Date(suspectSince).toISOString() } : {}) }));
      return local ? [{ ...local.status(), healthy: true, seenAt: new Date(opts.now?.() ?? Date.now()).toISOString(), inProcess: true }, ...registered] : registered;
    };
    const ok = replies(adminOkReplySchema);

    admin.get('/status', { schema: { response: replies(adminStatusReplySchema) } }, async (): Promise<AdminStatusReply> => {
      const nodes = await nodeView();
      const leases: Record<string, number> = {};
      for (const s of opts.segments) leases[s.name] = await store.count(s.name);
      const known = new Set(nodes.map((n) => n.node));
      const statics = opts.console.statics().filter((n) => !known.has(n.node)).map((n) => ({ node: n.node, host: n.host, port: n.port }));
      return { nodes, sessions: nodes.reduce((n, x) => n + (x.healthy ? x.sessions : 0), 0), leases, keys: opts.keys.publicKeys().length, store: store.kind, ...(statics.length ? { static: statics } : {}) };
    });

    admin.get('/nodes', { schema: { response: replies(adminNodesReplySchema) } }, async (): Promise<AdminNodesReply> => ({ nodes: await nodeView() }));

    admin.get<{ Params: { node: string } }>(
      '/nodes/:node/sessions',
      { schema: { params: { type: 'object', properties: { node: { type: 'string', maxLength: 64 } } }, response: replies(adminNodeSessionsReplySchema) } },
      async (request): Promise<AdminNodeSessionsReply> => {
        const n = (await nodeView()).find((x) => x.node === request.params.node);
        if (!n) throw new ElError('EL_ERR_INVALID', `no registered node "${request.params.node}"`);
        return { node: n.node, sessions: n.sessions, capacity: n.capacity, active: n.active, healthy: n.healthy };
      },
    );

    admin.delete<{ Params: { node: string } }>('/nodes/:node', { schema: { params: { type: 'object', properties: { node: { type: 'string', maxLength: 64 } } }, response: ok } }, async (request): Promise<AdminOkReply> => ({ ok: await store.deleteNode(request.params.node) }));

    admin.get<{ Querystring: { segment: string; limit?: number } }>(
      '/leases',
      {
        schema: {
          querystring: { type: 'object', required: ['segment'], properties: { segment: SEGMENT, limit: { type: 'integer', minimum: 1, maximum: 10000 } } },
          response: replies(adminLeasesReplySchema),
        },
      },
      async (request): Promise<AdminLeasesReply> => {
        const { segment, limit = 1000 } = request.query;
        if (!hasSegment(segment)) throw new ElError('EL_ERR_NO_SEGMENT', `no segment "${segment}"`);
        const list = await store.list(segment, limit);
        return {
          segment,
          count: await store.count(segment),
          leases: list.map(({ key, expiresAt, ...rest }) => {
            const [user, device] = JSON.parse(key) as [string, string];
            return { user, device, ...rest, expiresAt: new Date(expiresAt).toISOString() };
          }),
        };
      },
    );

    admin.delete<{ Params: { segment: string; user: string; device: string } }>(
      '/leases/:segment/:user/:device',
      { schema: { params: { type: 'object', properties: { segment: SEGMENT, user: USER_NAME, device: { type: 'string', minLength: 1, maxLength: 128 } } }, response: ok } },
      async (request): Promise<AdminOkReply> => ({ ok: await store.release(request.params.segment, leaseKey(request.params.user, request.params.device)) }),
    );

    admin.get('/users', { schema: { response: replies(adminUsersReplySchema) } }, async (): Promise<AdminUsersReply> => {
      const stored = await store.listUsers();
      const names = new Set(stored.map((u) => u.name));
      const view = (u: UserRecord, source: 'store' | 'config') => ({ name: u.name, segments: u.segments, ...(u.macs ? { macs: u.macs } : {}), ...(u.lan ? { lan: u.lan } : {}), digest: u.digestSecret !== undefined, enabled: u.disabled !== true, admin: u.admin === true, source });
      const fromConfig = (opts.users.configUsers?.() ?? []).filter((u) => !names.has(u.name));
      return { users: [...stored.map((u) => view(u, 'store')), ...fromConfig.map((u) => view(u, 'config'))] };
    });

    const checkSegments = (segments: string[]) => {
      for (const s of segments) if (!hasSegment(s)) throw new ElError('EL_ERR_NO_SEGMENT', `no segment "${s}"`);
    };
    const storedUser = async (name: string) => {
      const u = await store.getUser(name);
      if (u) return u;
      const inConfig = (opts.users.configUsers?.() ?? []).some((x) => x.name === name);
      throw new ElError('EL_ERR_INVALID', inConfig ? `user "${name}" comes from the configuration file: change it there (elink user …)` : `no user "${name}"`);
    };

    admin.post<{ Body: AdminUserCreateRequest }>(
      '/users',
      { schema: { response: ok }, preValidation: bodyOf(adminUserCreateRequestSchema) },
      async (request): Promise<AdminOkReply> => {
        const { name, password, segments, macs, lan, admin: isAdmin } = request.body;
        checkSegments(segments);
        const badRange = lan?.find((r) => !cidrSchema.safeParse(r).success);
        if (badRange !== undefined) throw new ElError('EL_ERR_INVALID', `lan: ${JSON.stringify(badRange)} is not an IPv4 or IPv6 prefix like 192.168.1.0/24`);
        if (await store.getUser(name)) throw new ElError('EL_ERR_INVALID', `user "${name}" already exists (PUT …/password to change the password)`);
        await store.putUser({ name, passwordHash: await hashPassword(password), segments, ...(macs ? { macs } : {}), ...(lan ? { lan } : {}), ...(isAdmin ? { admin: true } : {}) });
        request.log.info({ user: name, segments, admin: isAdmin === true }, 'user created');
        return { ok: true };
      },
    );

    admin.delete<{ Params: { name: string } }>('/users/:name', { schema: { params: userParams, response: ok } }, async (request): Promise<AdminOkReply> => {
      await storedUser(request.params.name);
      await store.deleteUser(request.params.name);
      // Its sessions and console sign-ins end with it (a new login is refused: the user is gone).
      opts.console.sessions.endAllOf(`user:${request.params.name}`);
      // The user is gone either way: a store hiccup here leaves its sessions to their next login (refused).
      const sessions = await kickSessions({ ...opts.console, store }, (s) => s.user === request.params.name, 'the user was deleted by an administrator').catch((err: unknown) => {
        request.log.warn({ user: request.params.name, err: (err as Error).message }, 'sessions of the deleted user not ended');
        return 0;
      });
      request.log.info({ user: request.params.name, sessions }, 'user deleted');
      return { ok: true };
    });

    admin.put<{ Params: { name: string }; Body: AdminPasswordRequest }>(
      '/users/:name/password',
      { schema: { params: userParams, response: ok }, preValidation: bodyOf(adminPasswordRequestSchema) },
      async (request): Promise<AdminOkReply> => {
        const u = await storedUser(request.params.name);
        await store.putUser({ ...u, passwordHash: await hashPassword(request.body.password) });
        return { ok: true };
      },
    );

    admin.put<{ Params: { name: string }; Body: AdminDigestRequest }>(
      '/users/:name/digest',
      { schema: { params: userParams, response: ok }, preValidation: bodyOf(adminDigestRequestSchema) },
      async (request): Promise<AdminOkReply> => {
        const u = await storedUser(request.params.name);
        await store.putUser({ ...u, digestSecret: request.body.secret });
        return { ok: true };
      },
    );

    admin.post<{ Body: AdminRevokeRequest }>('/revocations', { schema: { response: replies(adminRevokeReplySchema) }, preValidation: bodyOf(adminRevokeRequestSchema) }, async (request): Promise<AdminRevokeReply> => {
      const { user, device } = request.body;
      const at = Math.floor((opts.now?.() ?? Date.now()) / 1000);
      const revocation: Revocation = { user, ...(device !== undefined ? { device } : {}), at, until: at + (opts.revocationSeconds?.() ?? 3600) };
      const keys = await store.revoke(revocation);
      request.log.info({ user, device, keys, until: revocation.until }, 'device keys revoked');
      opts.onRevoked?.([revocation]);
      return { keys, at: new Date(at * 1000).toISOString(), until: new Date(revocation.until * 1000).toISOString() };
    });

    admin.get('/revocations', { schema: { response: replies(adminRevocationsReplySchema) } }, async (): Promise<AdminRevocationsReply> => ({ revocations: await store.listRevocations() }));

    admin.delete<{ Params: { name: string } }>('/users/:name/digest', { schema: { params: userParams, response: ok } }, async (request): Promise<AdminOkReply> => {
      const { digestSecret: _, ...u } = await storedUser(request.params.name);
      await store.putUser(u);
      return { ok: true };
    });
    registerConsoleRoutes(admin, { ...opts.console, store, registry, segments: opts.segments, storedUser, now: opts.now });
  }, { prefix: '/v1/admin' });
}
