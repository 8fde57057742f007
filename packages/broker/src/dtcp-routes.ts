/**
 * POST /v1/dtcp/tunnel — a switch node's DTCP listener asks for a tunnel (cluster secret
 * as Bearer token, limited per source like heartbeats): the digest checked and the
 * addresses leased by DtcpService (dtcp.ts). The client's outcome is a 200, `{grant}` or
 * `{refused: {error, message}}` (the node's `-ERR` line); any other status is about the
 * node itself (the cluster secret) or the broker (its store), the usual error bodies.
 */
import type { FastifyInstance } from 'fastify';
import { dtcpTunnelReplySchema, dtcpTunnelRequestSchema, ElError, type DtcpTunnelReply, type DtcpTunnelRequest } from '@elink/protocol';
import { requireBearer } from './bearer.js';
import type { DtcpService } from './dtcp.js';
import type { RateLimiter } from './rate-limit.js';
import { bodyOf, replies } from './wire.js';

export interface DtcpRouteOptions {
  service: DtcpService;
  clusterSecret?: string;
  limiter?: RateLimiter;
}

export function registerDtcpRoutes(app: FastifyInstance, opts: DtcpRouteOptions): void {
  app.post<{ Body: DtcpTunnelRequest }>('/v1/dtcp/tunnel', { schema: { response: replies(dtcpTunnelReplySchema) }, preValidation: bodyOf(dtcpTunnelRequestSchema) }, async (request): Promise<DtcpTunnelReply> => {
    const secret = opts.clusterSecret;
    if (secret === undefined) throw new ElError('EL_ERR_FORBIDDEN', 'this broker takes no DTCP requests from switch nodes: set broker.clusterSecret (the same on brokers and switch nodes)');
    const check = () => requireBearer(request.headers.authorization, secret, 'cluster secret');
    if (opts.limiter) await opts.limiter.guardSecret('cluster', request.ip, check);
    else check();
    const { user, type, segment, node } = request.body;
    try {
      const grant = await opts.service.tunnel(request.body);
      request.log.info({ user, type, segment, node, clientV6: grant.clientV6, prefix: grant.prefix, lan: grant.lan }, 'dtcp tunnel granted');
      return { grant };
    } catch (err) {
      // A store outage is the broker's: a 503 the node reports as such.
      if (!(err instanceof ElError) || err.code === 'EL_ERR_UNAVAILABLE' || err.code === 'EL_ERR_INTERNAL') throw err;
      request.log.info({ user, type, segment, node, code: err.code }, 'dtcp tunnel refused');
      return { refused: { error: err.code, message: err.message } };
    }
  });
}
