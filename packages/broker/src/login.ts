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
 *
 * A device login (deviceLogin, POST /v1/login/device) takes the same steps with step 1
 * replaced: the request's signature by the device key registered at a password login
 * (`deviceKey`), instead of a password hash. Its tickets are bound to that key.
 */
import { randomBytes, type KeyObject } from 'node:crypto';
import { DEVICE_LOGIN_SKEW_SECONDS, ElError, verifyDeviceLogin, type DeviceLoginRequest, type LoginReply, type LoginRequest, type SegmentDef } from '@elink/protocol';
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
import type { BrokerStore } from './store/store.js';

export const DEFAULT_DEVICE = 'default';

/** Without a registry: the static list, the client's lost node moved last. */
function lostLast<T extends { node: string }>(list: T[], lost: string | undefined): T[] {
  return lost === undefined ? list : [...list.filter((e) => e.node !== lost), ...list.filter((e) => e.node === lost)];
}

export interface LoginContext extends NodeContext {
  /** The client's address (rate limits per source). */
  remoteAddress?: string;
  /** The node the client says it lost (header EL-Lost-Node): last in this reply. */
  lostNode?: string;
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
  /** Called for every credential check (a scrypt hash, a digest or a device key signature): the metric of work done. */
  onCheck?: (method: CredentialMethod) => void;
  /** Where device keys are registered; absent = device keys are ignored at login and device logins refused. */
  deviceKeys?: { store: Pick<BrokerStore, 'putDeviceKey' | 'getDeviceKey'>; ttlSeconds: number };
}

export type CredentialMethod = 'password' | 'digest' | 'device_key';
export const CREDENTIAL_METHODS: readonly CredentialMethod[] = ['password', 'digest', 'device_key'];

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
    // The key is registered only once the password proved who this is.
    const dk = req.deviceKey !== undefined && this.#opts.deviceKeys ? req.deviceKey : undefined;
    return this.#grant(record, { segment: req.segment, device, prefix: req.prefix === true, dk }, ctx, now);
  }

  /**
   * A device login: the device key registered for this user and device signed the
   * request within DEVICE_LOGIN_SKEW_SECONDS of the broker's clock. No password hash;
   * the same rate limits as a login (a remembered device: the user-wide one is skipped).
   * An unknown or revoked key, a bad signature and a stale time all answer EL_ERR_AUTH:
   * the client then logs in with its password.
   */
  async deviceLogin(req: DeviceLoginRequest, ctx: LoginContext = {}): Promise<LoginReply> {
    const { limiter, deviceKeys } = this.#opts;
    if (!deviceKeys) throw new ElError('EL_ERR_AUTH', 'this broker takes no device logins; log in with the password');
    const now = this.#opts.remember?.now?.() ?? Date.now();
    const held = await limiter?.reserveLogin(req.user, ctx.remoteAddress, true);
    let record: UserRecord | undefined;
    let key: string | undefined;
    try {
      key = await deviceKeys.store.getDeviceKey(req.user, req.device);
      this.#opts.onCheck?.('device_key');
      const fresh = Math.abs(req.time - now / 1000) <= DEVICE_LOGIN_SKEW_SECONDS;
      const ok = key !== undefined && verifyDeviceLogin(key, req, req.signature);
      record = fresh && ok ? await this.#opts.users.get(req.user) : undefined;
    } catch (err) {
      if (held) await limiter!.abandoned(held).catch(() => {});
      throw err;
    }
    if (!record || key === undefined) {
      if (held) await limiter!.failed(held);
      throw new ElError('EL_ERR_AUTH', 'device key unknown or revoked, signature wrong, or the device clock is off by more than 2 minutes; log in with the password');
    }
    if (held) await limiter!.succeeded(held);
    return this.#grant(record, { segment: req.segment, device: req.device, prefix: req.prefix === true, dk: key }, ctx, now);
  }

  /** Steps 2–4 for an authenticated user: segment, nodes, addresses, MAC, ticket (bound to `dk` if given). */
  async #grant(record: UserRecord, req: { segment: string | undefined; device: string; prefix: boolean; dk: string | undefined }, ctx: LoginContext, now: number): Promise<LoginReply> {
    const { remember } = this.#opts;
    const device = req.device;
    if (record.disabled) throw new ElError('EL_ERR_DISABLED', `user "${record.name}" is disabled; ask an administrator`);
    const segmentName = req.segment ?? record.segments[0];
    if (segmentName === undefined) throw new ElError('EL_ERR_FORBIDDEN', `user "${record.name}" may not join any segment; ask an administrator`);
    const segment = this.#segments.get(segmentName);
    if (!segment) throw new ElError('EL_ERR_NO_SEGMENT', `no segment "${segmentName}"`);
    if (!record.segments.includes(segmentName)) throw new ElError('EL_ERR_FORBIDDEN', `user "${record.name}" may not join segment "${segmentName}"`);

    const statics = this.#opts.nodes(ctx);
    const servers = this.#opts.registry ? await this.#opts.registry.select(segmentName, statics, ctx.lostNode) : lostLast(nodesForSegment(statics, segmentName), ctx.lostNode);
    if (servers.length === 0) throw new ElError('EL_ERR_NO_NODE', `no switch node hosts segment "${segmentName}" right now; try again later`);

    const lease = await this.#opts.ipam.lease(segmentName, record.name, device, { prefix: req.prefix });
    const mac = deriveMac(segmentName, record.name, device);
    // Registered (or its time restarted) with the lease: the key lives as long as the device's addresses.
    if (req.dk !== undefined) await this.#opts.deviceKeys!.store.putDeviceKey(record.name, device, req.dk, this.#opts.deviceKeys!.ttlSeconds);
    const issued = this.#opts.issuer.issue({ sub: record.name, seg: segmentName, mode: segment.mode, dev: device, mac, ...(record.macs ? { macs: record.macs } : {}), ...(record.lan ? { lan: record.lan } : {}), ...lease, ...(req.dk !== undefined ? { dk: req.dk } : {}) });

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
