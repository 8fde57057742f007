/**
 * POST /v1/nodes/heartbeat — a switch node reports itself (cluster secret as Bearer
 * token) and gets back what it needs to admit sessions: the broker's published public
 * keys (several during a rotation), the segment definitions and the live device key
 * revocations. A node keeps the last reply it got, so it carries on when every broker is away.
 */
import type { FastifyInstance } from 'fastify';
import { ElError, heartbeatReplySchema, heartbeatRequestSchema, NODE_TIME_HEADER, parseNodeTimeHeader, type HeartbeatReply, type HeartbeatRequest, type NodeCommand, type NodeReport, type Revocation, type SegmentDef } from '@elink/protocol';
import { requireBearer } from './bearer.js';
import type { KeyRing } from './keyring.js';
import { reportOnBrokerClock } from './node-clock.js';
import type { NodeRegistry } from './node-registry.js';
import type { RateLimiter } from './rate-limit.js';
import type { TrunkDownRecord } from './store/store.js';
import { bodyOf, replies } from './wire.js';

export interface NodeRouteOptions {
  registry: NodeRegistry;
  keys: KeyRing;
  segments: readonly SegmentDef[];
  clusterSecret?: string;
  heartbeatSeconds: number;
  /** Counts each heartbeat that reached the handler (el_broker_heartbeats_total). */
  onHeartbeat?: (result: HeartbeatResult) => void;
  /** Limits wrong cluster secrets per source, like admin tokens. */
  limiter?: RateLimiter;
  /** Live device key revocations, sent to every node with each reply. */
  revocations?: () => Promise<Revocation[]>;
  /** Keeps the node's console report (heartbeat `report`). */
  report?: (node: string, report: NodeReport) => Promise<void>;
  /** Takes the commands waiting for the node (console/commands.ts). */
  commands?: (node: string) => Promise<NodeCommand[]>;
  /** Trunk losses a heartbeat told of that were new (suspicion.ts; `downAt` on the broker's clock): logged and counted by the app. */
  onLosses?: (reporter: string, losses: Array<TrunkDownRecord & { downAt: number }>) => void;
  /** The reporter's losses its heartbeat withdrew (the trunk came back up): logged and counted by the app. */
  onReturns?: (reporter: string, back: TrunkDownRecord[]) => void;
}

/** A heartbeat with its console report: up to MAX_REPORT_SESSIONS sessions and MAX_REPORT_TABLE table entries. */
const HEARTBEAT_BODY_LIMIT = 2 * 1024 * 1024;

export type HeartbeatResult = 'ok' | 'bad_secret' | 'rate_limited' | 'disabled' | 'error';
export const HEARTBEAT_RESULTS: readonly HeartbeatResult[] = ['ok', 'bad_secret', 'rate_limited', 'disabled', 'error'];

export function registerNodeRoutes(app: FastifyInstance, opts: NodeRouteOptions): void {
  app.post<{ Body: HeartbeatRequest }>('/v1/nodes/heartbeat', { schema: { response: replies(heartbeatReplySchema) }, preValidation: bodyOf(heartbeatRequestSchema), logLevel: 'warn', bodyLimit: HEARTBEAT_BODY_LIMIT }, async (request): Promise<HeartbeatReply> => {
    const count = opts.onHeartbeat ?? (() => {});
    if (opts.clusterSecret === undefined) {
      count('disabled');
      throw new ElError('EL_ERR_FORBIDDEN', 'this broker takes no heartbeats: set broker.clusterSecret (the same on brokers and switch nodes)');
    }
    const secret = opts.clusterSecret;
    let result: HeartbeatResult | undefined;
    let revoked: Revocation[] = [];
    let peers: HeartbeatReply['peers'];
    let commands: NodeCommand[] = [];
    const check = () => {
      try {
        requireBearer(request.headers.authorization, secret, 'cluster secret');
      } catch (err) {
        result = 'bad_secret';
        throw err;
      }
    };
    try {
      if (opts.limiter) await opts.limiter.guardSecret('cluster', request.ip, check, (r) => void (r === 'rate_limited' && (result = 'rate_limited')));
      else check();
      // The node's times read on our clock (node-clock.ts), taken at receipt; none: as before.
      const clock = opts.registry.nodeClock(parseNodeTimeHeader(request.headers[NODE_TIME_HEADER]));
      // The report is kept apart: logins read the registry and need none of it.
      const { report, ...record } = request.body;
      await opts.registry.heartbeat(record);
      // Peers it lost make them suspect at every broker; the node's own heartbeat must not fail for it.
      if (report?.trunks) {
        const noted = await opts.registry.noteTrunks(record.node, report.trunks, clock).catch((err: unknown) => {
          request.log.warn({ node: record.node, err: (err as Error).message }, 'trunk losses in a heartbeat not kept');
          return { lost: [], back: [] };
        });
        if (noted.lost.length) opts.onLosses?.(record.node, noted.lost);
        if (noted.back.length) opts.onReturns?.(record.node, noted.back);
      }
      if (report && opts.report) await opts.report(record.node, reportOnBrokerClock(report, clock));
      commands = (await opts.commands?.(record.node)) ?? [];
      revoked = (await opts.revocations?.()) ?? [];
      // A node with trunks hears of the other nodes of its segments.
      if (request.body.trunk) peers = await opts.registry.peersOf(request.body);
    } catch (err) {
      // Anything but a wrong or rate-limited secret is the store failing.
      count(result ?? 'error');
      throw err;
    }
    count('ok');
    // Segment definitions pass through as the broker parsed them.
    return { keys: opts.keys.publicKeysPem(), segments: [...opts.segments], heartbeatSeconds: opts.heartbeatSeconds, ...(peers ? { peers } : {}), ...(revoked.length ? { revoked } : {}), ...(commands.length ? { commands } : {}) };
  });
}
