/**
 * L2Segment: one virtual Ethernet. Knows only ports.
 *
 * One frame's path through forward():
 *   1. runt (< 14 bytes)                       → drop `runt`
 *   2. source MAC has the group bit            → drop `src_multicast`
 *   3. source check for the ingress port:
 *        own (pinned) MAC                      → ok
 *        macLimit 1 and another source         → drop `src_mismatch`
 *        else learn (limit, pins)              → drop `mac_limit` / `mac_conflict`
 *   4. a client session's ARP / ND claims an address
 *      that is not its own (neighbor-guard.ts)  → drop `arp_spoof` / `nd_spoof`
 *   5. destination group MAC or unknown        → flood to every OTHER port here,
 *      a client session over its floodLimit    → drop `flood_limit`
 *      known, on the ingress port              → drop `hairpin`
 *      known                                   → that port
 * A frame from a trunk port (another node of the segment) is not learned from: its source
 * must be a MAC that peer announced (else `trunk_source`, or `mac_frozen`); it goes to
 * the one local port of a known destination, or is flooded to the LOCAL ports only, and
 * never to another trunk (`split_horizon`). Remote MACs come from announcements
 * (learnRemote, endpoints.ts), local ones are announced through `listen`.
 * Drops are plain counters (the hot path does not allocate or throw); egress is
 * port.enqueue, which batches per tick. A FRAME_GSO record is switched by its frame
 * and leaves as it is or segmented, per egress port (gso-egress.ts).
 */
import type { Logger } from 'pino';
import { ElError, formatMac, gsoSegmentCount, isGroupMac, L2_OVERHEAD, macAt, parseMac, type Hello, type L2SegmentDef, type SegmentDef, type TicketClaims } from '@elink/protocol';
import type { Segment, SegmentStats, SessionPlan } from '../segment.js';
import { DevicePort, ipCommand } from '../../ports/device-port.js';
import { countDrop, newDropCounts, type DropCounts } from '../drops.js';
import { GsoEgress } from '../gso-egress.js';
import { MacTable } from './mac-table.js';
import { withLiveSettings } from '../segment-settings.js';
import { NeighborGuard, type ClaimSet, type GuardClaims } from './neighbor-guard.js';
import type { Port } from '../port.js';
import type { EndpointListener, MoveLimits, RemoteVerdict } from '../endpoints.js';
import { MacMoves } from './mac-moves.js';

const ETHERNET_HEADER = 14;
const NONE = -1;

/** The IPv6 next header of an untagged frame may lead to neighbour discovery: ICMPv6, or
 * an extension header (hop-by-hop, routing, fragment, destination options) before it. */
function mayCarryNd(nextHeader: number): boolean {
  return nextHeader === 58 || nextHeader === 0 || nextHeader === 43 || nextHeader === 44 || nextHeader === 60;
}

export interface AttachOptions {
  /** How many source MACs the port may use (segment.macsPerSession for client
   * sessions, its own pinned MAC included). Unlimited when absent (TAP, trunk). */
  macLimit?: number;
  /** The port's own MAC: pinned to it, always allowed as a source. */
  ownMac?: number;
  /** Without ownMac: pin the first source MAC the port sends as its own. */
  pinFirstSource?: boolean;
  /** A client session: the addresses its ticket gives it. Such a port's ARP / ND is
   * inspected and what it makes the switch flood is rate-limited; a port without claims
   * (the node's TAP to a LAN) is trusted. */
  claims?: GuardClaims;
}

interface Attachment {
  readonly port: Port;
  /** A trunk port: frames from it are checked against its announcements, not learned. */
  readonly trunk: boolean;
  readonly macLimit: number;
  ownMac: number;
  pinFirst: boolean;
  /** Client sessions only (see AttachOptions.claims). */
  readonly claimSet: ClaimSet | undefined;
  /** The flood token bucket (client sessions): tokens left, and when last refilled. */
  floodTokens: number;
  floodLast: number;
}

export interface L2SegmentOptions {
  now?: () => number;
}

export class L2Segment implements Segment {
  readonly mode = 'l2' as const;
  readonly name: string;
  readonly table: MacTable;
  readonly drops: DropCounts = newDropCounts();
  /** Frames sent to one known port. */
  unicast = 0;
  /** Frames flooded (broadcast, multicast, unknown unicast). */
  flooded = 0;
  private readonly attachments = new Map<Port, Attachment>();
  private readonly ports: Port[] = [];
  /** The ports that are not trunks: where a frame from a trunk may be flooded. */
  private readonly localPorts: Port[] = [];
  private listener: EndpointListener | undefined;
  private macMoves: MacMoves | undefined;
  /** Sequence numbers of local MACs while trunks listen (RFC 7432 §15 mobility). */
  private readonly localSeq = new Map<number, number>();
  readonly gsoEgress: GsoEgress;
  readonly guard: NeighborGuard;
  private floodRate: number;
  private floodBurst: number;
  private readonly maxFrame: number;
  #def: L2SegmentDef;

  constructor(def: L2SegmentDef, opts: L2SegmentOptions = {}) {
    this.#def = def;
    this.name = def.name;
    this.gsoEgress = new GsoEgress(true, def.mtu + L2_OVERHEAD);
    this.guard = new NeighborGuard(def);
    this.floodRate = def.floodLimit.rate / 1000; // tokens per millisecond
    this.floodBurst = def.floodLimit.burst;
    this.maxFrame = def.mtu + L2_OVERHEAD;
    this.table = new MacTable({ capacity: def.macTableSize, agingMs: def.macAgingSeconds * 1000, now: opts.now });
  }

  get def(): L2SegmentDef {
    return this.#def;
  }

  /** New values of LIVE_SEGMENT_SETTINGS (a config reload); the rest of `def` is ignored. */
  applySettings(next: SegmentDef): void {
    if (next.mode !== 'l2') return; // a mode change needs a restart (config-diff says so)
    this.#def = withLiveSettings(this.#def, next);
    this.floodRate = next.floodLimit.rate / 1000;
    this.floodBurst = next.floodLimit.burst;
    this.table.agingMs = next.macAgingSeconds * 1000;
  }

  get portCount(): number {
    return this.ports.length;
  }

  has(port: Port): boolean {
    return this.attachments.has(port);
  }

  /** The port whose own MAC is `mac`, if any. */
  ownerOf(mac: number): Port | undefined {
    return this.table.pinHolder(mac);
  }

  /** The port's own MAC, or undefined if not (yet) known. */
  ownMacOf(port: Port): number | undefined {
    const a = this.attachments.get(port);
    return a && a.ownMac !== NONE ? a.ownMac : undefined;
  }

  /**
   * Adds a port. Returns false (and attaches nothing) if `ownMac` is already
   * another port's own MAC: the caller decides whether to supersede that port.
   */
  attach(port: Port, opts: AttachOptions = {}): boolean {
    if (this.attachments.has(port)) return true;
    const ownMac = opts.ownMac ?? NONE;
    if (ownMac !== NONE && this.table.pin(ownMac, port) !== undefined) return false;
    const macLimit = opts.macLimit ?? Infinity;
    this.attachments.set(port, {
      port,
      trunk: false,
      macLimit,
      ownMac,
      pinFirst: ownMac === NONE && !!opts.pinFirstSource,
      claimSet: opts.claims && this.guard.claimSet(opts.claims, macLimit),
      floodTokens: this.floodBurst,
      floodLast: this.table.now(),
    });
    this.ports.push(port);
    this.localPorts.push(port);
    return true;
  }

  /** A trunk port to a peer node (endpoints.ts). */
  attachTrunk(port: Port): void {
    if (this.attachments.has(port)) return;
    this.attachments.set(port, { port, trunk: true, macLimit: 0, ownMac: NONE, pinFirst: false, claimSet: undefined, floodTokens: 0, floodLast: 0 });
    this.ports.push(port);
  }

  /** Removes a port and forgets every MAC it had. */
  detach(port: Port): void {
    const att = this.attachments.get(port);
    if (att === undefined) return;
    this.attachments.delete(port);
    if (att.claimSet !== undefined) this.guard.release(att.claimSet);
    swapRemove(this.ports, port);
    if (!att.trunk) swapRemove(this.localPorts, port);
    this.table.forgetPort(port);
  }

  // ---- trunks (endpoints.ts) ----

  listen(listener: EndpointListener, moves: MoveLimits): void {
    this.listener = listener;
    this.macMoves = new MacMoves({ ...moves, capacity: this.def.macTableSize, now: this.table.now });
    this.table.local = {
      added: (mac, _port, displaced) => {
        // Taken over from a peer: the MAC moved here, one sequence number on.
        const seq = displaced === undefined ? 0 : displaced.seq + 1;
        this.localSeq.set(mac, seq);
        if (displaced !== undefined) {
          if (this.noteMove(mac)) return;
          // The peer's announcement waits in its shadow: it is the peer's again when the local one goes.
          displaced.port.displaced?.(formatMac(mac), displaced.seq);
        }
        if (!this.macMoves!.isFrozen(mac)) listener.added(formatMac(mac), seq);
      },
      removed: (mac) => {
        if (this.localSeq.delete(mac) && !this.macMoves!.isFrozen(mac)) listener.removed(formatMac(mac));
      },
    };
  }

  localEndpoints(): [string, number][] {
    const out: [string, number][] = [];
    for (const mac of this.table.localMacs()) if (!this.macMoves?.isFrozen(mac)) out.push([formatMac(mac), this.localSeq.get(mac) ?? 0]);
    return out;
  }

  learnRemote(port: Port, key: string, seq: number, limit: number, winsTies = false): RemoteVerdict {
    const att = this.attachments.get(port);
    if (att === undefined || !att.trunk) return 'bad';
    let mac: number;
    try {
      mac = parseMac(key);
    } catch {
      return 'bad';
    }
    if (Math.floor(mac / 0x010000000000) % 2 === 1) return 'bad';
    const t = this.table;
    if (this.macMoves?.isFrozen(mac)) return 'frozen';
    if (t.pinHolder(mac) !== undefined) return 'local';
    const e = t.learned(mac);
    if (e !== undefined) {
      // Learned here too: the higher sequence wins (the MAC moved there); a tie goes to the lower node id.
      const mine = this.localSeq.get(mac) ?? 0;
      if (seq < mine || (seq === mine && !winsTies)) return 'local';
      t.remove(mac, e);
      if (this.noteMove(mac)) return 'frozen';
    }
    const r = t.remoteOf(mac);
    if (r !== undefined && r.port !== port && seq < r.seq) return 'stale';
    if ((r === undefined || r.port !== port) && (t.remoteCount(port) >= limit || t.remoteCount() >= t.capacity)) return 'full';
    // Another peer's, older (the MAC moved there): its announcement waits in its shadow.
    if (r !== undefined && r.port !== port) r.port.displaced?.(formatMac(mac), r.seq);
    t.setRemote(mac, port, seq);
    return 'ok';
  }

  forgetRemote(port: Port, key: string): string | undefined {
    let mac: number;
    try {
      mac = parseMac(key);
    } catch {
      return undefined; // not a MAC: nothing was installed for it
    }
    return this.table.removeRemote(mac, port) ? formatMac(mac) : undefined;
  }

  localHolder(key: string): Port | undefined {
    try {
      return this.table.pinHolder(parseMac(key));
    } catch {
      return undefined;
    }
  }

  holds(key: string, except?: Port): boolean {
    let mac: number;
    try {
      mac = parseMac(key);
    } catch {
      return false;
    }
    const t = this.table;
    if (t.pinHolder(mac) !== undefined || t.learned(mac) !== undefined) return true;
    const r = t.remoteOf(mac);
    return r !== undefined && r.port !== except;
  }

  remoteKeys(port: Port): string[] {
    return this.table.remoteMacs(port).map(formatMac);
  }

  remoteCount(port?: Port): number {
    return this.table.remoteCount(port);
  }

  frozenCount(): number {
    return this.macMoves?.frozen ?? 0;
  }

  freezeCount(): number {
    return this.macMoves?.freezes ?? 0;
  }

  /** Counts a move between nodes; true when it froze the MAC (then it is neither
   * announced nor taken from peers, and what peers announced of it is forgotten). */
  private noteMove(mac: number): boolean {
    const moves = this.macMoves!.note(mac);
    if (moves === undefined) return false;
    const key = formatMac(mac);
    this.table.removeRemote(mac);
    this.listener!.removed(key);
    this.listener!.frozen?.(key, moves);
    return true;
  }

  /** Forgets aged MAC entries; called periodically by the node. */
  sweep(): number {
    return this.table.sweep();
  }

  stats(): SegmentStats {
    const t = this.table;
    return { ports: this.ports.length, macEntries: t.size, evictions: t.evictions, moves: t.moves, routes: 0, remote: t.remoteCount(), frozen: this.frozenCount() };
  }

  /** An L2 segment routes nothing: an L3 client cannot reach into it. */
  reachableRoutes(): string[] {
    return [];
  }

  /**
   * A client session's MAC: the ticket's (assigned by the broker) or the one its hello
   * names, or none (its first source MAC is pinned). Either way unicast, and not another
   * session's own MAC unless that session is superseded.
   */
  planSession(claims: TicketClaims, hello: Hello): SessionPlan | ElError {
    let ticketMac: number | undefined;
    if (claims.mac !== undefined) {
      try {
        ticketMac = parseMac(claims.mac);
      } catch {
        return new ElError('EL_ERR_BAD_TICKET', `ticket MAC ${JSON.stringify(claims.mac)} is not a MAC address`);
      }
    }
    let helloMac: number | undefined;
    if (hello.mac !== undefined) {
      try {
        helloMac = parseMac(hello.mac);
      } catch {
        return new ElError('EL_ERR_PROTOCOL', `hello MAC ${JSON.stringify(hello.mac)} is not a MAC address`);
      }
    }
    if (ticketMac !== undefined && helloMac !== undefined && ticketMac !== helloMac) {
      return new ElError('EL_ERR_PROTOCOL', `hello MAC ${hello.mac} differs from the MAC ${claims.mac} assigned in the ticket`);
    }
    const own = ticketMac ?? helloMac;
    if (own !== undefined && Math.floor(own / 0x010000000000) % 2 === 1) {
      return new ElError('EL_ERR_PROTOCOL', 'the session MAC must be a unicast address');
    }
    const def = this.def;
    const inUse = () => new ElError('EL_ERR_MAC_IN_USE', `MAC ${hello.mac ?? claims.mac} is in use by another session in segment "${this.name}"`);
    const holder = own === undefined ? undefined : this.ownerOf(own);
    const macs = claims.macs ?? def.macsPerSession;
    const opts: AttachOptions = { macLimit: macs, ownMac: own, pinFirstSource: own === undefined, claims };
    // Otherwise its LAN hosts' ARP/ND is dropped (arp_spoof/nd_spoof) with only a counter to show why.
    const unclaimedLan = macs > 1 && (def.inspection.arp || def.inspection.nd) && !claims.lan?.length && def.bridgeRanges.length === 0;
    return {
      holders: holder === undefined ? [] : [holder],
      inUse,
      maxFrame: def.mtu + L2_OVERHEAD,
      welcome: {},
      ...(unclaimedLan
        ? {
            warning: `bridge session (up to ${macs} MACs) has no LAN ranges: its LAN hosts may claim no addresses, so their ARP/ND is dropped; set the user's lan or the segment's bridgeRanges (docs/lan.md)`,
          }
        : {}),
      attach: (port) => (this.attach(port, opts) ? undefined : inUse()),
    };
  }

  /** `bridge`: a TAP attached to an existing Linux bridge (a port without a MAC limit). */
  openLanPort(logger: Logger): DevicePort | undefined {
    const bridge = this.def.bridge;
    if (!bridge) return undefined;
    const port = DevicePort.open({ mode: 'tap', name: bridge.tap, mtu: this.def.mtu });
    try {
      ipCommand(['link', 'set', 'dev', port.name, 'master', bridge.attach, 'up']);
    } catch (e) {
      port.close();
      throw e;
    }
    this.attach(port);
    port.start(this, (err) => logger.error({ segment: this.name, device: port.name, err: err.message }, 'LAN port device error'));
    logger.info({ segment: this.name, tap: port.name, bridge: bridge.attach }, 'TAP bridge port up');
    return port;
  }

  /** `gso`: the whole FRAME_GSO payload when `frame` is the frame inside one (a view of it). */
  forward(frame: Buffer, ingress: Port, gso?: Buffer): void {
    if (frame.length < ETHERNET_HEADER) {
      this.drops.runt++;
      return;
    }
    if (isGroupMac(frame, 6)) {
      this.drops.src_multicast++;
      return;
    }
    const att = this.attachments.get(ingress);
    if (att === undefined) return; // raced with detach: the port is gone
    if (att.trunk) {
      this.fromTrunk(frame, ingress, gso);
      return;
    }
    const table = this.table;
    const now = table.now();
    const src = macAt(frame, 6);
    if (src !== att.ownMac) {
      if (att.pinFirst) {
        // The session named no MAC: its first source becomes its own.
        if (table.pin(src, ingress) !== undefined) {
          this.drops.mac_conflict++;
          return;
        }
        att.ownMac = src;
        att.pinFirst = false;
      } else if (att.macLimit <= 1 && att.ownMac !== NONE) {
        this.drops.src_mismatch++;
        return;
      } else {
        const limit = att.ownMac === NONE ? att.macLimit : att.macLimit - 1;
        const refused = table.learn(src, ingress, limit, now);
        if (refused !== undefined) {
          this.drops[refused]++;
          return;
        }
      }
    }

    const cs = att.claimSet;
    if (cs !== undefined) {
      // Only ARP, ICMPv6 (or IPv6 with extension headers) and VLAN-tagged frames can carry
      // a claim: a compare or two for the rest.
      const type = (frame[12] << 8) | frame[13];
      if (type === 0x0806 || type === 0x8100 || type === 0x88a8 || (type === 0x86dd && mayCarryNd(frame[20]))) {
        const verdict = this.guard.check(frame, cs);
        if (verdict !== undefined) {
          this.drops[verdict]++;
          return;
        }
      }
    }

    const egress = isGroupMac(frame, 0) ? undefined : table.lookup(macAt(frame, 0), now);
    if (egress === undefined) {
      if (cs !== undefined) {
        // The session's flood token bucket (segment.floodLimit); a FRAME_GSO record costs
        // the MTU-sized frames it holds, or the segments it stands for if more (a UDP
        // super-frame of 64 small datagrams costs 64 frames, not 1).
        if (now !== att.floodLast) {
          att.floodTokens = Math.min(this.floodBurst, att.floodTokens + (now - att.floodLast) * this.floodRate);
          att.floodLast = now;
        }
        const cost = gso === undefined ? 1 : Math.max(1 + ((gso.length / this.maxFrame) | 0), gsoSegmentCount(gso));
        if (att.floodTokens < cost) {
          this.drops.flood_limit++;
          return;
        }
        att.floodTokens -= cost;
      }
      this.flood(frame, ingress, gso);
    } else if (egress === ingress) {
      this.drops.hairpin++;
    } else {
      this.unicastTo(egress, frame, gso);
    }
  }

  /** A frame from a peer node: trusted for the sources it announced, one hop only. Drops are
   * counted for that peer too (countDrop). */
  private fromTrunk(frame: Buffer, ingress: Port, gso: Buffer | undefined): void {
    const table = this.table;
    const src = macAt(frame, 6);
    if (table.remoteOf(src)?.port !== ingress) {
      countDrop(this.drops, this.macMoves?.isFrozen(src) ? 'mac_frozen' : 'trunk_source', ingress);
      return;
    }
    const egress = isGroupMac(frame, 0) ? undefined : table.lookup(macAt(frame, 0));
    if (egress === undefined) this.flood(frame, ingress, gso, this.localPorts);
    else if (egress === ingress) countDrop(this.drops, 'hairpin', ingress);
    else if (egress.kind === 'trunk') countDrop(this.drops, 'split_horizon', ingress);
    else this.unicastTo(egress, frame, gso);
  }

  /** One known destination: the frame as it is, or the FRAME_GSO record as the egress takes it. */
  private unicastTo(egress: Port, frame: Buffer, gso: Buffer | undefined): void {
    this.unicast++;
    if (gso === undefined) egress.enqueue(frame);
    else {
      this.gsoEgress.begin(gso);
      if (!this.gsoEgress.send(egress)) this.drops.bad_gso++;
      this.gsoEgress.end();
    }
  }

  private flood(frame: Buffer, ingress: Port, gso: Buffer | undefined, ports = this.ports): void {
    this.flooded++;
    if (gso === undefined) {
      for (let i = 0; i < ports.length; i++) {
        const p = ports[i];
        if (p !== ingress) p.enqueue(frame);
      }
      return;
    }
    const out = this.gsoEgress;
    out.begin(gso);
    let refused = false;
    for (let i = 0; i < ports.length; i++) {
      const p = ports[i];
      if (p !== ingress && !out.send(p)) refused = true;
    }
    out.end();
    if (refused) this.drops.bad_gso++;
  }
}

/** O(1) removal from an unordered list (thousands of ports). Safe even mid-flood: enqueue
 * never detaches synchronously (closing is driven by timers and socket events). */
function swapRemove(list: Port[], port: Port): void {
  const i = list.indexOf(port);
  if (i < 0) return;
  const last = list.pop()!;
  if (last !== port) list[i] = last;
}
