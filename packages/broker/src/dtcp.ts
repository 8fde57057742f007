/**
 * The broker's half of a DTCP tunnel (docs/dtcp.md): a switch node's DTCP listener sent
 * its challenge and the client's `tunnel <user> <digest> <type>`; this checks the digest
 * and leases the tunnel's addresses. The order of checks is the login's (login.ts):
 *
 *   0. rate limits (EL_ERR_RATE_LIMITED), per user from the client's source, per source
 *      and per user — reserved before the hash, so parallel guesses cannot outrun them;
 *   1. the digest (EL_ERR_AUTH): unknown user, no DTCP secret and a wrong digest look alike;
 *   2. the segment exists, is L3 (EL_ERR_NO_SEGMENT), and the user may join it (EL_ERR_FORBIDDEN);
 *   3. the lease, sticky per user + device DTCP_DEVICE like every lease (EL_ERR_POOL_EXHAUSTED,
 *      EL_ERR_DEVICE_LIMIT): `host` an address of the IPv6 pool, `network` a prefix of the
 *      segment's IPv6 delegation pool, `tunnelonly` nothing;
 *   4. `tunnelonly`: the user's static IPv6 `lan` ranges (operator-assigned, not leased: KAME's
 *      tunnelonly left addressing to the site) become the tunnel's sources and routes; a range
 *      overlapping the segment's IPv6 pool, delegation pool or uplink routes (leased or routed
 *      elsewhere) is refused (EL_ERR_ADDRESS_IN_USE). No IPv6 range: link-local only.
 *
 * The challenge is the node's (one per DTCP connection), not the broker's: the node is
 * trusted to have sent it (the cluster secret, or the same process).
 */
import { randomBytes } from 'node:crypto';
import { DTCP_DEVICE, ElError, type DtcpGrant, type DtcpTunnelRequest, type SegmentDef } from '@elink/protocol';
import { digestFor, digestMatches } from './challenge.js';
import { formatCidr, lastAddress, parseCidr, type Cidr } from './ip.js';
import type { Ipam } from './ipam.js';
import type { LeaseFamily } from './lease-store.js';
import type { CredentialMethod } from './login.js';
import { RateLimitedError, type LimitName, type RateLimiter } from './rate-limit.js';
import type { UserDirectory } from './users.js';

export interface DtcpServiceOptions {
  segments: readonly SegmentDef[];
  users: UserDirectory;
  ipam: Ipam;
  limiter?: RateLimiter;
  /** Called for every digest computed (el_broker_credential_checks_total{method="digest"}). */
  onCheck?: (method: CredentialMethod) => void;
  /** A tunnel refused by a rate limit (el_broker_rate_limited_total), in-process or over HTTP alike. */
  onRateLimited?: (limit: LimitName) => void;
}

const FAMILIES: Record<DtcpTunnelRequest['type'], readonly LeaseFamily[]> = { host: ['ipv6'], network: ['prefix6'], tunnelonly: [] };

export class DtcpService {
  readonly #segments: Map<string, SegmentDef>;
  readonly #opts: DtcpServiceOptions;
  /** An unknown user's digest is computed against this, so the reply time says nothing. */
  readonly #dummySecret = randomBytes(18).toString('base64');

  constructor(opts: DtcpServiceOptions) {
    this.#opts = opts;
    this.#segments = new Map(opts.segments.map((s) => [s.name, s]));
  }

  /** A segment added or with new live settings (a config reload). */
  setSegment(def: SegmentDef): void {
    this.#segments.set(def.name, def);
  }

  /** Checks the digest and leases the tunnel's addresses; throws ElError (the client's `-ERR` line). */
  async tunnel(req: DtcpTunnelRequest): Promise<DtcpGrant> {
    const { limiter, users } = this.#opts;
    const held = await limiter?.reserveLogin(req.user, req.source, false).catch((err: unknown) => {
      if (err instanceof RateLimitedError) this.#opts.onRateLimited?.(err.limit);
      throw err;
    });
    let ok: boolean;
    try {
      const record = await users.get(req.user);
      const secret = record?.digestSecret;
      this.#opts.onCheck?.('digest');
      // Compared even when the user or secret is missing: the time says nothing.
      const match = digestMatches(digestFor(req.user, req.challenge, secret ?? this.#dummySecret), req.digest);
      ok = record !== undefined && secret !== undefined && match;
      if (ok) return await this.#grant(req, record!.segments, record!.lan ?? [], held);
    } catch (err) {
      if (held) await limiter!.abandoned(held).catch(() => {});
      throw err;
    }
    if (held) await limiter!.failed(held);
    throw new ElError('EL_ERR_AUTH', 'wrong user name or digest');
  }

  async #grant(req: DtcpTunnelRequest, allowed: readonly string[], lan: readonly string[], held: Awaited<ReturnType<RateLimiter['reserveLogin']>> | undefined): Promise<DtcpGrant> {
    // The credentials were right: the units go back whatever comes next.
    if (held) await this.#opts.limiter!.succeeded(held);
    const seg = this.#segments.get(req.segment);
    if (!seg || seg.mode !== 'l3') throw new ElError('EL_ERR_NO_SEGMENT', `no L3 segment "${req.segment}" for DTCP tunnels on this broker; check switch.dtcp.segment`);
    if (!allowed.includes(req.segment)) throw new ElError('EL_ERR_FORBIDDEN', `user "${req.user}" may not join segment "${req.segment}"`);
    const pools = this.#opts.ipam.pools(req.segment);
    if (req.type === 'host' && !pools?.ipv6) throw new ElError('EL_ERR_NO_SEGMENT', `segment "${req.segment}" has no IPv6 pool for host tunnels`);
    if (req.type === 'network' && !this.#opts.ipam.delegates6(req.segment)) throw new ElError('EL_ERR_NO_SEGMENT', `segment "${req.segment}" has no IPv6 delegation pool for network tunnels`);
    const lan6 = req.type === 'tunnelonly' ? staticRanges(req.user, seg, lan) : [];
    const lease = await this.#opts.ipam.lease(req.segment, req.user, DTCP_DEVICE, { families: FAMILIES[req.type] });
    const reply: DtcpGrant = { user: req.user, device: DTCP_DEVICE, segment: req.segment, type: req.type };
    if (req.type === 'host') {
      reply.clientV6 = lease.ipv6!.split('/')[0]!;
      reply.serverV6 = pools!.ipv6!.format(pools!.ipv6!.gateway);
    }
    if (req.type === 'network') reply.prefix = lease.prefix!;
    if (lan6.length) reply.lan = lan6;
    return reply;
  }
}

/**
 * The IPv6 ones of a user's `lan` ranges, normalised ("fd00:e1:300::/48"), for a tunnelonly
 * tunnel; IPv4 ranges are not the tunnel's (it carries IPv6). A range overlapping what the
 * segment leases or routes elsewhere would take addresses from other users: refused.
 */
function staticRanges(user: string, seg: Extract<SegmentDef, { mode: 'l3' }>, lan: readonly string[]): string[] {
  const taken: { what: string; cidr: Cidr }[] = [];
  if (seg.ipv6) taken.push({ what: `its IPv6 pool ${seg.ipv6.pool}`, cidr: parseCidr(seg.ipv6.pool) });
  if (seg.delegation?.ipv6) taken.push({ what: `its IPv6 delegation pool ${seg.delegation.ipv6.pool}`, cidr: parseCidr(seg.delegation.ipv6.pool) });
  for (const r of seg.uplink?.routes ?? []) {
    const c = parseCidr(r);
    if (c.family === 6) taken.push({ what: `its uplink route ${r}`, cidr: c });
  }
  const out: string[] = [];
  for (const text of lan) {
    const c = parseCidr(text);
    if (c.family !== 6) continue;
    const clash = taken.find((t) => overlaps(t.cidr, c));
    if (clash) throw new ElError('EL_ERR_ADDRESS_IN_USE', `lan range ${formatCidr(c)} of user "${user}" overlaps ${clash.what} in segment "${seg.name}"; give the user a range outside the segment's pools and routes`);
    const f = formatCidr(c);
    if (!out.includes(f)) out.push(f);
  }
  return out;
}

function overlaps(a: Cidr, b: Cidr): boolean {
  return a.family === b.family && a.network <= lastAddress(b) && b.network <= lastAddress(a);
}
