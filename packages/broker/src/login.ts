/**
 * One login, independent of HTTP: authenticate, pick the segment, find nodes, lease
 * addresses, derive the MAC, sign the ticket. Failures throw ElError with the code
 * the client sees; the order of checks is deliberate:
 *
 *   1. credentials (EL_ERR_AUTH) — before anything that would tell a stranger what exists;
 *   2. segment exists (EL_ERR_NO_SEGMENT) and is allowed (EL_ERR_FORBIDDEN);
 *   3. a node hosts it (EL_ERR_NO_NODE) — before leasing, so a dead cluster burns no addresses;
 *   4. addresses (EL_ERR_POOL_EXHAUSTED), MAC, ticket.
 */
import { randomBytes } from 'node:crypto';
import { ElError, type SegmentDef } from '@elink/protocol';
import type { Ipam } from './ipam.js';
import { deriveMac } from './mac.js';
import { nodesForSegment, type NodeContext, type NodeInfo, type ServerEntry } from './nodes.js';
import { hashPassword, verifyPassword } from './password.js';
import type { TicketIssuer } from './tickets.js';
import type { UserDirectory } from './users.js';

export const DEFAULT_DEVICE = 'default';

export interface LoginRequest {
  user: string;
  password: string;
  segment?: string;
  device?: string;
}

export interface LoginReply {
  ticket: string;
  /** ISO 8601. */
  expiresAt: string;
  servers: ServerEntry[];
  segment: string;
  mode: 'l2' | 'l3';
  mac: string;
  ipv4?: string;
  ipv6?: string;
}

export interface LoginServiceOptions {
  segments: readonly SegmentDef[];
  users: UserDirectory;
  ipam: Ipam;
  issuer: TicketIssuer;
  nodes: (ctx: NodeContext) => NodeInfo[];
}

export class LoginService {
  readonly #segments: Map<string, SegmentDef>;
  readonly #opts: LoginServiceOptions;
  readonly #dummyHash: string;

  private constructor(opts: LoginServiceOptions, dummyHash: string) {
    this.#opts = opts;
    this.#segments = new Map(opts.segments.map((s) => [s.name, s]));
    this.#dummyHash = dummyHash;
  }

  static async create(opts: LoginServiceOptions): Promise<LoginService> {
    // An unknown user is checked against this hash so the reply takes as long as a wrong password.
    const dummyHash = await hashPassword(randomBytes(18).toString('base64'));
    return new LoginService(opts, dummyHash);
  }

  async login(req: LoginRequest, ctx: NodeContext = {}): Promise<LoginReply> {
    const record = await this.#opts.users.get(req.user);
    const ok = await verifyPassword(req.password, record?.passwordHash ?? this.#dummyHash);
    if (!record || !ok) throw new ElError('EL_ERR_AUTH', 'wrong user name or password');

    const segmentName = req.segment ?? record.segments[0];
    if (segmentName === undefined) throw new ElError('EL_ERR_FORBIDDEN', `user "${record.name}" may not join any segment; ask an administrator`);
    const segment = this.#segments.get(segmentName);
    if (!segment) throw new ElError('EL_ERR_NO_SEGMENT', `no segment "${segmentName}"`);
    if (!record.segments.includes(segmentName)) throw new ElError('EL_ERR_FORBIDDEN', `user "${record.name}" may not join segment "${segmentName}"`);

    const servers = nodesForSegment(this.#opts.nodes(ctx), segmentName);
    if (servers.length === 0) throw new ElError('EL_ERR_NO_NODE', `no switch node hosts segment "${segmentName}" right now; try again later`);

    const device = req.device ?? DEFAULT_DEVICE;
    const lease = await this.#opts.ipam.lease(segmentName, record.name, device);
    const mac = deriveMac(segmentName, record.name, device);
    const issued = this.#opts.issuer.issue({ sub: record.name, seg: segmentName, mode: segment.mode, dev: device, mac, ...(record.macs ? { macs: record.macs } : {}), ...lease });

    const reply: LoginReply = { ticket: issued.ticket, expiresAt: issued.expiresAt.toISOString(), servers, segment: segmentName, mode: segment.mode, mac };
    if (lease.ipv4) reply.ipv4 = lease.ipv4;
    if (lease.ipv6) reply.ipv6 = lease.ipv6;
    return reply;
  }
}
