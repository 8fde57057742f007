/**
 * The 6in4 data plane of DTCP tunnels (RFC 4213, IPv4 protocol 41), terminated by the
 * switch itself: one raw protocol-41 socket for the whole node, and one port per tunnel
 * in an L3 segment. The DTCP control plane (i15-dtcp) opens a tunnel once a `tunnel`
 * command is authenticated and closes it with the TCP connection.
 *
 *   raw socket (recvmmsg, one JS call per wake-up)
 *     → outer source → tunnel (a Map by client IPv4, bounded by maxTunnels; unknown: `unknown_tunnel`)
 *     → outer destination must be the tunnel's server IPv4 (`outer_destination`)
 *     → a link-local destination stays on the tunnel's link, whose far end the switch is: an
 *       echo request from a link-local source is answered here (rate-limited per tunnel),
 *       anything else dropped (`link_local`); a segment routes no link-local
 *     → inner packet copied into the flush scheduler's arena (as a session's frames are)
 *     → segment.forward(inner, tunnel port): source check, reach, hop limit, ICMPv6 errors
 *       exactly as for an EL client's session
 *     → flushNow() at the end of the batch
 *   segment → TunnelPort.enqueue(packet) → OutputQueue (bounded per tick) → flush
 *     → SixInFourWriter: one sendmmsg of the tick's packets, outer source = the tunnel's
 *       server IPv4, destination = its client IPv4 (the kernel builds the outer header)
 *
 * Why one socket and not a kernel `sit` device per tunnel: docs/dtcp.md ("Data plane").
 */
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { ElError, endpointOwner, HEADER_LENGTH, RecordType } from '@elink/protocol';
import { DEFAULT_MAX_FRAMES, OutputQueue, defaultFlushScheduler, type FlushScheduler, type Writer } from '@elink/transport';
import { ipv4Number, Proto41Socket, type Proto41Options, type Proto41Stats } from '@elink/tuntap';
import { allocatePortId, type Port } from '../core/port.js';
import type { Segment } from '../core/segment.js';
import { L3Segment } from '../core/l3/l3-segment.js';
import { formatPrefix, parsePrefix, type Prefix } from '../core/l3/ip.js';
import { icmp6EchoReply, ICMP6_ECHO_REQUEST, TokenBucket } from '../core/l3/icmp.js';

export interface SixInFourTunnelSpec {
  /** The L3 segment the tunnel's inner IPv6 packets enter. */
  segment: string;
  /** Outer destination: the DTCP client's public IPv4. */
  clientV4: string;
  /** Outer source: the local address of the DTCP TCP connection. */
  serverV4: string;
  user: string;
  device: string;
  /** CIDRs the tunnel may source (its /128 and/or delegated prefix); [] for tunnelonly. */
  sources: string[];
  /** CIDRs routed into the tunnel (its /128, its prefix). */
  routes: string[];
  /** Told once when the plane closes the tunnel itself (a newer tunnel to the same client
   * IPv4, the plane closing); not when close() was called. The DTCP connection should end. */
  onClosed?: (reason: string) => void;
}

export interface SixInFourTunnel {
  readonly id: string;
  close(reason: string): void;
}

export interface SixInFourPlane {
  open(spec: SixInFourTunnelSpec): SixInFourTunnel;
  readonly size: number;
  close(): Promise<void>;
}

/** Tunnels one node holds (one route or more, one port each); beyond it open() refuses with EL_ERR_UNAVAILABLE. */
export const DEFAULT_SIX_IN_FOUR_MAX_TUNNELS = 20_000;
/** Packets queued per tunnel per tick before `queue_full`. A tunnel's queue is small: a DTCP
 * client is one phone or router, and 19,000 tunnels' queues all live in one process. */
export const DEFAULT_SIX_IN_FOUR_QUEUE_FRAMES = 512;

/** Why the plane dropped an outer packet before it reached a segment (the `reason` label of
 * el_switch_6in4_dropped_total). Drops inside the segment (src_address, …) are the segment's. */
export const SIX_IN_FOUR_DROP_REASONS = [
  /** No tunnel has this outer source address (a stray sender, a tunnel closed a moment ago). */
  'unknown_tunnel',
  /** The outer destination is not the tunnel's server address (the DTCP reply named another). */
  'outer_destination',
  /** The inner packet is not IPv6 (6in4 carries IPv6 only). */
  'not_ipv6',
  /** A link-local destination that is not an echo request from a link-local source (the
   * switch, the tunnel's far end, answers pings only), or over the tunnel's echo budget. */
  'link_local',
  /** The inner packet is longer than the segment MTU (the client's tunnel MTU is set too high):
   * an ICMPv6 packet too big with the segment MTU goes back (rate-limited as other errors). */
  'too_big',
] as const;
// Also reported under el_switch_6in4_dropped_total: `bad_outer`, packets the socket read that
// were not a whole IPv4 protocol-41 packet with an IPv6 header inside (Proto41Stats.rxBad).
export type SixInFourDropReason = (typeof SIX_IN_FOUR_DROP_REASONS)[number];

export interface SixInFourOptions {
  /** A hosted segment by name (SwitchNode.segmentByName). */
  segment: (name: string) => Segment | undefined;
  logger: Logger;
  registry?: Registry;
  maxTunnels?: number;
  /** Per-tunnel output queue: packets per tick (bytes follow from the segment MTU). */
  queueFrames?: number;
  /** The raw socket: batch, slot, outer TTL, buffer sizes. */
  socket?: Omit<Proto41Options, 'local' | 'remote'>;
  scheduler?: FlushScheduler;
}

/** One tick's packets of one tunnel: one sendmmsg from its server IPv4 to its client IPv4
 * (`src`, `dst`: IPv4 as unsigned numbers). Packets the kernel refuses are returned (device_drop). */
export class SixInFourWriter implements Writer {
  readonly framesOnly = true;

  constructor(
    private readonly socket: Proto41Socket,
    private readonly dst: number,
    private readonly src: number,
  ) {}

  write(_types: readonly number[], payloads: readonly Buffer[], _bytes: number): number {
    return payloads.length - this.socket.sendMany(payloads, this.dst, this.src);
  }

  backlog(): number {
    return 0;
  }
}

/** A tunnel's port in its L3 segment. */
class TunnelPort implements Port {
  readonly id = allocatePortId();
  readonly kind = '6in4' as const;
  readonly name: string;
  readonly output: OutputQueue;
  framesIn = 0;
  bytesIn = 0;
  readonly openedAt = Date.now();
  closed = false;
  /** Echo replies on the tunnel's link (link-local), made on the first. */
  echo: TokenBucket | undefined;
  private ownerTag: string | undefined;

  constructor(
    readonly spec: SixInFourTunnelSpec,
    readonly segment: L3Segment,
    readonly client: number,
    readonly server: number,
    socket: Proto41Socket,
    queueFrames: number,
    scheduler: FlushScheduler,
    private readonly onMovedAway: (port: TunnelPort, node: string) => void,
  ) {
    this.name = `6in4:${spec.clientV4}`;
    // Packets are at most the segment MTU (longer ones are refused at the door: too_big).
    const maxBytes = queueFrames * (HEADER_LENGTH + segment.def.mtu);
    this.output = new OutputQueue(new SixInFourWriter(socket, client, server), { maxFrames: queueFrames, maxBytes, scheduler });
  }

  /** The tunnel's id (SixInFourTunnel.id, logs): its client address and port number. */
  get tunnelId(): string {
    return `${this.spec.clientV4}-${this.id}`;
  }

  enqueue(frame: Buffer): void {
    this.output.push(RecordType.FRAME, frame);
  }

  /** Port.owner: announced with the tunnel's routes, as a session's are, so that a node the
   * host moved to (a new tunnel of the same user and device there) ends this one here. */
  get owner(): string {
    return (this.ownerTag ??= endpointOwner(this.spec.user, this.spec.device));
  }

  get since(): number {
    return this.openedAt;
  }

  /** Port.movedAway: the same user and device opened a tunnel later at peer node `node`. */
  movedAway(node: string): void {
    this.onMovedAway(this, node);
  }
}

/** Traffic and queue drops of tunnels, summed. */
interface TunnelTotals {
  packetsIn: number;
  bytesIn: number;
  packetsOut: number;
  bytesOut: number;
  queue_full: number;
  device_drop: number;
}

function addTunnel(t: TunnelTotals, port: TunnelPort): void {
  t.packetsIn += port.framesIn;
  t.bytesIn += port.bytesIn;
  t.packetsOut += port.output.framesOut;
  t.bytesOut += port.output.bytesOut;
  t.queue_full += port.output.drops.queue_full;
  t.device_drop += port.output.drops.device_drop;
}

class Plane implements SixInFourPlane {
  private readonly byClient = new Map<number, TunnelPort>();
  private readonly socket: Proto41Socket;
  private readonly maxTunnels: number;
  private readonly queueFrames: number;
  private readonly scheduler: FlushScheduler;
  private readonly logger: Logger;
  readonly drops: Record<SixInFourDropReason, number> = { unknown_tunnel: 0, outer_destination: 0, not_ipv6: 0, link_local: 0, too_big: 0 };
  /** Echo replies to link-local echo requests (the tunnel's far end answering). */
  linkLocalEchoes = 0;
  /** Totals of closed tunnels (live ones are summed when read). */
  private readonly past: TunnelTotals = { packetsIn: 0, bytesIn: 0, packetsOut: 0, bytesOut: 0, queue_full: 0, device_drop: 0 };
  opened = 0;
  private closedAll = false;

  constructor(private readonly opts: SixInFourOptions) {
    this.maxTunnels = opts.maxTunnels ?? DEFAULT_SIX_IN_FOUR_MAX_TUNNELS;
    this.queueFrames = opts.queueFrames ?? DEFAULT_SIX_IN_FOUR_QUEUE_FRAMES;
    this.scheduler = opts.scheduler ?? defaultFlushScheduler;
    this.logger = opts.logger;
    this.socket = Proto41Socket.open(opts.socket ?? {}, this.onPackets, (err) => this.logger.error({ err: err.message }, '6in4 socket stopped reading'));
    if (opts.registry) this.registerMetrics(opts.registry);
  }

  get size(): number {
    return this.byClient.size;
  }

  get socketStats(): Proto41Stats {
    return this.socket.stats;
  }

  open(spec: SixInFourTunnelSpec): SixInFourTunnel {
    if (this.closedAll) throw new ElError('EL_ERR_UNAVAILABLE', 'the 6in4 plane of this node is closed (the node is stopping)');
    let client: number;
    let server: number;
    try {
      client = ipv4Number(spec.clientV4);
      server = ipv4Number(spec.serverV4);
    } catch (e) {
      throw new ElError('EL_ERR_INVALID', `6in4 tunnel: ${(e as Error).message} (clientV4 and serverV4 are IPv4 addresses)`);
    }
    if (client === 0 || server === 0) throw new ElError('EL_ERR_INVALID', '6in4 tunnel: clientV4 and serverV4 must both be given');
    const seg = this.opts.segment(spec.segment);
    if (seg === undefined) throw new ElError('EL_ERR_NO_SEGMENT', `this node does not host segment "${spec.segment}"`);
    if (!(seg instanceof L3Segment)) throw new ElError('EL_ERR_WRONG_SEGMENT', `segment "${spec.segment}" is not an L3 segment: 6in4 tunnels carry IPv6 packets into an L3 segment`);
    // The L3 source check is a route lookup of the source: what a tunnel may source is routed to it.
    const prefixes: Prefix[] = [];
    // As given (compressed), for the -ERR line a user reads.
    const given = new Map<Prefix, string>();
    const seen = new Set<string>();
    for (const text of [...spec.routes, ...spec.sources]) {
      const p = parsePrefix(text) ?? parsePrefix(`${text}/128`);
      if (!p || p.family !== 6) throw new ElError('EL_ERR_INVALID', `6in4 tunnel: ${JSON.stringify(text)} is not an IPv6 prefix`);
      const key = formatPrefix(p);
      if (seen.has(key)) continue;
      seen.add(key);
      prefixes.push(p);
      given.set(p, text);
    }
    // A newer tunnel to the same client address wins (a device behind NAT reconnected before its old TCP connection timed out).
    const prev = this.byClient.get(client);
    // Addresses held by another tunnel of the same user and device (it reconnected from a new address) are taken over.
    const holders = new Set<TunnelPort>();
    for (const p of prefixes) {
      const h = seg.ownerOf(p);
      if (h === undefined || h.kind === 'trunk' || h === prev) continue;
      if (h instanceof TunnelPort && h.spec.user === spec.user && h.spec.device === spec.device) holders.add(h);
      else throw new ElError('EL_ERR_ADDRESS_IN_USE', `${given.get(p)} is routed to another ${h instanceof TunnelPort ? 'tunnel' : 'session'} in segment "${seg.name}"`);
    }
    if (prev === undefined && this.byClient.size >= this.maxTunnels) throw new ElError('EL_ERR_UNAVAILABLE', `this node holds its limit of ${this.maxTunnels} 6in4 tunnels; try another node`);
    if (prev !== undefined) this.closeTunnel(prev, 'superseded', true);
    for (const h of holders) this.closeTunnel(h, 'superseded', true);
    const port = new TunnelPort(spec, seg, client, server, this.socket, this.queueFrames, this.scheduler, this.movedAway);
    const r = seg.attach(port, { prefixes });
    if (!r.ok) {
      port.output.close();
      if (r.full) throw new ElError('EL_ERR_UNAVAILABLE', `segment "${seg.name}" has reached its route limit (maxRoutes ${seg.def.maxRoutes}) on this node; try another node`);
      throw new ElError('EL_ERR_ADDRESS_IN_USE', `an address of this tunnel is routed to another port in segment "${seg.name}"`);
    }
    this.byClient.set(client, port);
    this.opened++;
    this.logger.info({ tunnel: port.tunnelId, segment: seg.name, user: spec.user, device: spec.device, client: spec.clientV4, server: spec.serverV4, routes: prefixes.map(formatPrefix) }, '6in4 tunnel opened');
    return { id: port.tunnelId, close: (reason: string) => this.closeTunnel(port, reason, false) };
  }

  /** A host reconnected at another node before its tunnel here timed out (its DTCP
   * connection not dead yet): this one is a leftover holding its routes; the DTCP
   * connection is told (onClosed) and ends. */
  private readonly movedAway = (port: TunnelPort, node: string): void => {
    if (port.closed) return;
    this.logger.info({ tunnel: port.tunnelId, segment: port.segment.name, user: port.spec.user, device: port.spec.device, node }, 'the host opened a tunnel again at another node: tunnel superseded');
    this.closeTunnel(port, 'superseded', true);
  };

  /** Detaches the port (its routes withdrawn, announced to trunks as gone) and forgets it. */
  closeTunnel(port: TunnelPort, reason: string, tell: boolean): void {
    if (port.closed) return;
    port.closed = true;
    port.segment.detach(port);
    if (this.byClient.get(port.client) === port) this.byClient.delete(port.client);
    // What is queued for this tick still leaves (a last packet before a clean close).
    port.output.flush();
    port.output.close();
    addTunnel(this.past, port);
    this.logger.info({ tunnel: port.tunnelId, segment: port.segment.name, user: port.spec.user, device: port.spec.device, reason, durationMs: Date.now() - port.openedAt, packetsIn: port.framesIn, packetsOut: port.output.framesOut }, '6in4 tunnel closed');
    if (tell) port.spec.onClosed?.(reason);
  }

  /** The hot path: one call per socket wake-up. */
  private readonly onPackets = (slab: Buffer, meta: Uint32Array, count: number): void => {
    const byClient = this.byClient;
    const arena = this.scheduler.arena;
    for (let i = 0, j = 0; i < count; i++, j += 4) {
      const port = byClient.get(meta[j + 2]);
      if (port === undefined) {
        this.drops.unknown_tunnel++;
        continue;
      }
      if (meta[j + 3] !== port.server) {
        this.drops.outer_destination++;
        continue;
      }
      const offset = meta[j];
      const length = meta[j + 1];
      if (slab[offset] >> 4 !== 6) {
        this.drops.not_ipv6++;
        continue;
      }
      if (slab[offset + 24] === 0xfe && (slab[offset + 25] & 0xc0) === 0x80) {
        this.linkLocal(slab.subarray(offset, offset + length), port);
        continue;
      }
      if (length > port.segment.def.mtu) {
        this.drops.too_big++;
        port.segment.packetTooBig(slab.subarray(offset, offset + length), port);
        continue;
      }
      // The slab is read into again after this call; a frame may wait for the tick's flush.
      const frame = arena.alloc(length);
      slab.copy(frame, 0, offset, offset + length);
      port.framesIn++;
      port.bytesIn += length;
      port.segment.forward(frame, port);
    }
    this.scheduler.flushNow();
  };

  /** `p` (still in the slab) has a link-local destination: the switch is the tunnel's other end.
   * A ping to it is answered (what `ping6 fe80::…%dtcp0` checks a tunnel with, and all a
   * `tunnelonly` tunnel may do), from the tunnel's own budget (the segment's icmpPerSession). */
  private linkLocal(p: Buffer, port: TunnelPort): void {
    const fromLinkLocal = p[8] === 0xfe && (p[9] & 0xc0) === 0x80;
    if (!fromLinkLocal || p.length <= 40 || p[6] !== 58 || p[40] !== ICMP6_ECHO_REQUEST) {
      this.drops.link_local++;
      return;
    }
    const budget = port.segment.def.icmpPerSession;
    port.echo ??= new TokenBucket(budget.rate, budget.burst);
    const reply = port.echo.take() ? icmp6EchoReply(p) : undefined;
    if (reply === undefined) {
      this.drops.link_local++;
      return;
    }
    this.linkLocalEchoes++;
    port.enqueue(reply);
  }

  /** Traffic and queue drops of every tunnel, closed ones included. */
  totals(): TunnelTotals & { tunnels: number; opened: number } {
    const t = { tunnels: this.byClient.size, opened: this.opened, ...this.past };
    for (const port of this.byClient.values()) addTunnel(t, port);
    return t;
  }

  async close(): Promise<void> {
    if (this.closedAll) return;
    this.closedAll = true;
    for (const port of [...this.byClient.values()]) this.closeTunnel(port, 'shutdown', true);
    this.socket.close();
  }

  private registerMetrics(registry: Registry): void {
    const plane = this;
    new Gauge({
      name: 'el_switch_6in4_tunnels',
      help: '6in4 (DTCP) tunnels open on this node',
      registers: [registry],
      collect() {
        this.set(plane.size);
      },
    });
    new Counter({
      name: 'el_switch_6in4_packets_total',
      help: 'Inner IPv6 packets through 6in4 tunnels, by direction (in: from the clients into segments)',
      labelNames: ['direction'],
      registers: [registry],
      collect() {
        const t = plane.totals();
        this.reset();
        this.inc({ direction: 'in' }, t.packetsIn);
        this.inc({ direction: 'out' }, t.packetsOut);
      },
    });
    new Counter({
      name: 'el_switch_6in4_dropped_total',
      help: 'Outer packets the 6in4 plane dropped before a segment, by reason (drops inside a segment are in el_switch_frames_dropped_total)',
      labelNames: ['reason'],
      registers: [registry],
      collect() {
        this.reset();
        for (const r of SIX_IN_FOUR_DROP_REASONS) this.inc({ reason: r }, plane.drops[r]);
        this.inc({ reason: 'bad_outer' }, plane.socket.stats.rxBad);
      },
    });
  }
}

export type SixInFourPlaneImpl = Plane;

/** Opens the node's raw protocol-41 socket (needs CAP_NET_RAW; throws ElError EL_ERR_TUNTAP). */
export function openSixInFourPlane(opts: SixInFourOptions): Plane {
  return new Plane(opts);
}

