/**
 * POST /v1/nodes/heartbeat — a switch node reports itself (cluster secret as Bearer
 * token) and gets back what it needs to admit sessions: the broker's published public
 * keys (several during a rotation) and the segment definitions. A node keeps the last
 * reply it got, so it carries on when every broker is away.
 */
import type { FastifyInstance } from 'fastify';
import { ElError, type SegmentDef } from '@elink/protocol';
import { requireBearer } from './bearer.js';
import type { KeyRing } from './keyring.js';
import type { Heartbeat, NodeRegistry } from './node-registry.js';
import type { RateLimiter } from './rate-limit.js';

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
}

export type HeartbeatResult = 'ok' | 'bad_secret' | 'rate_limited' | 'disabled' | 'error';
export const HEARTBEAT_RESULTS: readonly HeartbeatResult[] = ['ok', 'bad_secret', 'rate_limited', 'disabled', 'error'];

const NAME = { type: 'string', minLength: 1, maxLength: 64 } as const;
const errorReply = { type: 'object', required: ['error', 'message'], properties: { error: { type: 'string' }, message: { type: 'string' } } } as const;

export const heartbeatSchema = {
  body: {
    type: 'object',
    additionalProperties: false,
    required: ['node', 'hosts', 'port', 'capacity', 'sessions', 'segments', 'active', 'draining'],
    properties: {
      node: NAME,
      hosts: { type: 'array', minItems: 1, maxItems: 8, items: { type: 'string', minLength: 1, maxLength: 253 } },
      port: { type: 'integer', minimum: 1, maximum: 65535 },
      fingerprint: { type: 'string', pattern: '^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){31}$' },
      capacity: { type: 'integer', minimum: 1, maximum: 10_000_000 },
      sessions: { type: 'integer', minimum: 0, maximum: 10_000_000 },
      segments: { type: 'array', maxItems: 1024, items: NAME },
      active: { type: 'array', maxItems: 1024, items: NAME },
      draining: { type: 'boolean' },
    },
  },
  response: {
    200: {
      type: 'object',
      required: ['keys', 'segments', 'heartbeatSeconds'],
      properties: {
        keys: { type: 'array', items: { type: 'string' } },
        // Segment definitions pass through as the broker parsed them.
        segments: { type: 'array', items: { type: 'object', additionalProperties: true } },
        heartbeatSeconds: { type: 'number' },
      },
    },
    '4xx': errorReply,
    '5xx': errorReply,
  },
} as const;

export function registerNodeRoutes(app: FastifyInstance, opts: NodeRouteOptions): void {
  app.post<{ Body: Heartbeat }>('/v1/nodes/heartbeat', { schema: heartbeatSchema, logLevel: 'warn' }, async (request) => {
    const count = opts.onHeartbeat ?? (() => {});
    if (opts.clusterSecret === undefined) {
      count('disabled');
      throw new ElError('EL_ERR_FORBIDDEN', 'this broker takes no heartbeats: set broker.clusterSecret (the same on brokers and switch nodes)');
    }
    const secret = opts.clusterSecret;
    let result: HeartbeatResult | undefined;
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
      await opts.registry.heartbeat(request.body);
    } catch (err) {
      // Anything but a wrong or rate-limited secret is the store failing.
      count(result ?? 'error');
      throw err;
    }
    count('ok');
    return { keys: opts.keys.publicKeysPem(), segments: opts.segments, heartbeatSeconds: opts.heartbeatSeconds };
  });
}
