/**
 * Who checks a DTCP digest and leases the tunnel's addresses: a broker. In `elink up` the
 * broker in the same process (its DtcpService, called directly); on a standalone switch
 * node the brokers of `switch.broker`, over POST /v1/dtcp/tunnel with the cluster secret
 * (BrokerDtcpAuthority). Either way a refusal is an ElError whose code says why.
 */
import { dtcpTunnelReplySchema, ElError, isErrorCode, parseReply, type DtcpGrant, type DtcpTunnelRequest } from '@elink/protocol';
import { postJson } from '@elink/transport';
import type { Logger } from 'pino';

export interface DtcpAuthority {
  /** The grant, or throws ElError: the client's refusal (EL_ERR_AUTH, …) or EL_ERR_UNAVAILABLE. */
  tunnel(req: DtcpTunnelRequest): Promise<DtcpGrant>;
}

export interface BrokerDtcpAuthorityOptions {
  /** Broker base URLs, tried in turn until one answers. */
  brokers: () => readonly string[];
  clusterSecret: string;
  /** The CA of the brokers' certificates (a function: a config reload may change it). */
  ca: () => string | Buffer | undefined;
  timeoutMs?: number;
  logger: Logger;
}

/** One broker's answer within this, else the next is asked. */
const DEFAULT_TIMEOUT_MS = 3000;

export class BrokerDtcpAuthority implements DtcpAuthority {
  #next = 0;
  constructor(private readonly opts: BrokerDtcpAuthorityOptions) {}

  async tunnel(req: DtcpTunnelRequest): Promise<DtcpGrant> {
    const brokers = this.opts.brokers();
    for (let i = 0; i < brokers.length; i++) {
      const n = (this.#next + i) % brokers.length;
      const url = new URL('/v1/dtcp/tunnel', brokers[n]);
      try {
        const answer = await postJson(url, req, { ca: this.opts.ca(), timeoutMs: this.opts.timeoutMs ?? DEFAULT_TIMEOUT_MS, maxReplyBytes: 64 * 1024, headers: { authorization: `Bearer ${this.opts.clusterSecret}` } });
        if (answer.status !== 200) throw new Error(`HTTP ${answer.status}: ${answer.text.slice(0, 300)}`);
        const reply = parseReply(dtcpTunnelReplySchema, answer.json, `the DTCP reply of broker ${url.origin}`);
        this.#next = n;
        if (reply.refused) throw new ElError(isErrorCode(reply.refused.error) ? reply.refused.error : 'EL_ERR_UNAVAILABLE', reply.refused.message);
        return reply.grant!;
      } catch (err) {
        if (err instanceof ElError && err.code !== 'EL_ERR_PROTOCOL') throw err;
        this.opts.logger.warn({ broker: url.origin, code: (err as { code?: unknown }).code, err: (err as Error).message }, 'DTCP tunnel request to a broker failed');
      }
    }
    throw new ElError('EL_ERR_UNAVAILABLE', 'no broker answered the DTCP tunnel request');
  }
}
