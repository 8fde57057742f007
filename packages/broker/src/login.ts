/**
 * One login, independent of HTTP: authenticate, pick the segment, find nodes, lease
 * addresses, derive the MAC, sign the ticket. Failures throw ElError with the code
 * the client sees; the order of checks is deliberate:
 *
 *   0. rate limits (EL_ERR_RATE_LIMITED) — the attempt is reserved on its counters
 *      (rate-limit.ts) before any hash is computed; a success gives the units back;
 *   1. credentials (EL_ERR_AUTH) — a password, or a challenge + digest; before anything
 *      that would tell a stranger what exists; unknown user and wrong secret look alike;
 *   2. segment exists (EL_ERR_NO_SEGMENT) and is allowed (EL_ERR_FORBIDDEN);
 *   3. a node hosts it (EL_ERR_NO_NODE) — before leasing, so a dead cluster burns no addresses;
 *   4. addresses (EL_ERR_DEVICE_LIMIT, EL_ERR_POOL_EXHAUSTED), MAC, ticket, remember token.
 *
 * A store that cannot be reached fails the login with EL_ERR_UNAVAILABLE (503).
 */
import { randomBytes, type KeyObject } from 'node:crypto';
import { ElError, type LoginReply, type LoginRequest, type SegmentDef } from '@elink/protocol';
import { digestFor, digestMatches, type Challenges } from './challenge.js';
import type { Ipam } from './ipam.js';
import { deriveMac } from './mac.js';
import type { NodeRegistry } from './node-registry.js';
import { nodesForSegment, type NodeContext, type NodeInfo } from './nodes.js';
import { hashPassword, verifyPassword } from './password.js';
import type { RateLimiter } from './rate-limit.js';
import { issueRemember, rememberValid } from './remember.js';
import type { TicketIssuer } from './tickets.js';
import type { UserDirectory, UserRecord } from './users.js';

export const DEFAULT_DEVICE = 'default';

export interface LoginContext extends NodeContext {
  /** The client's address (rate limits per source). */
  remoteAddress?: string;
}

export interface LoginServiceOptions {
  segments: readonly SegmentDef[];
  users: UserDirectory;
  ipam: Ipam;
  issuer: TicketIssuer;
  /** Statically known nodes (config, or the in-process node of `elink up`). */
  nodes: (ctx: NodeContext) => NodeInfo[];
  /** Registered nodes (heartbeats); absent = static nodes only. */
  registry?: NodeRegistry;
  limiter?: RateLimiter;
  challenges?: Challenges;
  /** Issue and accept remember tokens, signed with the ticket keys. */
  remember?: { signingKey: () => KeyObject; publicKeys: () => KeyObject[]; ttlSeconds: number; now?: () => number };
  /** Called for every credential check (a scrypt hash or a digest): the metric of work done. */
  onCheck?: (method: 'password' | 'digest') => void;
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

  /** A segment added or with new live settings (a config reload): logins use it from now on. */
  setSegment(def: SegmentDef): void {
    this.#segments.set(def.name, def);
  }

  static async create(opts: LoginServiceOptions): Promise<LoginService> {
    // An unknown user is checked against this hash so the reply takes as long as a wrong password.
    const dummyHash = await hashPassword(randomBytes(18).toString('base64'));
    return new LoginService(opts, dummyHash);
  }

  async login(req: LoginRequest, ctx: LoginContext = {}): Promise<LoginReply> {
    const { limiter, remember } = this.#opts;
    const device = req.device ?? DEFAULT_DEVICE;
    const now = remember?.now?.() ?? Date.now();
    const remembered = remember !== undefined && req.remember !== undefined && rememberValid(req.remember, remember.publicKeys(), req.user, device, now);
    // Counted before the hash: concurrent guesses cannot outrun the limit.
    const held = await limiter?.reserveLogin(req.user, ctx.remoteAddress, remembered);
    let record: UserRecord | undefined;
    try {
      record = await this.#authenticate(req);
    } catch (err) {
      if (held) await limiter!.abandoned(held).catch(() => {});
      throw err;
    }
    // A failure keeps its units: they are the failure count.
    if (!record) {
      if (held) await limiter!.failed(held);
      throw new ElError('EL_ERR_AUTH', req.password !== undefined ? 'wrong user name or password' : 'wrong user name or digest, or the challenge is unknown, used or expired; get a new challenge');
    }
    if (held) await limiter!.succeeded(held);

    const segmentName = req.segment ?? record.segments[0];
    if (segmentName === undefined) throw new ElError('EL_ERR_FORBIDDEN', `user "${record.name}" may not join any segment; ask an administrator`);
    const segment = this.#segments.get(segmentName);
    if (!segment) throw new ElError('EL_ERR_NO_SEGMENT', `no segment "${segmentName}"`);
    if (!record.segments.includes(segmentName)) throw new ElError('EL_ERR_FORBIDDEN', `user "${record.name}" may not join segment "${segmentName}"`);

    const statics = this.#opts.nodes(ctx);
    const servers = this.#opts.registry ? await this.#opts.registry.select(segmentName, statics) : nodesForSegment(statics, segmentName);
    if (servers.length === 0) throw new ElError('EL_ERR_NO_NODE', `no switch node hosts segment "${segmentName}" right now; try again later`);

    const lease = await this.#opts.ipam.lease(segmentName, record.name, device, { prefix: req.prefix === true });
    const mac = deriveMac(segmentName, record.name, device);
    const issued = this.#opts.issuer.issue({ sub: record.name, seg: segmentName, mode: segment.mode, dev: device, mac, ...(record.macs ? { macs: record.macs } : {}), ...(record.lan ? { lan: record.lan } : {}), ...lease });

    const reply: LoginReply = { ticket: issued.ticket, expiresAt: issued.expiresAt.toISOString(), servers, segment: segmentName, mode: segment.mode, mac };
    for (const k of ['ipv4', 'ipv6', 'prefix', 'prefix4'] as const) if (lease[k]) reply[k] = lease[k];
    if (remember) reply.remember = issueRemember(remember.signingKey(), record.name, device, remember.ttlSeconds, now);
    return reply;
  }

  /** The user when the credentials are right, else undefined (never says which part was wrong). */
  async #authenticate(req: LoginRequest): Promise<UserRecord | undefined> {
    if (req.password !== undefined) {
      const record = await this.#opts.users.get(req.user);
      this.#opts.onCheck?.('password');
      const ok = await verifyPassword(req.password, record?.passwordHash ?? this.#dummyHash);
      return record && ok ? record : undefined;
    }
    if (req.challenge === undefined || req.digest === undefined) throw new ElError('EL_ERR_INVALID', 'give either password, or challenge and digest');
    if (!this.#opts.challenges) throw new ElError('EL_ERR_INVALID', 'challenge–response login is not enabled on this broker');
    // The challenge is spent by this attempt whatever its outcome.
    const live = await this.#opts.challenges.take(req.challenge);
    const record = await this.#opts.users.get(req.user);
    const secret = record?.digestSecret;
    // Compare even when something is already wrong, so the reply time says nothing.
    this.#opts.onCheck?.('digest');
    const ok = digestMatches(digestFor(req.user, req.challenge, secret ?? this.#dummyHash), req.digest);
    return live && record && secret !== undefined && ok ? record : undefined;
  }
}
