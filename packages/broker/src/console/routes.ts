/**
 * The console's views and actions under /v1/admin (registered inside the admin plugin, so
 * behind its token-or-cookie check):
 *
 *   GET  /overview                         nodes, segments, totals with rates
 *   GET  /segments/:segment/sessions       the segment's sessions with bytes and rates
 *   GET  /segments/:segment/table          its MAC table (L2) or routes (L3)
 *   GET  /sessions/:id                     one session with its rate history
 *   GET  /trunks                           every node's trunks to its peer nodes
 *   POST /sessions/:id/disconnect          ends the session (in-process: now; remote: next heartbeat)
 *   POST /nodes/:node/drain                the node drains
 *   PUT  /users/:name/enabled              {enabled}: disabling refuses logins and ends the user's sessions
 *   GET  /audit?limit=N                    the audit log, newest first
 *   GET  /events                           Server-Sent Events (events.ts)
 */
import type { FastifyInstance } from 'fastify';
import {
  adminEnabledRequestSchema,
  adminOkReplySchema,
  auditReplySchema,
  consoleOverviewReplySchema,
  consoleSessionDetailSchema,
  consoleSessionsReplySchema,
  consoleTableReplySchema,
  consoleTrunksReplySchema,
  ElError,
  type AdminEnabledRequest,
  type AdminOkReply,
  type AuditReply,
  type ConsoleNode,
  type ConsoleOverviewReply,
  type ConsoleSession,
  type ConsoleSessionDetail,
  type ConsoleSessionsReply,
  type ConsoleTableReply,
  type ConsoleTrunksReply,
  type ReportSession,
  type SegmentDef,
} from '@elink/protocol';
import type { Ipam } from '../ipam.js';
import type { NodeRegistry } from '../node-registry.js';
import type { NodeInfo } from '../nodes.js';
import type { BrokerStore } from '../store/store.js';
import type { UserRecord } from '../users.js';
import { bodyOf, replies } from '../wire.js';
import type { AuditLog } from './audit.js';
import { queueCommand } from './commands.js';
import type { EventStreams } from './events.js';
import type { LiveStats, NodeView } from './live-stats.js';
import type { LocalNode } from './local-node.js';
import type { ConsoleSessions } from './sessions.js';

export interface ConsoleRouteOptions {
  store: BrokerStore;
  registry: NodeRegistry;
  ipam: Ipam;
  segments: readonly SegmentDef[];
  live: LiveStats;
  streams: EventStreams;
  audit: AuditLog;
  sessions: ConsoleSessions;
  local?: LocalNode;
  /** Static nodes (config broker.nodes): listed, but the broker hears nothing from them. */
  statics: () => NodeInfo[];
  /** A stored user (EL_ERR_INVALID for one from the config file, EL_ERR_NOT_FOUND for none). */
  storedUser: (name: string) => Promise<UserRecord>;
  now?: () => number;
}

const SEGMENT = { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{0,62}$' } as const;
const USER_NAME = { type: 'string', pattern: '^[A-Za-z0-9._@-]{1,128}$' } as const;
const ID = { type: 'string', minLength: 1, maxLength: 64 } as const;

function sessionView(s: ReportSession, v: NodeView): ConsoleSession {
  const r = v.sessions.get(s.id) ?? { rxBps: 0, txBps: 0 };
  return { id: s.id, user: s.user, device: s.device ?? '', node: v.node, addresses: s.addresses, ...(s.mac !== undefined ? { mac: s.mac } : {}), since: new Date(s.since).toISOString(), rxBytes: s.rxBytes, txBytes: s.txBytes, rxBps: r.rxBps, txBps: r.txBps };
}

function findSession(views: ReadonlyMap<string, NodeView>, id: string): { s: ReportSession; v: NodeView } | undefined {
  for (const v of views.values()) {
    const s = v.report.sessions.find((x) => x.id === id);
    if (s) return { s, v };
  }
  return undefined;
}

export function registerConsoleRoutes(admin: FastifyInstance, opts: ConsoleRouteOptions): void {
  const { live, store } = opts;
  const now = () => (opts.now ?? Date.now)();
  const segmentDef = (name: string) => {
    const def = opts.segments.find((s) => s.name === name);
    if (!def) throw new ElError('EL_ERR_NO_SEGMENT', `no segment "${name}"`);
    return def;
  };
  const ok = replies(adminOkReplySchema);
  const segmentParams = { type: 'object', required: ['segment'], properties: { segment: SEGMENT } } as const;
  const idParams = { type: 'object', required: ['id'], properties: { id: ID } } as const;


  admin.get('/overview', { schema: { response: replies(consoleOverviewReplySchema) } }, async (): Promise<ConsoleOverviewReply> => {
    const views = await live.current();
    const registered = await opts.registry.list();
    const nodes: ConsoleNode[] = [];
    const hosting = new Map<string, number>();
    const host = (segs: readonly string[]) => {
      for (const s of segs) hosting.set(s, (hosting.get(s) ?? 0) + 1);
    };
    const local = opts.local;
    if (local) {
      const st = local.status();
      host(st.segments);
      nodes.push({ node: st.node, healthy: true, draining: st.draining, inProcess: true, static: false, ...(views.get(st.node)?.report.software ? { version: views.get(st.node)!.report.software } : {}), sessions: st.sessions, capacity: st.capacity, load: st.sessions / st.capacity, hosts: st.hosts, port: st.port, seenAt: new Date(now()).toISOString() });
    }
    for (const n of registered) {
      if (n.node === local?.node) continue;
      host(n.segments);
      const software = views.get(n.node)?.report.software;
      nodes.push({ node: n.node, healthy: n.healthy, draining: n.draining, inProcess: false, static: false, ...(software ? { version: software } : {}), sessions: n.sessions, capacity: n.capacity, load: n.sessions / n.capacity, hosts: n.hosts, port: n.port, seenAt: new Date(n.seenAt).toISOString() });
    }
    const known = new Set(nodes.map((n) => n.node));
    for (const s of opts.statics()) {
      if (known.has(s.node)) continue;
      known.add(s.node);
      host(s.segments ?? opts.segments.map((d) => d.name));
      nodes.push({ node: s.node, healthy: false, draining: false, inProcess: false, static: true, sessions: 0, capacity: 0, load: 0, hosts: [s.host], port: s.port, seenAt: new Date(0).toISOString() });
    }
    const segments: ConsoleOverviewReply['segments'] = [];
    for (const def of opts.segments) {
      let sessions = 0;
      for (const v of views.values()) sessions += v.report.segments[def.name]?.sessions ?? 0;
      const used = await store.count(def.name);
      const pools: ConsoleOverviewReply['segments'][number]['pools'] = [];
      const p = opts.ipam.pools(def.name);
      for (const pool of [p?.ipv4, p?.ipv6]) {
        if (!pool) continue;
        const capacity = pool.capacity > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(pool.capacity);
        pools.push({ cidr: pool.toString(), used, free: Math.max(0, capacity - used) });
      }
      segments.push({ name: def.name, mode: def.mode, sessions, nodes: hosting.get(def.name) ?? 0, pools });
    }
    const totals = { nodes: nodes.length, sessions: nodes.reduce((n, x) => n + x.sessions, 0), segments: segments.length, rxBps: 0, txBps: 0, rxPps: 0, txPps: 0 };
    for (const v of views.values()) {
      totals.rxBps += v.rates.rxBps;
      totals.txBps += v.rates.txBps;
      totals.rxPps += v.rates.rxPps;
      totals.txPps += v.rates.txPps;
    }
    return { nodes, segments, totals };
  });

  admin.get<{ Params: { segment: string } }>('/segments/:segment/sessions', { schema: { params: segmentParams, response: replies(consoleSessionsReplySchema) } }, async (request): Promise<ConsoleSessionsReply> => {
    const def = segmentDef(request.params.segment);
    const sessions: ConsoleSession[] = [];
    let truncated = false;
    for (const v of (await live.current()).values()) {
      if (v.report.sessionsTruncated) truncated = true;
      for (const s of v.report.sessions) if (s.segment === def.name) sessions.push(sessionView(s, v));
    }
    return { sessions, ...(truncated ? { truncated } : {}) };
  });

  admin.get<{ Params: { segment: string } }>('/segments/:segment/table', { schema: { params: segmentParams, response: replies(consoleTableReplySchema) } }, async (request): Promise<ConsoleTableReply> => {
    const def = segmentDef(request.params.segment);
    const entries: ConsoleTableReply['entries'] = [];
    let truncated = false;
    for (const v of (await live.current()).values()) {
      if (v.report.tableTruncated) truncated = true;
      const users = new Map(v.report.sessions.map((s) => [s.id, s.user]));
      for (const e of v.report.table) {
        if (e.segment !== def.name) continue;
        const user = users.get(e.port);
        entries.push({ key: e.key, port: e.port, node: v.node, ...(user !== undefined ? { user } : {}) });
      }
    }
    return { kind: def.mode === 'l2' ? 'mac' : 'route', entries, ...(truncated ? { truncated } : {}) };
  });

  admin.get('/trunks', { schema: { response: replies(consoleTrunksReplySchema) } }, async (): Promise<ConsoleTrunksReply> => {
    const trunks: ConsoleTrunksReply['trunks'] = [];
    for (const v of (await live.current()).values()) for (const t of v.report.trunks ?? []) trunks.push({ node: v.node, ...t, since: new Date(t.since).toISOString() });
    trunks.sort((a, b) => a.node.localeCompare(b.node) || a.peer.localeCompare(b.peer));
    return { trunks };
  });

  admin.get<{ Params: { id: string } }>('/sessions/:id', { schema: { params: idParams, response: replies(consoleSessionDetailSchema) } }, async (request): Promise<ConsoleSessionDetail> => {
    const found = findSession(await live.current(), request.params.id);
    if (!found) throw new ElError('EL_ERR_NOT_FOUND', `no live session "${request.params.id}"`);
    return { ...sessionView(found.s, found.v), segment: found.s.segment, history: live.history(found.s.id) };
  });

  admin.post<{ Params: { id: string } }>('/sessions/:id/disconnect', { schema: { params: idParams, response: ok } }, async (request): Promise<AdminOkReply> => {
    const id = request.params.id;
    const found = findSession(await live.current(), id);
    if (!found) throw new ElError('EL_ERR_NOT_FOUND', `no live session "${id}"`);
    const reason = 'disconnected by an administrator';
    if (found.v.inProcess && opts.local) {
      if (!opts.local.kick(id, reason)) throw new ElError('EL_ERR_NOT_FOUND', `session "${id}" has ended already`);
    } else {
      await queueCommand(store, found.v.node, { type: 'kick', session: id, reason });
    }
    return { ok: true };
  });

  admin.post<{ Params: { node: string } }>('/nodes/:node/drain', { schema: { params: { type: 'object', required: ['node'], properties: { node: { type: 'string', minLength: 1, maxLength: 64 } } }, response: ok } }, async (request): Promise<AdminOkReply> => {
    const node = request.params.node;
    if (opts.local?.node === node) {
      opts.local.drain();
      return { ok: true };
    }
    if (!(await opts.registry.list()).some((n) => n.node === node)) throw new ElError('EL_ERR_NOT_FOUND', `no node "${node}" reports to the brokers (static nodes cannot be drained from here)`);
    await queueCommand(store, node, { type: 'drain' });
    return { ok: true };
  });

  admin.put<{ Params: { name: string }; Body: AdminEnabledRequest }>(
    '/users/:name/enabled',
    { schema: { params: { type: 'object', required: ['name'], properties: { name: USER_NAME } }, response: ok }, preValidation: bodyOf(adminEnabledRequestSchema) },
    async (request): Promise<AdminOkReply> => {
      const name = request.params.name;
      const { disabled: _, ...u } = await opts.storedUser(name);
      await store.putUser(request.body.enabled ? u : { ...u, disabled: true });
      if (!request.body.enabled) {
        opts.sessions.endAllOf(`user:${name}`);
        const n = await kickSessions(opts, (s) => s.user === name, 'the user was disabled by an administrator').catch((err: unknown) => {
          request.log.warn({ user: name, err: (err as Error).message }, 'sessions of the disabled user not ended');
          return 0;
        });
        request.log.info({ user: name, sessions: n }, 'user disabled');
      }
      return { ok: true };
    },
  );

  // A query string is text (the broker's validator coerces no types): the limit is parsed here.
  admin.get<{ Querystring: { limit?: string } }>('/audit', { schema: { querystring: { type: 'object', properties: { limit: { type: 'string', pattern: '^[1-9][0-9]{0,3}$|^10000$' } } }, response: replies(auditReplySchema) } }, async (request): Promise<AuditReply> => ({ entries: await opts.audit.list(Number(request.query.limit ?? 100)) }));

  admin.get('/events', async (request, reply) => {
    opts.streams.open(request, reply);
    return reply;
  });
}

/** Ends the sessions `match` picks on every node (in-process: now; remote: at their next heartbeat); returns how many. */
export async function kickSessions(opts: Pick<ConsoleRouteOptions, 'live' | 'local'> & { store: BrokerStore }, match: (s: ReportSession) => boolean, reason: string): Promise<number> {
  let n = 0;
  for (const v of (await opts.live.current()).values()) {
    for (const s of v.report.sessions) {
      if (!match(s)) continue;
      if (v.inProcess && opts.local) opts.local.kick(s.id, reason);
      else await queueCommand(opts.store, v.node, { type: 'kick', session: s.id, reason });
      n++;
    }
  }
  return n;
}
