/**
 * L3 segments: IP packets routed by longest-prefix match. All L3 segments of a node
 * share one L3Router (one route table per family), so a packet may cross segments
 * when the policy (`reach`) allows it.
 *
 * One packet's path through forward():
 *   1. version / header sanity                      → drop `bad_packet`
 *   2. destination link-local, multicast, broadcast → drop `not_routable`
 *   3. source: LPM(src) must be the ingress port    → drop `src_address`
 *      (its own addresses and delegated prefixes; an uplink port is trusted)
 *   4. echo request to the segment's gateway        → echo reply (rate-limited), done
 *   5. LPM(dst): none                               → drop `no_route` + ICMP unreachable
 *      another segment not in this one's `reach`    → drop `policy_denied`
 *      the ingress port itself                      → drop `hairpin`
 *   6. TTL / hop limit ≤ 1                          → drop `ttl_exceeded` + ICMP time exceeded
 *      else decrement (IPv4: incremental checksum)  → egress.enqueue(packet)
 * A trunk port (another node of the segment) is routed the prefixes that peer announced
 * (learnRemote, endpoints.ts), and is trusted for those sources only (step 3,
 * `trunk_source`; also the ones it announced in another shared segment, and the gateway
 * address: the peer router's ICMP); what comes in by a trunk never leaves by another (`split_horizon`). A
 * local port attaching with a prefix a trunk holds takes it over (a local endpoint wins).
 * ICMP errors come from the ingress segment's gateway address and are rate-limited
 * per session (segment.icmpPerSession) and, under that, node-wide; echo replies too. The
 * budgets are taken before the message is built, so a flood of TTL=1 packets costs no
 * allocation once they are spent. Drops are counted in the ingress segment. The gateway
 * answers nothing else (no neighbour discovery: L3 clients use TUN devices, which have
 * no link layer).
 */
import type { Logger } from 'pino';
import { ElError, type Hello, type L3SegmentDef, type SegmentDef, type TicketClaims } from '@elink/protocol';
import type { Segment, SegmentStats, SessionPlan } from '../segment.js';
import { DevicePort, ipCommand } from '../../ports/device-port.js';
import { countDrop, newDropCounts, type DropCounts, type DropReason } from '../drops.js';
import { GsoEgress } from '../gso-egress.js';
import { withLiveSettings } from '../segment-settings.js';
import type { Port } from '../port.js';
import type { EndpointListener, MoveLimits, RemoteVerdict } from '../endpoints.js';
import {
  decrementTtl4,
  icmp4EchoReply,
  icmp4Error,
  icmp6EchoReply,
  icmp6Error,
  ICMP4_DEST_UNREACHABLE,
  ICMP4_ECHO_REQUEST,
  ICMP4_TIME_EXCEEDED,
  ICMP6_DEST_UNREACHABLE,
  ICMP6_ECHO_REQUEST,
  ICMP6_PACKET_TOO_BIG,
  ICMP6_TIME_EXCEEDED,
  TokenBucket,
} from './icmp.js';
import { firstHost, formatPrefix, hostOf, parseAddress, parsePrefix, type Prefix } from './ip.js';
import { PrefixTable } from './prefix-table.js';

export interface L3Route {
  readonly port: Port;
  readonly segment: L3Segment;
}

/** L3 routing on one node: routes per family, ICMP errors per second and their burst. */
export const DEFAULT_L3_MAX_ROUTES = 4_000_000;
export const DEFAULT_ICMP_RATE = 100;
export const DEFAULT_ICMP_BURST = 50;

export interface L3RouterOptions {
  /** Routes per family on the node. Defaults: ../defaults.ts. */
  maxRoutes?: number;
  /** ICMP errors per second the node sends, and the burst. */
  icmpRate?: number;
  icmpBurst?: number;
  now?: () => number;
}

/** The node's routing tables, shared by its L3 segments. */
export class L3Router {
  readonly v4: PrefixTable<L3Route>;
  readonly v6: PrefixTable<L3Route>;
  readonly icmp: TokenBucket;
  readonly now: () => number;
  icmpSent = 0;
  /** ICMP errors and echo replies not sent because the node-wide rate limit was reached. */
  icmpLimited = 0;
  /** … because the session's own budget (segment.icmpPerSession) was spent. */
  icmpSessionLimited = 0;
  /** Echo replies the segment gateways sent (also counted in icmpSent). */
  echoReplies = 0;

  constructor(opts: L3RouterOptions = {}) {
    this.v4 = new PrefixTable(4, opts.maxRoutes ?? DEFAULT_L3_MAX_ROUTES);
    this.v6 = new PrefixTable(6, opts.maxRoutes ?? DEFAULT_L3_MAX_ROUTES);
    this.now = opts.now ?? Date.now;
    this.icmp = new TokenBucket(opts.icmpRate ?? DEFAULT_ICMP_RATE, opts.icmpBurst ?? DEFAULT_ICMP_BURST, this.now);
  }

  table(family: 4 | 6): PrefixTable<L3Route> {
    return family === 4 ? this.v4 : this.v6;
  }
}

export interface L3AttachOptions {
  /** Routed to this port: its host addresses and delegated prefixes. */
  prefixes: readonly Prefix[];
  /** Any source address accepted (an uplink to the host's kernel); default false. */
  trusted?: boolean;
}

/** Why attach() failed: a prefix already routed to another port, or the route limit. */
export type L3AttachResult = { ok: true } | { ok: false; conflict?: Port; full?: true };

interface Attachment {
  readonly prefixes: readonly Prefix[];
  /** A trunk port; its routes are in `remote`. */
  readonly trunk: boolean;
  /** A trunk's routes by prefix text, with the sequence numbers announced. */
  readonly remote: Map<string, { prefix: Prefix; seq: number }> | undefined;
  /** The route value of a trunk's prefixes (PrefixTable.remove compares it). */
  readonly route: L3Route | undefined;
  readonly trusted: boolean;
  /** The session's ICMP budget; none for a trusted uplink (a whole LAN). */
  readonly icmp: TokenBucket | undefined;
}

const IPV4_HEADER = 20;
const IPV6_HEADER = 40;

/** At most this many routes go into a welcome. */
const MAX_WELCOME_ROUTES = 1024;

export class L3Segment implements Segment {
  readonly mode = 'l3' as const;
  readonly name: string;
  readonly drops: DropCounts = newDropCounts();
  readonly reach: ReadonlySet<string>;
  /** Packets forwarded. */
  routed = 0;
  private readonly attachments = new Map<Port, Attachment>();
  /** Segments FRAME_GSO records for ports of this segment: packets of at most its MTU. */
  readonly gsoEgress: GsoEgress;
  private routeCount = 0;
  private readonly gateway4: number | undefined;
  private readonly gateway6: number[] | undefined;

  #def: L3SegmentDef;

  /** `lookup`: another hosted segment by name (the routes of those in `reach` go into the welcome). */
  constructor(
    def: L3SegmentDef,
    readonly router: L3Router,
    private readonly lookup: (name: string) => Segment | undefined = () => undefined,
  ) {
    this.#def = def;
    this.name = def.name;
    this.reach = new Set(def.reach);
    this.gsoEgress = new GsoEgress(false, def.mtu);
    const g4 = def.ipv4 && (def.ipv4.gateway ? parseAddress(def.ipv4.gateway)?.words : firstHost(def.ipv4.pool));
    const g6 = def.ipv6 && (def.ipv6.gateway ? parseAddress(def.ipv6.gateway)?.words : firstHost(def.ipv6.pool));
    this.gateway4 = g4?.[0];
    this.gateway6 = g6;
  }

  get def(): L3SegmentDef {
    return this.#def;
  }

  /** New values of LIVE_SEGMENT_SETTINGS (a config reload): maxRoutes and icmpPerSession are read at use. */
  applySettings(next: SegmentDef): void {
    if (next.mode !== 'l3') return; // a mode change needs a restart (config-diff says so)
    this.#def = withLiveSettings(this.#def, next);
  }

  get portCount(): number {
    return this.attachments.size;
  }

  get routes(): number {
    return this.routeCount;
  }

  has(port: Port): boolean {
    return this.attachments.has(port);
  }

  /** The port a prefix is routed to exactly (in any segment of the node). */
  ownerOf(p: Prefix): Port | undefined {
    return this.router.table(p.family).exact(p.words, p.length)?.port;
  }

  /** Routes `prefixes` to `port`. Changes nothing when one is routed elsewhere or the limit is reached. */
  /** Every route with its port: the prefixes of local ports, then those peers announced (the console's route view). */
  *routeEntries(): IterableIterator<[Prefix, Port]> {
    for (const [port, att] of this.attachments) {
      if (att.remote) for (const r of att.remote.values()) yield [r.prefix, port];
      else for (const p of att.prefixes) yield [p, port];
    }
  }

  attach(port: Port, opts: L3AttachOptions): L3AttachResult {
    if (this.attachments.has(port)) return { ok: true };
    for (const p of opts.prefixes) {
      const other = this.ownerOf(p);
      // A prefix a peer node announced is taken over: a local endpoint wins.
      if (other !== undefined && other !== port && other.kind !== 'trunk') return { ok: false, conflict: other };
    }
    if (this.routeCount + opts.prefixes.length > this.def.maxRoutes) return { ok: false, full: true };
    const route: L3Route = { port, segment: this };
    const done: Prefix[] = [];
    const seqs: number[] = [];
    for (const p of opts.prefixes) {
      const held = this.router.table(p.family).exact(p.words, p.length);
      // Taken over from a peer: the endpoint moved here, one sequence number on (so every
      // other node prefers this announcement to the peer's, whatever order they arrive in).
      seqs.push(held !== undefined && held.port !== port ? held.segment.takenOver(held.port, formatPrefix(p)) + 1 : 0);
      if (!this.router.table(p.family).insert(p.words, p.length, route)) {
        for (const d of done) this.router.table(d.family).remove(d.words, d.length, route);
        return { ok: false, full: true };
      }
      done.push(p);
    }
    this.routeCount += done.length;
    const trusted = !!opts.trusted;
    const budget = this.def.icmpPerSession;
    this.attachments.set(port, { prefixes: done, trunk: false, remote: undefined, route: undefined, trusted, icmp: trusted ? undefined : new TokenBucket(budget.rate, budget.burst, this.router.now) });
    const l = this.listener;
    for (let i = 0; i < done.length; i++) {
      const text = formatPrefix(done[i]!);
      if (seqs[i]! > 0) this.localSeq.set(text, seqs[i]!);
      l?.added(text, seqs[i]!);
    }
    return { ok: true };
  }

  // ---- trunks (endpoints.ts) ----

  private listener: EndpointListener | undefined;
  private remoteRoutes = 0;
  /** Sequence numbers of local prefixes taken over from a peer (absent: 0). */
  private readonly localSeq = new Map<string, number>();

  listen(listener: EndpointListener, _moves: MoveLimits): void {
    this.listener = listener;
  }

  attachTrunk(port: Port): void {
    if (this.attachments.has(port)) return;
    // No ICMP budget of its own: a peer node's clients are limited there, and by the node-wide one here.
    this.attachments.set(port, { prefixes: [], trunk: true, remote: new Map(), route: { port, segment: this }, trusted: false, icmp: undefined });
  }

  localEndpoints(): [string, number][] {
    const out: [string, number][] = [];
    for (const a of this.attachments.values()) {
      if (a.trunk) continue;
      for (const p of a.prefixes) {
        const text = formatPrefix(p);
        out.push([text, this.localSeq.get(text) ?? 0]);
      }
    }
    return out;
  }

  localHolder(key: string): Port | undefined {
    const p = parsePrefix(key);
    const port = p ? this.ownerOf(p) : undefined;
    return port !== undefined && port.kind !== 'trunk' ? port : undefined;
  }

  learnRemote(port: Port, key: string, seq: number, limit: number): RemoteVerdict {
    const att = this.attachments.get(port);
    if (att === undefined || att.remote === undefined || att.route === undefined) return 'bad';
    const p = parsePrefix(key);
    if (!p) return 'bad';
    const text = formatPrefix(p);
    const table = this.router.table(p.family);
    const held = table.exact(p.words, p.length);
    if (held !== undefined && held.port !== port) {
      if (held.port.kind !== 'trunk') return 'local';
      const prev = held.segment.attachments.get(held.port)?.remote?.get(text);
      if (prev !== undefined && seq < prev.seq) return 'stale';
    }
    const mine = att.remote.get(text);
    if (mine !== undefined) {
      mine.seq = seq;
      return 'ok';
    }
    if (att.remote.size >= limit || this.remoteRoutes >= this.def.maxRoutes) return 'full';
    // Another peer's, older: its announcement waits in its shadow.
    if (held !== undefined) held.segment.takenOver(held.port, text);
    if (!table.insert(p.words, p.length, att.route)) return 'full';
    att.remote.set(text, { prefix: p, seq });
    this.remoteRoutes++;
    return 'ok';
  }

  forgetRemote(port: Port, key: string): string | undefined {
    const p = parsePrefix(key);
    if (!p) return undefined;
    const text = formatPrefix(p);
    const att = this.attachments.get(port);
    const r = att?.remote?.get(text);
    if (r === undefined) return undefined;
    this.router.table(p.family).remove(p.words, p.length, att!.route);
    this.dropRemote(port, text);
    return text;
  }

  holds(key: string, except?: Port): boolean {
    const p = parsePrefix(key);
    if (!p) return false;
    const held = this.router.table(p.family).exact(p.words, p.length);
    return held !== undefined && held.port !== except;
  }

  remoteKeys(port: Port): string[] {
    const remote = this.attachments.get(port)?.remote;
    return remote === undefined ? [] : [...remote.keys()];
  }

  /** From a trunk, besides what that peer announced in this segment: a source it announced in
   * another segment it shares with us (routed across segments there: its `reach` allowed
   * it), and the segment's gateway (an ICMP error or echo reply of the peer's router). */
  private sameTrunk(src: Port | undefined, ingress: Port): boolean {
    return src !== undefined && src.link !== undefined && src.link === ingress.link;
  }

  /** A local port, or another trunk's newer announcement, took over a trunk's prefix:
   * forgotten here, kept in the trunk port's shadow (reinstated when the other one goes). */
  private takenOver(port: Port, text: string): number {
    const r = this.attachments.get(port)?.remote?.get(text);
    if (r === undefined) return -1;
    this.dropRemote(port, text);
    port.displaced?.(text, r.seq);
    return r.seq;
  }

  /** Forgets a trunk's prefix whose route was taken over or removed. */
  private dropRemote(port: Port, text: string): void {
    if (this.attachments.get(port)?.remote?.delete(text)) this.remoteRoutes--;
  }

  remoteCount(port?: Port): number {
    if (port === undefined) return this.remoteRoutes;
    return this.attachments.get(port)?.remote?.size ?? 0;
  }

  frozenCount(): number {
    return 0;
  }

  freezeCount(): number {
    return 0;
  }

  stats(): SegmentStats {
    return { ports: this.attachments.size, macEntries: 0, evictions: 0, moves: 0, routes: this.routeCount, remote: this.remoteRoutes, frozen: 0 };
  }

  /** Routes age with their sessions, not with time. */
  sweep(): void {}

  /** Its pools, delegation pools and uplink routes: what a client of a segment reaching this one routes here. */
  reachableRoutes(): string[] {
    const d = this.def;
    return [d.ipv4?.pool, d.ipv6?.pool, ...this.outwardRoutes()].filter((x): x is string => !!x);
  }

  /** Delegation pools and uplink routes: beyond the client's own pool. */
  private outwardRoutes(): string[] {
    const d = this.def;
    return [d.delegation?.ipv4?.pool, d.delegation?.ipv6?.pool, ...(d.uplink?.routes ?? [])].filter((x): x is string => !!x);
  }

  /**
   * What a client of this segment must route into its tunnel beyond its own pool: the
   * delegation pools and uplink routes, and the pools and routes of every hosted segment
   * it may reach. At most MAX_WELCOME_ROUTES.
   */
  welcomeRoutes(): { to: string }[] {
    const out = new Set<string>(this.outwardRoutes());
    for (const name of this.reach) for (const r of this.lookup(name)?.reachableRoutes() ?? []) out.add(r);
    return [...out].slice(0, MAX_WELCOME_ROUTES).map((to) => ({ to }));
  }

  /** A client session: the ticket's addresses and delegated prefixes are routed to it. */
  planSession(claims: TicketClaims, _hello: Hello): SessionPlan | ElError {
    const prefixes: Prefix[] = [];
    const fields: [string | undefined, boolean, string][] = [
      [claims.ipv4, true, 'ipv4'],
      [claims.ipv6, true, 'ipv6'],
      [claims.prefix, false, 'prefix'],
      [claims.prefix4, false, 'prefix4'],
    ];
    for (const [text, host, what] of fields) {
      if (text === undefined) continue;
      const p = host ? hostOf(text) : parsePrefix(text);
      if (!p) return new ElError('EL_ERR_BAD_TICKET', `ticket ${what} ${JSON.stringify(text)} is not an IP ${host ? 'address' : 'prefix'}`);
      prefixes.push(p);
    }
    const holders: Port[] = [];
    let taken: Prefix | undefined;
    for (const p of prefixes) {
      const h = this.ownerOf(p);
      if (h === undefined || h.kind === 'trunk') continue; // a peer's: taken over at attach
      taken ??= p;
      if (!holders.includes(h)) holders.push(h);
    }
    const full = () => new ElError('EL_ERR_UNAVAILABLE', `segment "${this.name}" has reached its route limit (maxRoutes ${this.def.maxRoutes}) on this node; try another node`);
    if (holders.length === 0 && this.routeCount + prefixes.length > this.def.maxRoutes) return full();
    const inUse = () => new ElError('EL_ERR_ADDRESS_IN_USE', `${taken ? formatPrefix(taken) : 'an address of this ticket'} is routed to another session in segment "${this.name}"`);
    const welcome: SessionPlan['welcome'] = {};
    if (claims.prefix) welcome.prefix = claims.prefix;
    if (claims.prefix4) welcome.prefix4 = claims.prefix4;
    const routes = this.welcomeRoutes();
    if (routes.length) welcome.routes = routes;
    return {
      holders,
      inUse,
      maxFrame: this.def.mtu,
      welcome,
      attach: (port) => {
        const r = this.attach(port, { prefixes });
        if (r.ok) return undefined;
        return r.full ? full() : inUse();
      },
    };
  }

  /**
   * `uplink`: a TUN the host kernel routes through; its `routes` lead out by it, and the
   * segment's pools lead back in (host routes via the device).
   */
  openLanPort(logger: Logger): DevicePort | undefined {
    const def = this.def;
    const uplink = def.uplink;
    if (!uplink) return undefined;
    const prefixes: Prefix[] = [];
    for (const r of uplink.routes) prefixes.push(parsePrefix(r)!);
    const port = DevicePort.open({ mode: 'tun', name: uplink.tun, mtu: def.mtu });
    try {
      const back = [def.ipv4?.pool, def.ipv6?.pool, def.delegation?.ipv4?.pool, def.delegation?.ipv6?.pool].filter((x): x is string => !!x);
      for (const to of back) ipCommand([to.includes(':') ? '-6' : '-4', 'route', 'replace', to, 'dev', port.name]);
      const r = this.attach(port, { prefixes, trusted: true });
      if (!r.ok) throw new ElError('EL_ERR_CONFIG', `uplink routes of segment "${def.name}" overlap routes already in use`);
    } catch (e) {
      port.close();
      throw e;
    }
    port.start(this, (err) => logger.error({ segment: this.name, device: port.name, err: err.message }, 'LAN port device error'));
    logger.info({ segment: this.name, tun: port.name, routes: uplink.routes }, 'uplink port up');
    return port;
  }

  /** Removes the port and its routes. */
  detach(port: Port): void {
    const a = this.attachments.get(port);
    if (a === undefined) return;
    if (a.remote !== undefined) {
      for (const { prefix: p } of a.remote.values()) this.router.table(p.family).remove(p.words, p.length, a.route);
      this.remoteRoutes -= a.remote.size;
      a.remote.clear();
      this.attachments.delete(port);
      return;
    }
    this.attachments.delete(port);
    const l = this.listener;
    this.routeCount -= a.prefixes.length;
    for (const p of a.prefixes) {
      const t = this.router.table(p.family);
      const r = t.exact(p.words, p.length);
      if (r !== undefined && r.port === port) t.remove(p.words, p.length, r);
      const text = formatPrefix(p);
      this.localSeq.delete(text);
      // After the route is gone: a peer's announcement it shadowed may take its place.
      if (l !== undefined) l.removed(text);
    }
  }

  /** `gso`: the whole FRAME_GSO payload when `packet` is the packet inside one (a view of
   * it, so the TTL decrement below lands in it too). */
  forward(packet: Buffer, ingress: Port, gso?: Buffer): void {
    const att = this.attachments.get(ingress);
    if (att === undefined) return; // raced with detach
    const version = packet.length > 0 ? packet[0] >> 4 : 0;
    if (version === 4) this.forward4(packet, ingress, att, gso);
    else if (version === 6) this.forward6(packet, ingress, att, gso);
    else this.drop('bad_packet', ingress);
  }

  /** Counts a drop of what came in by `ingress` (also for a trunk's peer: countDrop). */
  private drop(reason: DropReason, ingress: Port): void {
    countDrop(this.drops, reason, ingress);
  }

  /** To the route's port; a FRAME_GSO record as it is or segmented for the egress segment's MTU. */
  private send(route: { port: Port; segment: L3Segment }, p: Buffer, gso: Buffer | undefined): void {
    if (gso === undefined) {
      route.port.enqueue(p);
      return;
    }
    const out = route.segment.gsoEgress;
    out.begin(gso);
    if (!out.send(route.port)) this.drops.bad_gso++;
    out.end();
  }

  private forward4(p: Buffer, ingress: Port, att: Attachment, gso: Buffer | undefined): void {
    const ihl = (p[0] & 0x0f) * 4;
    if (p.length < IPV4_HEADER || ihl < IPV4_HEADER || p.length < ihl || ((p[2] << 8) | p[3]) > p.length) {
      this.drop('bad_packet', ingress);
      return;
    }
    const d0 = p[16];
    if (d0 >= 224 || d0 === 0 || d0 === 127 || (d0 === 169 && p[17] === 254)) {
      this.drop('not_routable', ingress);
      return;
    }
    const table = this.router.v4;
    if (!att.trusted && table.lookupAt(p, 12)?.port !== ingress && !(att.trunk && (this.sameTrunk(table.lookupAt(p, 12)?.port, ingress) || p.readUInt32BE(12) === this.gateway4))) {
      this.drop(att.trunk ? 'trunk_source' : 'src_address', ingress);
      return;
    }
    if (p[9] === 1 && p.readUInt32BE(16) === this.gateway4 && p.length > ihl && p[ihl] === ICMP4_ECHO_REQUEST) {
      if (this.takeIcmp(att)) this.answerEcho(icmp4EchoReply(p), ingress, att);
      return;
    }
    const route = table.lookupAt(p, 16);
    if (route === undefined) {
      this.drop('no_route', ingress);
      this.icmp4(p, ingress, att, ICMP4_DEST_UNREACHABLE, 1);
      return;
    }
    if (!this.mayTake(route, ingress, att)) return;
    if (p[8] <= 1) {
      this.drop('ttl_exceeded', ingress);
      this.icmp4(p, ingress, att, ICMP4_TIME_EXCEEDED, 0);
      return;
    }
    decrementTtl4(p);
    this.routed++;
    this.send(route, p, gso);
  }

  private forward6(p: Buffer, ingress: Port, att: Attachment, gso: Buffer | undefined): void {
    if (p.length < IPV6_HEADER || IPV6_HEADER + ((p[4] << 8) | p[5]) > p.length) {
      this.drop('bad_packet', ingress);
      return;
    }
    // ff00::/8 multicast, fe80::/10 link-local, ::/8 (unspecified, loopback, v4-mapped).
    if (p[24] === 0xff || (p[24] === 0xfe && (p[25] & 0xc0) === 0x80) || p[24] === 0) {
      this.drop('not_routable', ingress);
      return;
    }
    const table = this.router.v6;
    if (!att.trusted && table.lookupAt(p, 8)?.port !== ingress && !(att.trunk && (this.sameTrunk(table.lookupAt(p, 8)?.port, ingress) || this.isGateway6At(p, 8)))) {
      this.drop(att.trunk ? 'trunk_source' : 'src_address', ingress);
      return;
    }
    if (p[6] === 58 && p.length > IPV6_HEADER && p[IPV6_HEADER] === ICMP6_ECHO_REQUEST && this.isGateway6(p)) {
      if (this.takeIcmp(att)) this.answerEcho(icmp6EchoReply(p), ingress, att);
      return;
    }
    const route = table.lookupAt(p, 24);
    if (route === undefined) {
      this.drop('no_route', ingress);
      this.icmp6(p, ingress, att, ICMP6_DEST_UNREACHABLE, 0);
      return;
    }
    if (!this.mayTake(route, ingress, att)) return;
    if (p[7] <= 1) {
      this.drop('ttl_exceeded', ingress);
      this.icmp6(p, ingress, att, ICMP6_TIME_EXCEEDED, 0);
      return;
    }
    p[7]--;
    this.routed++;
    this.send(route, p, gso);
  }

  /**
   * An IPv6 packet longer than the segment MTU from `ingress` (a 6in4 tunnel whose client set
   * its tunnel MTU higher; an EL session cannot send one): ICMPv6 packet too big with the MTU,
   * from the gateway and the port's ICMP budget, so the sender's path MTU discovery adjusts.
   * The caller drops the packet and counts it.
   */
  packetTooBig(p: Buffer, ingress: Port): void {
    const att = this.attachments.get(ingress);
    if (att === undefined || this.gateway6 === undefined || !this.takeIcmp(att)) return;
    const msg = icmp6Error(p, ICMP6_PACKET_TOO_BIG, 0, this.gateway6, this.def.mtu);
    if (msg) this.sendIcmp(msg, ingress);
    else this.giveIcmp(att);
  }

  private icmp4(p: Buffer, ingress: Port, att: Attachment, type: number, code: number): void {
    if (this.gateway4 === undefined || !this.takeIcmp(att)) return;
    const msg = icmp4Error(p, type, code, this.gateway4);
    if (msg) this.sendIcmp(msg, ingress);
    else this.giveIcmp(att);
  }

  private icmp6(p: Buffer, ingress: Port, att: Attachment, type: number, code: number): void {
    if (this.gateway6 === undefined || !this.takeIcmp(att)) return;
    const msg = icmp6Error(p, type, code, this.gateway6);
    if (msg) this.sendIcmp(msg, ingress);
    else this.giveIcmp(att);
  }

  private isGateway6(p: Buffer): boolean {
    return this.isGateway6At(p, 24);
  }

  private isGateway6At(p: Buffer, at: number): boolean {
    const g = this.gateway6;
    return g !== undefined && p.readUInt32BE(at) === g[0] && p.readUInt32BE(at + 4) === g[1] && p.readUInt32BE(at + 8) === g[2] && p.readUInt32BE(at + 12) === g[3];
  }

  /** What both families check of a found route: false when the packet is dropped (and
   * counted) by the segments' policy, as a hairpin or by split horizon. */
  private mayTake(route: { port: Port; segment: L3Segment }, ingress: Port, att: Attachment): boolean {
    if (route.segment !== this && !this.reach.has(route.segment.name)) {
      this.drop('policy_denied', ingress);
      return false;
    }
    if (route.port === ingress) {
      this.drop('hairpin', ingress);
      return false;
    }
    if (att.trunk && route.port.kind === 'trunk') {
      this.drop('split_horizon', ingress);
      return false;
    }
    return true;
  }

  /** An echo request to the gateway, its ICMP budget taken: `reply` goes back, or, for a
   * malformed request (no reply), the budget is given back and the request counted. */
  private answerEcho(reply: Buffer | undefined, ingress: Port, att: Attachment): void {
    if (reply) {
      this.sendEcho(reply, ingress);
      return;
    }
    this.giveIcmp(att);
    this.drop('bad_packet', ingress);
  }

  private sendEcho(reply: Buffer, ingress: Port): void {
    this.sendIcmp(reply, ingress);
    this.router.echoReplies++;
  }

  /** One ICMP message from the session's budget, then the node's; counted when refused. */
  private takeIcmp(att: Attachment): boolean {
    const r = this.router;
    if (att.icmp !== undefined && !att.icmp.take()) {
      r.icmpSessionLimited++;
      return false;
    }
    if (!r.icmp.take()) {
      att.icmp?.give();
      r.icmpLimited++;
      return false;
    }
    return true;
  }

  /** Returns a token taken for a message that could not be built (no ICMP about ICMP errors…). */
  private giveIcmp(att: Attachment): void {
    att.icmp?.give();
    this.router.icmp.give();
  }

  private sendIcmp(msg: Buffer, ingress: Port): void {
    this.router.icmpSent++;
    ingress.enqueue(msg);
  }
}
