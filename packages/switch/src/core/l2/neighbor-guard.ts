/**
 * ARP and neighbour discovery inspection for an L2 segment (segment.inspection): a client
 * session may only claim, in the frames that teach other hosts "address X is at MAC Y",
 * addresses that are its own. Without this, any member can answer ARP for another
 * member's address and receive its traffic.
 *
 * What a session may claim (its ClaimSet, built once at attach):
 *   - the IPv4 / IPv6 address its ticket leased to it;
 *   - link-local IPv6 addresses (fe80::/64) no other session of the segment holds: the
 *     first session to claim one holds it until it detaches (a ring of a few per session,
 *     the oldest given back when full), since link-locals are not leased;
 *   - a bridge (more than one source MAC): addresses in the ticket's `lan` ranges, else
 *     the segment's `bridgeRanges`, except the address leased to another session attached
 *     to the segment (ranges may overlap the pool: a LAN sharing the segment's subnet).
 * What is checked (VLAN-tagged frames by their inner header, up to two tags):
 *   ARP: IPv4 over Ethernet only; sender MAC = the frame's source MAC; sender IP 0.0.0.0
 *        (a probe) or claimable.                                  else `arp_spoof`
 *   ND (ICMPv6 133–137): router advertisements and redirects only from bridges (a LAN
 *        router behind them; from anyone else they would hijack the others' routes);
 *        source address :: (only RS, and NS for DAD) or claimable; NS
 *        from :: (DAD) and NA: the target claimable; source / target link-layer address
 *        options = the frame's source MAC; ND in a fragment or behind more than four
 *        extension headers.                                        else `nd_spoof`
 * Other frames pass after a two-byte compare (the EtherType), so the hot path stays O(1);
 * nothing here allocates except when a new link-local address is first claimed.
 */
import type { L2SegmentDef } from '@elink/protocol';
import { parsePrefix } from '../l3/ip.js';

/** The addresses a ticket gives a session (TicketClaims' fields). */
export interface GuardClaims {
  ipv4?: string;
  ipv6?: string;
  lan?: readonly string[];
}

const ETHERTYPE_ARP = 0x0806;
const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_VLAN = 0x8100;
const ETHERTYPE_QINQ = 0x88a8;
const ICMPV6 = 58;
const ND_RS = 133;
const ND_RA = 134;
const ND_NS = 135;
const ND_NA = 136;
const ND_REDIRECT = 137;
const LINK_LOCAL_HI = 0xfe800000;
const MAX_EXTENSION_HEADERS = 4;
/** Link-local addresses one single-MAC session may hold (a host has one, sometimes two). */
const LINK_LOCALS_PER_MAC = 4;
const MAX_LINK_LOCALS = 4096;
/** Shared by every session without ranges (most): no per-session arrays for nothing. */
const NO_RANGES = new Uint32Array(0);

/** What one session may claim. */
export class ClaimSet {
  readonly own4: number;
  readonly own6: Uint32Array | undefined;
  /** May source more than one MAC: a LAN (and maybe its router) behind it. */
  readonly bridge: boolean;
  /** Bridge ranges, IPv4: network and mask, pairwise. */
  readonly net4: Uint32Array;
  readonly mask4: Uint32Array;
  /** Bridge ranges, IPv6: four words of network, four of mask, per range. */
  readonly nets6: Uint32Array;
  /** Link-local interface identifiers held (two words each), a ring. */
  readonly llHi: number[] = [];
  readonly llLo: number[] = [];
  llNext = 0;
  readonly llLimit: number;

  constructor(claims: GuardClaims, macLimit: number, segmentRanges: readonly string[]) {
    const v4 = claims.ipv4 === undefined ? undefined : parsePrefix(claims.ipv4.split('/')[0]);
    this.own4 = v4?.family === 4 ? v4.words[0] : -1;
    const v6 = claims.ipv6 === undefined ? undefined : parsePrefix(claims.ipv6.split('/')[0]);
    this.own6 = v6?.family === 6 ? Uint32Array.from(v6.words) : undefined;
    const bridge = (this.bridge = macLimit > 1);
    const ranges = bridge ? (claims.lan ?? segmentRanges).map((r) => parsePrefix(r)).filter((p) => p !== undefined) : [];
    const r4 = ranges.filter((p) => p.family === 4);
    const r6 = ranges.filter((p) => p.family === 6);
    this.net4 = r4.length ? Uint32Array.from(r4.map((p) => p.words[0])) : NO_RANGES;
    this.mask4 = r4.length ? Uint32Array.from(r4.map((p) => maskOf(p.length))) : NO_RANGES;
    this.nets6 = r6.length ? new Uint32Array(r6.length * 8) : NO_RANGES;
    r6.forEach((p, i) => {
      for (let w = 0; w < 4; w++) {
        this.nets6[i * 8 + w] = p.words[w];
        this.nets6[i * 8 + 4 + w] = maskOf(Math.max(0, Math.min(32, p.length - 32 * w)));
      }
    });
    this.llLimit = Math.min(MAX_LINK_LOCALS, LINK_LOCALS_PER_MAC * (Number.isFinite(macLimit) ? macLimit : MAX_LINK_LOCALS));
  }

  inRanges4(a: number): boolean {
    for (let i = 0; i < this.net4.length; i++) if ((a & this.mask4[i]) >>> 0 === this.net4[i]) return true;
    return false;
  }
}

function maskOf(bits: number): number {
  return bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
}

export type GuardVerdict = 'arp_spoof' | 'nd_spoof' | undefined;

export class NeighborGuard {
  /** Inspect ARP (the segment leases IPv4 and inspection.arp). */
  readonly arp: boolean;
  /** Inspect ND (the segment leases IPv6 and inspection.nd). */
  readonly nd: boolean;
  /** Link-local interface identifier (high word → low word) → the session holding it. */
  private readonly linkLocals = new Map<number, Map<number, ClaimSet>>();
  /** Leased addresses of attached sessions, which no bridge range covers for another:
   * IPv4 by address, IPv6 by its last word (then compared whole). */
  private readonly leased4 = new Map<number, ClaimSet>();
  private readonly leased6 = new Map<number, ClaimSet[]>();
  private readonly ranges: readonly string[];

  constructor(def: L2SegmentDef) {
    this.arp = def.inspection.arp && def.ipv4 !== undefined;
    this.nd = def.inspection.nd && def.ipv6 !== undefined;
    this.ranges = def.bridgeRanges;
  }

  /** Link-local addresses held, over all sessions. */
  get linkLocalCount(): number {
    let n = 0;
    for (const m of this.linkLocals.values()) n += m.size;
    return n;
  }

  /** A session attaches: what it may claim; its leased addresses become off limits to bridges. */
  claimSet(claims: GuardClaims, macLimit: number): ClaimSet {
    const cs = new ClaimSet(claims, macLimit, this.ranges);
    if (cs.own4 !== -1) this.leased4.set(cs.own4, cs);
    if (cs.own6 !== undefined) {
      const list = this.leased6.get(cs.own6[3]);
      if (list) list.push(cs);
      else this.leased6.set(cs.own6[3], [cs]);
    }
    return cs;
  }

  /** Gives back the session's leased and link-local addresses (it detached). */
  release(cs: ClaimSet): void {
    if (this.leased4.get(cs.own4) === cs) this.leased4.delete(cs.own4);
    if (cs.own6 !== undefined) {
      const list = this.leased6.get(cs.own6[3]);
      const i = list ? list.indexOf(cs) : -1;
      if (i >= 0) list!.splice(i, 1);
      if (list?.length === 0) this.leased6.delete(cs.own6[3]);
    }
    for (let i = 0; i < cs.llHi.length; i++) this.unpinLinkLocal(cs.llHi[i], cs.llLo[i], cs);
    cs.llHi.length = 0;
    cs.llLo.length = 0;
  }

  /** Whether `frame` (its source MAC already checked for the port) may pass. */
  check(frame: Buffer, cs: ClaimSet): GuardVerdict {
    let off = 12;
    let type = (frame[12] << 8) | frame[13];
    for (let tags = 0; (type === ETHERTYPE_VLAN || type === ETHERTYPE_QINQ) && tags < 2; tags++) {
      off += 4;
      if (frame.length < off + 2) return undefined;
      type = (frame[off] << 8) | frame[off + 1];
    }
    if (type === ETHERTYPE_ARP) return this.arp ? this.checkArp(frame, off + 2, cs) : undefined;
    if (type === ETHERTYPE_IPV6) return this.nd ? this.checkNd(frame, off + 2, cs) : undefined;
    return undefined;
  }

  private checkArp(f: Buffer, p: number, cs: ClaimSet): GuardVerdict {
    if (f.length < p + 28) return 'arp_spoof';
    // Hardware Ethernet (1), protocol IPv4, address lengths 6 and 4.
    if (f[p] !== 0 || f[p + 1] !== 1 || f[p + 2] !== 0x08 || f[p + 3] !== 0 || f[p + 4] !== 6 || f[p + 5] !== 4) return 'arp_spoof';
    if (!sameMac(f, p + 8)) return 'arp_spoof';
    const spa = f.readUInt32BE(p + 14);
    if (spa === 0 || spa === cs.own4) return undefined;
    if (!cs.inRanges4(spa)) return 'arp_spoof';
    const holder = this.leased4.get(spa);
    return holder === undefined || holder === cs ? undefined : 'arp_spoof';
  }

  private checkNd(f: Buffer, ip: number, cs: ClaimSet): GuardVerdict {
    if (f.length < ip + 40 || f[ip] >> 4 !== 6) return undefined;
    const end = Math.min(f.length, ip + 40 + ((f[ip + 4] << 8) | f[ip + 5]));
    let nh = f[ip + 6];
    let pos = ip + 40;
    for (let i = 0; nh !== ICMPV6; i++) {
      if (nh === 0 || nh === 43 || nh === 60) {
        // Hop-by-hop, routing, destination options: skip to the next header.
        if (i === MAX_EXTENSION_HEADERS || pos + 2 > end) return 'nd_spoof';
        nh = f[pos];
        pos += (f[pos + 1] + 1) * 8;
      } else if (nh === 44) {
        // A fragment: only the first one shows the ICMPv6 type; ND must never be
        // fragmented (RFC 6980), so a fragmented ND message is dropped.
        if (pos + 8 > end) return 'nd_spoof';
        const offset = ((f[pos + 2] << 8) | f[pos + 3]) & 0xfff8;
        if (offset !== 0 || f[pos] !== ICMPV6 || pos + 8 >= end) return undefined;
        const t = f[pos + 8];
        return t >= ND_RS && t <= ND_REDIRECT ? 'nd_spoof' : undefined;
      } else {
        return undefined;
      }
    }
    if (pos >= end) return undefined;
    const type = f[pos];
    if (type < ND_RS || type > ND_REDIRECT) return undefined;
    if (pos + 8 > end) return 'nd_spoof';
    if ((type === ND_RA || type === ND_REDIRECT) && !cs.bridge) return 'nd_spoof';

    const unspecified = f.readUInt32BE(ip + 8) === 0 && f.readUInt32BE(ip + 12) === 0 && f.readUInt32BE(ip + 16) === 0 && f.readUInt32BE(ip + 20) === 0;
    if (unspecified) {
      if (type !== ND_RS && type !== ND_NS) return 'nd_spoof';
    } else if (!this.may6(f, ip + 8, cs)) {
      return 'nd_spoof';
    }
    let options = pos + 8;
    if (type === ND_NS || type === ND_NA) {
      if (pos + 24 > end) return 'nd_spoof';
      // The NA's target is a claim; so is the NS target of duplicate address detection.
      if ((type === ND_NA || unspecified) && !this.may6(f, pos + 8, cs)) return 'nd_spoof';
      options = pos + 24;
    } else if (type === ND_REDIRECT) {
      return undefined; // its target link-layer option names the target, not the sender
    } else if (type === ND_RA) {
      options = pos + 16;
    }
    while (options + 2 <= end) {
      const len = f[options + 1] * 8;
      if (len === 0 || options + len > end) return 'nd_spoof';
      const t = f[options];
      if ((t === 1 || t === 2) && (len < 8 || !sameMac(f, options + 2))) return 'nd_spoof';
      options += len;
    }
    return undefined;
  }

  private may6(f: Buffer, at: number, cs: ClaimSet): boolean {
    const w0 = f.readUInt32BE(at);
    const w1 = f.readUInt32BE(at + 4);
    const w2 = f.readUInt32BE(at + 8);
    const w3 = f.readUInt32BE(at + 12);
    const own = cs.own6;
    if (own !== undefined && w0 === own[0] && w1 === own[1] && w2 === own[2] && w3 === own[3]) return true;
    if (w0 === LINK_LOCAL_HI && w1 === 0) return this.claimLinkLocal(w2, w3, cs);
    const n = cs.nets6;
    let inRange = false;
    for (let i = 0; i < n.length && !inRange; i += 8) {
      inRange = (w0 & n[i + 4]) >>> 0 === n[i] && (w1 & n[i + 5]) >>> 0 === n[i + 1] && (w2 & n[i + 6]) >>> 0 === n[i + 2] && (w3 & n[i + 7]) >>> 0 === n[i + 3];
    }
    if (!inRange) return false;
    const leased = this.leased6.get(w3);
    if (leased !== undefined) {
      for (const other of leased) {
        const o = other.own6!;
        if (other !== cs && o[0] === w0 && o[1] === w1 && o[2] === w2) return false;
      }
    }
    return true;
  }

  /** True when the link-local address is (now) this session's. */
  private claimLinkLocal(hi: number, lo: number, cs: ClaimSet): boolean {
    let inner = this.linkLocals.get(hi);
    const holder = inner?.get(lo);
    if (holder !== undefined) return holder === cs;
    if (inner === undefined) this.linkLocals.set(hi, (inner = new Map()));
    inner.set(lo, cs);
    if (cs.llHi.length < cs.llLimit) {
      cs.llHi.push(hi);
      cs.llLo.push(lo);
    } else {
      // Full: the session's oldest link-local gives way (a bridge's hosts come and go).
      const i = cs.llNext;
      this.unpinLinkLocal(cs.llHi[i], cs.llLo[i], cs);
      cs.llHi[i] = hi;
      cs.llLo[i] = lo;
      cs.llNext = (i + 1) % cs.llLimit;
    }
    return true;
  }

  private unpinLinkLocal(hi: number, lo: number, cs: ClaimSet): void {
    const inner = this.linkLocals.get(hi);
    if (inner === undefined || inner.get(lo) !== cs) return;
    inner.delete(lo);
    if (inner.size === 0) this.linkLocals.delete(hi);
  }
}

/** The 6 bytes at `at` equal the frame's source MAC (bytes 6–11). */
function sameMac(f: Buffer, at: number): boolean {
  return f[at] === f[6] && f[at + 1] === f[7] && f[at + 2] === f[8] && f[at + 3] === f[9] && f[at + 4] === f[10] && f[at + 5] === f[11];
}
