/**
 * A trunk: one record connection to a peer switch node, and the ports it gives every
 * segment both nodes host (docs/protocol.md §9, docs/cluster.md "Trunks").
 *
 *   hello ──trunk_hello with a valid proof──▶ up ──close/error/keepalive──▶ closed
 *     (TRUNK_CONTROL only)                     (TRUNK_FRAME, TRUNK_CONTROL, and
 *                                               TRUNK_FRAME_GSO if both hellos named "gso";
 *                                               UDP super-frames in them if both also named "uso")
 *
 * Output: one OutputQueue over a RecordWriter, shared by the trunk's ports (one write per
 * tick for every segment). A TrunkPort queues a frame under trunkFrameType(segment id), and
 * a FRAME_GSO payload under trunkGsoType(segment id), so the writer puts the id in front
 * without a copy. The segments it carries are those both hellos name; either end that
 * comes to host more tells the other over the trunk (`segments`, to a peer naming the
 * capability; an older peer is closed and dialed again instead), and both open the ports
 * of what they share now and send its full table, as at up (share()).
 * Announcements (update messages) wait
 * in `pending`, coalesced per endpoint, and leave before the next frame of the trunk (so
 * a peer hears of a source before its first frame), or at the end of the tick, within a
 * token bucket (announceRate); what exceeds it leaves in later batches.
 * A segment's table sent again (`resync`, to a peer naming "resync" whose shadow here
 * dropped keys: trunk-shadow.ts) waits in `replays`, after the changes, in the same bucket,
 * and leaves as updates marked `replay`; each port asks and answers at most once per
 * resyncIntervalMs (Paced).
 */
import type { Logger } from 'pino';
import {
  CAP_GSO,
  CAP_TRUNK_MOBILITY,
  CAP_TRUNK_RESYNC,
  CAP_TRUNK_SEGMENTS,
  CAP_USO,
  ElError,
  encodeTrunkControl,
  L2_OVERHEAD,
  encodeTrunkControlPayload,
  MAX_CONTROL_PAYLOAD,
  MAX_RECORD_PAYLOAD,
  MAX_TRUNK_GSO_PAYLOAD,
  MAX_UPDATE_ENTRIES,
  parseTrunkControl,
  RecordType,
  TRUNK_PROTOCOL_VERSION,
  TRUNK_SEGMENT_ID_LENGTH,
  trunkFrameType,
  trunkGsoType,
  VNET_HDR_LENGTH,
  type TrunkControl,
  type TrunkControlInput,
  type TrunkHello,
  type TrunkSegment,
} from '@elink/protocol';
import { OutputQueue, RecordWriter, type QueueOptions, type RecordConn, type RecordHandlers } from '@elink/transport';
import { allocatePortId, type Port } from '../core/port.js';
import type { Segment } from '../core/segment.js';
import type { RemoteVerdict } from '../core/endpoints.js';
import { newDropCounts, type DropCounts } from '../core/drops.js';
import { gsoTypeAgreed } from '../core/gso-ingress.js';
import { trunkProof, verifyTrunkProof, type TrunkRole } from './trunk-auth.js';
import { keepShadowed } from './trunk-shadow.js';
import { movedAway, withOwner, type AddEntry } from './trunk-mobility.js';
import { Paced } from './paced.js';

/** What a trunk needs from its hub (trunk-hub.ts). */
export interface TrunkHost {
  readonly nodeId: string;
  readonly logger: Logger;
  /** The key of this node's hello proof (the secret, or a CA: trunk-credentials.ts), and the
   * keys a peer's proof may use: read at each hello, so a reload applies to the next one. */
  readonly proofKey: string;
  readonly proofKeys: readonly string[];
  /** Offer the "gso" and "uso" capabilities in trunk_hello (TRUNK_FRAME_GSO records, UDP
   * super-frames in them). */
  readonly gso: boolean;
  /** Offer the "segments" capability in trunk_hello (false: behave as a node older than it). */
  readonly liveSegments: boolean;
  /** Offer the "resync" capability in trunk_hello (false: behave as a node older than it). */
  readonly takesResync: boolean;
  /** Offer the "mobility" capability in trunk_hello (false: behave as a node older than it). */
  readonly takesMobility: boolean;
  /** The segments to offer, with their ids (trunk_hello, segments); it only grows. */
  offer(): TrunkSegment[];
  segmentById(id: number): Segment | undefined;
  readonly limits: TrunkLimits;
  /** With a cluster CA: true when the peer's verified certificate names `node`, else why not. */
  certifies(t: Trunk, node: string): true | string;
  /** The peer proved the secret: true to bring the trunk up, else a reason to refuse it. */
  authenticated(t: Trunk): true | string;
  /** The trunk failed before the peer's proof was verified (a wrong proof, a broken or late
   * hello): logged sampled and counted by the hub. */
  refused(t: Trunk, reason: string, err: ElError): void;
  closed(t: Trunk): void;
  announcementsIn(n: number): void;
  announcementsOut(n: number): void;
  /** An announcement not installed (the table full, a frozen MAC …): counted, logged sampled. */
  notInstalled(t: Trunk, segment: string, key: string, verdict: RemoteVerdict): void;
  /** `key` is free in segment `id`: the best announcement of it another trunk keeps shadowed
   * is installed (trunk-shadow.ts). */
  reinstate(id: number, key: string): void;
  /** Announcements kept or dropped by the shadows of the up trunks other than `t` (0: nothing
   * to reinstate nor ask for again when it goes). */
  shadowedElsewhere(t: Trunk): number;
  /** A segment's table asked of the peer, sent to it, or not asked (the peer lacks "resync";
   * once per port): counted and logged. */
  resynced(t: Trunk, port: TrunkPort, action: ResyncAction): void;
}

/** The `action` label of el_trunk_resyncs_total. */
export const RESYNC_ACTIONS = ['requested', 'answered', 'unsupported'] as const;
export type ResyncAction = (typeof RESYNC_ACTIONS)[number];

export interface TrunkLimits {
  /** Endpoints one peer may install per segment. */
  maxRemotePerSegment: number;
  /** Announcements (entries) sent per second per trunk, and the burst. */
  announceRate: number;
  announceBurst: number;
  helloTimeoutMs: number;
  /** Ping interval; the trunk is down after keepaliveMissed intervals without a record. */
  keepaliveMs: number;
  keepaliveMissed: number;
  /** A port asks its peer for a segment's table again, and answers the peer's asking, at
   * most once per this interval (trunk-defaults.ts DEFAULT_RESYNC_INTERVAL_MS). */
  resyncIntervalMs: number;
  queue: QueueOptions;
}

export type TrunkState = 'hello' | 'up' | 'closed';

/** Why an up trunk went down: the `reason` label of el_trunk_downs_total (a few words). Set
 * where the trunk closes (a typed value, not read back from a message). */
export const TRUNK_DOWN_REASONS = ['timeout', 'peer_closed', 'peer_ended', 'slow_peer', 'duplicate', 'segments_changed', 'shutdown', 'error'] as const;
export type TrunkDownReason = (typeof TRUNK_DOWN_REASONS)[number];

/** The reasons this node ends a trunk for on purpose (Trunk.close), with the words its
 * error record gives the peer. */
export const TRUNK_CLOSE_WORDS = { duplicate: 'duplicate trunk', segments_changed: 'segments changed', shutdown: 'shutdown' } as const satisfies Partial<Record<TrunkDownReason, string>>;
export type TrunkCloseReason = keyof typeof TRUNK_CLOSE_WORDS;

/** A trunk's port in one segment. */
export class TrunkPort implements Port {
  readonly id = allocatePortId();
  readonly kind = 'trunk' as const;
  readonly name: string;
  readonly output: OutputQueue;
  /** The peer's node id is lower than ours: its MACs win ties (endpoints.ts). */
  readonly winsTies: boolean;
  /** The segment's FRAME limit (MTU + 18 in L2, the MTU in L3). */
  readonly maxFrame: number;
  /** What the peer announced that a local endpoint or another peer's newer announcement
   * holds here, with its sequence: installed when that one goes (trunk-shadow.ts). At most
   * maxRemotePerSegment. */
  readonly shadowed = new Map<string, number>();
  /** Keys of the peer not kept since the last resync asked (the shadow was full): when a key
   * comes free and none is reinstated, the peer is asked for the table again (trunk-shadow.ts). */
  dropped = 0;
  /** The peer lacks "resync": the log said once that dropped keys wait for its next change. */
  waitTold = false;
  /** Asking the peer for the table, and answering its asking: each at most once per interval. */
  readonly asking: Paced;
  readonly answering: Paced;
  readonly link: Trunk;
  /** Both hellos named "gso": FRAME_GSO payloads cross as TRUNK_FRAME_GSO records. */
  readonly gso: boolean;
  /** Both hellos named "uso" too: UDP super-frames cross whole. */
  readonly uso: boolean;
  readonly maxGso = MAX_TRUNK_GSO_PAYLOAD;
  readonly inDrops: DropCounts;
  private readonly type: number;
  private readonly gsoType: number;

  constructor(
    readonly trunk: Trunk,
    readonly segment: Segment,
    readonly segmentId: number,
    nodeId: string,
  ) {
    this.name = `trunk:${trunk.peerNode}/${segment.name}`;
    this.winsTies = trunk.peerNode! < nodeId;
    this.link = trunk;
    this.inDrops = trunk.inDrops;
    this.maxFrame = segment.def.mtu + (segment.mode === 'l2' ? L2_OVERHEAD : 0);
    this.output = trunk.output;
    this.type = trunkFrameType(segmentId);
    this.gso = trunk.gso;
    this.uso = trunk.uso;
    this.gsoType = trunkGsoType(segmentId);
    this.asking = new Paced(trunk.resyncIntervalMs, () => trunk.sendResync(this));
    this.answering = new Paced(trunk.resyncIntervalMs, () => trunk.answerResync(this));
  }

  /** A local endpoint or another peer's announcement took over `key`, which the peer had
   * announced here with `seq`: kept (bounded) as if the announcement had come while the other
   * one held it, so it is installed again when that one goes (trunk-shadow.ts). */
  displaced(key: string, seq: number): void {
    keepShadowed(this, key, seq, this.trunk.shadowLimit);
  }

  enqueue(frame: Buffer): void {
    // What this trunk must announce leaves before the frame (a source is known before it is seen).
    if (this.trunk.pendingCount > 0) this.trunk.flushAnnouncements();
    this.output.push(this.type, frame);
  }

  /** Only called when `gso` and the payload is at most maxGso (gso-egress.ts). */
  enqueueGso(packet: Buffer): void {
    if (this.trunk.pendingCount > 0) this.trunk.flushAnnouncements();
    this.output.push(this.gsoType, packet);
  }
}

export class Trunk implements RecordHandlers {
  state: TrunkState = 'hello';
  peerNode: string | undefined;
  /** Both hellos named "gso" (set when the trunk comes up). */
  gso = false;
  /** Both hellos named "gso" and "uso": UDP super-frames cross whole, both ways. */
  uso = false;
  /** Both hellos named "segments": each end tells the other over the trunk when it hosts more. */
  peerTakesSegments = false;
  /** Both hellos named "resync": either end may ask the other for a segment's table again. */
  peerTakesResync = false;
  /** Both hellos named "mobility": adds carry a session's owner and age both ways. */
  peerTakesMobility = false;
  /** The segments the peer said it hosts (its hello, then its `segments` messages). */
  private peerOffer: TrunkSegment[] = [];
  /** The segments this node told the peer it hosts (the hello, then `segments`). */
  private sentOffer: TrunkSegment[];
  readonly output: OutputQueue;
  readonly openedAt = Date.now();
  /** The trunk's ports by segment id, once up. */
  readonly ports = new Map<number, TrunkPort>();
  framesIn = 0;
  bytesIn = 0;
  /** Frames from the peer refused here: a segment id this trunk does not carry
   * (unknown_segment), or longer than the segment's FRAME limit (too_long). */
  readonly refused = { unknown_segment: 0, too_long: 0 };
  /** Frames from the peer its segments dropped, by reason (shared by the trunk's ports). */
  readonly inDrops: DropCounts = newDropCounts();
  /** How it closed, for the log: an error code (ours, or the peer's in its error record), or
   * the words of TRUNK_CLOSE_WORDS. */
  closeReason: string | undefined;
  /** Why it closed (set with closeReason). */
  private down: TrunkDownReason | undefined;
  /** Announcements waiting: per segment id, endpoint key → sequence, or -1 to withdraw. */
  private readonly pending = new Map<number, Map<string, number>>();
  /** A table sent again (answering `resync`): per segment id, key → sequence; a key also in
   * `pending` leaves from there (a change is newer than a replay). */
  private readonly replays = new Map<number, Map<string, number>>();
  /** Entries of `pending` and `replays`. */
  pendingCount = 0;
  private tokens: number;
  private tokensAt = Date.now();
  private flushTimer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private helloTimer: NodeJS.Timeout | undefined;
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private lastRx = Date.now();
  private pingId = 0;

  constructor(
    readonly conn: RecordConn,
    private readonly host: TrunkHost,
    readonly role: TrunkRole,
    /** TLS keying material of this connection (trunk-auth.ts). */
    private readonly ekm: Buffer,
  ) {
    this.output = new OutputQueue(new RecordWriter(conn), host.limits.queue, () => this.fail(new ElError('EL_ERR_SLOW_PEER', 'the peer node read nothing while the trunk backlog stayed above the high-water mark'), 'slow_peer'));
    this.tokens = host.limits.announceBurst;
    conn.accept(RecordType.TRUNK_CONTROL, MAX_CONTROL_PAYLOAD);
    conn.start(this);
    this.helloTimer = setTimeout(() => this.fail(new ElError('EL_ERR_HELLO_TIMEOUT', `no trunk_hello within ${host.limits.helloTimeoutMs} ms`)), host.limits.helloTimeoutMs);
    this.helloTimer.unref();
    this.sentOffer = host.offer();
    const caps = [...(host.gso ? [CAP_GSO, CAP_USO] : []), ...(host.liveSegments ? [CAP_TRUNK_SEGMENTS] : []), ...(host.takesResync ? [CAP_TRUNK_RESYNC] : []), ...(host.takesMobility ? [CAP_TRUNK_MOBILITY] : [])];
    const hello: TrunkControlInput = {
      type: 'trunk_hello',
      version: TRUNK_PROTOCOL_VERSION,
      node: host.nodeId,
      role,
      proof: trunkProof(host.proofKey, role, host.nodeId, ekm).toString('base64'),
      segments: this.sentOffer,
      ...(caps.length > 0 ? { caps } : {}),
    };
    this.output.push(RecordType.TRUNK_CONTROL, encodeTrunkControlPayload(hello));
  }

  /** Why the trunk went down (once closed). */
  get downReason(): TrunkDownReason {
    return this.down ?? 'peer_closed';
  }

  /** Frames from the peer refused at the trunk (either reason). */
  get refusedFrames(): number {
    return this.refused.unknown_segment + this.refused.too_long;
  }

  /** Shadowed announcements kept per trunk port (TrunkPort.shadowed). */
  get shadowLimit(): number {
    return this.host.limits.maxRemotePerSegment;
  }

  get resyncIntervalMs(): number {
    return this.host.limits.resyncIntervalMs;
  }

  get peer(): string {
    return this.peerNode ?? this.conn.peer;
  }

  // ---- input ----

  onRecord(type: number, payload: Buffer): void {
    if ((type === RecordType.TRUNK_FRAME || type === RecordType.TRUNK_FRAME_GSO) && this.state === 'up') {
      this.framesIn++;
      this.bytesIn += payload.length;
      const port = payload.length < TRUNK_SEGMENT_ID_LENGTH ? undefined : this.ports.get(payload.readUInt32BE(0));
      if (port === undefined) {
        this.refused.unknown_segment++;
        return;
      }
      if (type === RecordType.TRUNK_FRAME) {
        if (payload.length - TRUNK_SEGMENT_ID_LENGTH > port.maxFrame) {
          this.refused.too_long++;
          return;
        }
        port.segment.forward(payload.subarray(TRUNK_SEGMENT_ID_LENGTH), port);
        return;
      }
      // TRUNK_FRAME_GSO: accepted by the reader only when both hellos named "gso". Checked as
      // a session's FRAME_GSO (ports/session.ts): a gso_type not agreed on is dropped here as
      // bad_gso (gso-ingress.ts), the egress segments the rest or drops it as bad_gso.
      if (payload.length < TRUNK_SEGMENT_ID_LENGTH + VNET_HDR_LENGTH || !gsoTypeAgreed(payload[TRUNK_SEGMENT_ID_LENGTH + 1], this.uso)) {
        port.segment.drops.bad_gso++;
        this.inDrops.bad_gso++;
        return;
      }
      const packet = payload.subarray(TRUNK_SEGMENT_ID_LENGTH);
      port.segment.forward(packet.subarray(VNET_HDR_LENGTH), port, packet);
      return;
    }
    if (this.state === 'closed') return;
    // What this throws reaches onError: the trunk fails with it.
    const msg = parseTrunkControl(payload);
    if (this.state === 'hello') this.onHello(msg);
    else this.onControl(msg);
  }

  onReadEnd(): void {
    this.lastRx = Date.now();
    this.output.scheduler.flushNow();
  }

  onError(err: ElError): void {
    this.fail(err);
  }

  onEnd(): void {
    this.closing('peer_closed', 'peer_closed');
  }

  onClose(cause?: Error): void {
    if (this.state === 'closed') return;
    if (cause) this.host.logger.debug({ peer: this.peer, err: cause.message }, 'trunk connection error');
    this.closing('peer_closed', 'peer_closed');
    this.teardown();
  }

  private onHello(msg: TrunkControl): void {
    if (msg.type === 'error') throw new ElError('EL_ERR_TRUNK_AUTH', `the peer node refused the trunk: ${msg.code}: ${msg.message}`);
    if (msg.type !== 'trunk_hello') throw new ElError('EL_ERR_PROTOCOL', `the first trunk message must be trunk_hello, got "${msg.type}"`);
    const peerRole: TrunkRole = this.role === 'dial' ? 'accept' : 'dial';
    if (msg.role !== peerRole || !verifyTrunkProof(this.host.proofKeys, peerRole, msg.node, this.ekm, msg.proof)) {
      this.fail(new ElError('EL_ERR_TRUNK_AUTH', `the peer (claiming node "${msg.node}") did not prove the trunk secret; check switch.trunk.secret on both nodes`));
      return;
    }
    const certified = this.host.certifies(this, msg.node);
    if (certified !== true) {
      this.fail(new ElError('EL_ERR_TRUNK_CERT', certified));
      return;
    }
    this.peerNode = msg.node;
    clearTimeout(this.helloTimer);
    this.helloTimer = undefined;
    const verdict = this.host.authenticated(this);
    if (verdict !== true) {
      this.closeWith('error', verdict, { type: 'error', code: 'EL_ERR_UNAVAILABLE', message: verdict });
      return;
    }
    this.up(msg);
  }

  /** Attaches a port to every shared segment and sends the full table of each. */
  private up(hello: TrunkHello): void {
    this.state = 'up';
    this.gso = this.host.gso && hello.caps?.includes(CAP_GSO) === true;
    this.uso = this.gso && hello.caps?.includes(CAP_USO) === true;
    this.peerTakesSegments = this.host.liveSegments && hello.caps?.includes(CAP_TRUNK_SEGMENTS) === true;
    this.peerTakesResync = this.host.takesResync && hello.caps?.includes(CAP_TRUNK_RESYNC) === true;
    this.peerTakesMobility = this.host.takesMobility && hello.caps?.includes(CAP_TRUNK_MOBILITY) === true;
    this.peerOffer = hello.segments;
    this.share();
    this.conn.accept(RecordType.TRUNK_FRAME, MAX_RECORD_PAYLOAD);
    if (this.gso) this.conn.accept(RecordType.TRUNK_FRAME_GSO, MAX_RECORD_PAYLOAD);
    this.startKeepalive();
    this.host.logger.info({ peer: this.peerNode, role: this.role, gso: this.gso, uso: this.uso, address: this.conn.peer, segments: [...this.ports.values()].map((p) => p.segment.name) }, 'trunk up');
    // Hosted more since the hello left (a broker's reply while it crossed): tell the peer now.
    this.offerGrew();
  }

  /**
   * Opens a port in every segment both ends have named (same name, id and mode) that has
   * none yet, and queues its full table (its local endpoints) for the peer: at up, and
   * whenever either end's set grows. Returns the names of the segments opened.
   */
  private share(): string[] {
    const mine = new Map(this.sentOffer.map((s) => [s.name, s]));
    const opened: string[] = [];
    for (const s of this.peerOffer) {
      const m = mine.get(s.name);
      if (m === undefined || m.id !== s.id || m.mode !== s.mode) continue;
      const seg = this.host.segmentById(s.id);
      if (seg === undefined || this.ports.has(s.id)) continue;
      const port = new TrunkPort(this, seg, s.id, this.host.nodeId);
      seg.attachTrunk(port);
      this.ports.set(s.id, port);
      opened.push(seg.name);
      for (const [key, seq] of seg.localEndpoints()) this.queueAnnouncement(s.id, key, seq);
    }
    return opened;
  }

  /**
   * This node hosts more segments than it told the peer (the hub calls it on every up
   * trunk when its set grows): a peer that names "segments" hears the whole set in a
   * `segments` message, before anything of the new segments, and what the two share now
   * opens; an older peer only learns a set from a hello, so the trunk is closed
   * (`segments_changed`) and dialed again.
   */
  offerGrew(): void {
    if (this.state !== 'up') return;
    const now = this.host.offer();
    // The offer only grows (segments are never removed from a live node).
    if (now.length <= this.sentOffer.length) return;
    const payload = this.peerTakesSegments ? segmentsPayload(now) : undefined;
    if (payload === undefined) {
      this.close('segments_changed');
      return;
    }
    this.output.push(RecordType.TRUNK_CONTROL, payload);
    this.sentOffer = now;
    this.segmentsAdded(this.share(), 'sent');
  }

  /** The peer hosts more: its whole set, which must keep every segment it named before and add one. */
  private onSegments(segments: TrunkSegment[]): void {
    if (!this.peerTakesSegments) throw new ElError('EL_ERR_BAD_CONTROL', 'a segments message, but the two hellos did not both name the "segments" capability');
    const named = new Set(segments.map(segmentKey));
    const before = new Set(this.peerOffer.map(segmentKey));
    if (named.size <= before.size || [...before].some((k) => !named.has(k))) {
      throw new ElError('EL_ERR_BAD_CONTROL', `a segments message must name every segment named before (${this.peerOffer.length}) and at least one more; segments are never removed from a live node`);
    }
    this.peerOffer = segments;
    this.segmentsAdded(this.share(), 'received');
  }

  private segmentsAdded(names: string[], via: 'sent' | 'received'): void {
    if (names.length === 0) return;
    this.host.logger.info({ peer: this.peerNode, segments: names, via, carried: [...this.ports.values()].map((p) => p.segment.name) }, 'trunk segments added');
  }

  private onControl(msg: TrunkControl): void {
    switch (msg.type) {
      case 'update': {
        const port = this.ports.get(msg.segment);
        if (port === undefined) return; // a segment not shared: nothing to learn
        const seg = port.segment;
        for (const key of msg.del) {
          port.shadowed.delete(key);
          // It was installed: what another peer announced of it and keeps shadowed takes its place.
          const freed = seg.forgetRemote(port, key);
          if (freed !== undefined) this.host.reinstate(msg.segment, freed);
        }
        const limit = this.host.limits.maxRemotePerSegment;
        let moved: Port[] | undefined;
        for (const [key, seq, owner, age] of msg.add) {
          // A replay (the table again, answering our resync) is no change: it takes only a free
          // key, never one a local endpoint or another peer holds now, which a change of the same
          // sequence would (the later wins); there it waits in the shadow like a stale one.
          const v: RemoteVerdict = msg.replay === true && seg.holds(key, port) ? 'stale' : seg.learnRemote(port, key, seq, limit, port.winsTies);
          if (v === 'ok') port.shadowed.delete(key);
          // Kept (bounded) while a local endpoint or a newer announcement holds it: it takes over when that one goes.
          else if (v === 'local' || v === 'stale') keepShadowed(port, key, seq, limit);
          else this.host.notInstalled(this, seg.name, key, v);
          if (v === 'local' && owner !== undefined && age !== undefined && this.peerTakesMobility) {
            const holder = movedAway(seg, key, owner, Date.now() - age);
            if (holder !== undefined) (moved ??= []).push(holder);
          }
        }
        this.host.announcementsIn(msg.add.length + msg.del.length);
        // After the message: each ends (detached, its keys withdrawn), and what this peer
        // announced of them, kept in its shadow above, is installed in their place.
        if (moved !== undefined) for (const p of new Set(moved)) p.movedAway!(this.peerNode!);
        return;
      }
      case 'segments':
        this.onSegments(msg.segments);
        return;
      case 'resync': {
        if (!this.peerTakesResync) throw new ElError('EL_ERR_BAD_CONTROL', 'a resync message, but the two hellos did not both name the "resync" capability');
        // A segment not shared (any more): nothing to send. Else once per interval, however often asked.
        this.ports.get(msg.segment)?.answering.run();
        return;
      }
      case 'ping':
        this.output.push(RecordType.TRUNK_CONTROL, encodeTrunkControlPayload({ type: 'pong', id: msg.id }));
        return;
      case 'pong':
        return;
      case 'error':
        this.closeReason = msg.code;
        this.down = 'peer_ended';
        this.host.logger.warn({ peer: this.peer, code: msg.code }, `peer node ended the trunk: ${msg.message}`);
        this.conn.end();
        return;
      case 'trunk_hello':
        throw new ElError('EL_ERR_PROTOCOL', 'a second trunk_hello');
    }
  }

  // ---- resync ----

  /** A key came free that `port`'s full shadow may have dropped (trunk-shadow.ts): the peer is
   * asked for the segment's table again, at most once per interval; a peer without "resync"
   * is not (the log says so once per port: the key waits for the peer's next change). */
  requestResync(port: TrunkPort): void {
    if (this.state !== 'up') return;
    if (this.peerTakesResync) port.asking.run();
    else if (!port.waitTold) {
      port.waitTold = true;
      this.host.resynced(this, port, 'unsupported');
    }
  }

  /** Paced by TrunkPort.asking. What the shadow drops from here on counts again (the answer too). */
  sendResync(port: TrunkPort): void {
    if (this.state !== 'up') return;
    this.output.push(RecordType.TRUNK_CONTROL, encodeTrunkControlPayload({ type: 'resync', segment: port.segmentId }));
    this.host.resynced(this, port, 'requested');
    port.dropped = 0;
  }

  /** Paced by TrunkPort.answering: the segment's local endpoints again, as at up, marked replay. */
  answerResync(port: TrunkPort): void {
    if (this.state !== 'up') return;
    const id = port.segmentId;
    let m = this.replays.get(id);
    if (m === undefined) this.replays.set(id, (m = new Map()));
    const changes = this.pending.get(id);
    for (const [key, seq] of port.segment.localEndpoints()) {
      if (changes?.has(key)) continue;
      if (!m.has(key)) this.pendingCount++;
      m.set(key, seq);
    }
    if (m.size === 0) this.replays.delete(id);
    else this.flushSoon();
    this.host.resynced(this, port, 'answered');
  }

  // ---- announcements ----

  /** Queues an announcement (`seq` ≥ 0) or a withdrawal (-1) of `key` in segment `id`. */
  queueAnnouncement(id: number, key: string, seq: number): void {
    if (this.state !== 'up' || !this.ports.has(id)) return;
    let m = this.pending.get(id);
    if (m === undefined) this.pending.set(id, (m = new Map()));
    if (!m.has(key)) this.pendingCount++;
    m.set(key, seq);
    // A change supersedes a replay of the key not sent yet.
    if (this.replays.get(id)?.delete(key)) this.pendingCount--;
    this.flushSoon();
  }

  /** Out at the end of this turn if no frame takes them first. */
  private flushSoon(): void {
    this.immediate ??= setImmediate(() => {
      this.immediate = undefined;
      this.flushAnnouncements();
      this.output.scheduler.flushNow();
    });
  }

  /** Queues update messages for what the token bucket allows; the rest waits for a timer. */
  flushAnnouncements(): void {
    if (this.state !== 'up') return;
    const lim = this.host.limits;
    const now = Date.now();
    this.tokens = Math.min(lim.announceBurst, this.tokens + ((now - this.tokensAt) * lim.announceRate) / 1000);
    this.tokensAt = now;
    // Changes first, then replays, in one budget.
    let sent = this.drain(this.pending, false, Math.floor(this.tokens));
    sent += this.drain(this.replays, true, Math.floor(this.tokens) - sent);
    this.tokens -= sent;
    this.pendingCount -= sent;
    if (sent > 0) this.host.announcementsOut(sent);
    if (this.pendingCount > 0 && this.flushTimer === undefined) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = undefined;
        this.flushAnnouncements();
        this.output.scheduler.flushNow();
      }, Math.max(10, Math.ceil(1000 / lim.announceRate) * Math.min(this.pendingCount, lim.announceBurst)));
      this.flushTimer.unref();
    }
  }

  /** Queues update messages of up to `budget` entries of `waiting`; returns how many. */
  private drain(waiting: Map<number, Map<string, number>>, replay: boolean, budget: number): number {
    let sent = 0;
    for (const [id, m] of waiting) {
      while (m.size > 0 && sent < budget) {
        const add: AddEntry[] = [];
        const del: string[] = [];
        const seg = this.peerTakesMobility ? this.ports.get(id)?.segment : undefined;
        for (const [key, seq] of m) {
          if (add.length + del.length >= MAX_UPDATE_ENTRIES || sent === budget) break;
          if (seq < 0) del.push(key);
          else add.push(seg === undefined ? [key, seq] : withOwner(seg, key, seq));
          m.delete(key);
          sent++;
        }
        this.output.push(RecordType.TRUNK_CONTROL, encodeTrunkControlPayload({ type: 'update', segment: id, add, del, ...(replay ? { replay } : {}) }));
      }
      if (m.size === 0) waiting.delete(id);
    }
    return sent;
  }

  // ---- keepalive ----

  /** A ping every keepaliveMs; the trunk is down once nothing at all came from the peer for
   * keepaliveMissed intervals. One timer, armed for whichever comes first, so a vanished
   * peer (frozen, its network gone: no FIN) is declared down at that deadline, not up to
   * an interval later. */
  private startKeepalive(): void {
    this.lastRx = Date.now();
    this.armKeepalive(this.lastRx + this.host.limits.keepaliveMs);
  }

  private armKeepalive(nextPing: number): void {
    const { keepaliveMs, keepaliveMissed } = this.host.limits;
    const at = Math.min(nextPing, this.lastRx + keepaliveMs * keepaliveMissed);
    this.keepaliveTimer = setTimeout(() => this.onKeepalive(nextPing), Math.max(1, at - Date.now()));
    this.keepaliveTimer.unref();
  }

  private onKeepalive(nextPing: number): void {
    if (this.state !== 'up') return;
    const { keepaliveMs, keepaliveMissed } = this.host.limits;
    const now = Date.now();
    const silent = now - this.lastRx;
    if (silent >= keepaliveMs * keepaliveMissed) {
      this.fail(new ElError('EL_ERR_KEEPALIVE_TIMEOUT', `nothing from the peer node for ${silent} ms (${keepaliveMissed} keepalives of ${keepaliveMs} ms missed)`), 'timeout');
      return;
    }
    if (now >= nextPing) {
      this.output.push(RecordType.TRUNK_CONTROL, encodeTrunkControlPayload({ type: 'ping', id: ++this.pingId }));
      nextPing = now + keepaliveMs;
    }
    this.armKeepalive(nextPing);
  }

  // ---- closing ----

  /** Ends the trunk with an error message naming `err`; `reason`: the down reason it counts as. */
  fail(err: ElError, reason: TrunkDownReason = 'error'): void {
    if (this.state === 'closed') return;
    // Before the proof anyone may be talking: sampled and counted by the hub, not one line each.
    if (this.state === 'hello') this.host.refused(this, err.code === 'EL_ERR_TRUNK_AUTH' ? 'auth_failed' : err.code === 'EL_ERR_TRUNK_CERT' ? 'cert_mismatch' : 'error', err);
    else if (this.closeReason === undefined) this.host.logger.warn({ peer: this.peer, address: this.conn.peer, code: err.code }, err.message);
    this.closeWith(reason, err.code, { type: 'error', code: err.code, message: err.message });
  }

  /** Ends the trunk from this side (stop, a duplicate, segments changed). */
  close(reason: TrunkCloseReason): void {
    if (this.state === 'closed') return;
    const words = TRUNK_CLOSE_WORDS[reason];
    this.closeWith(reason, words, { type: 'error', code: 'EL_ERR_UNAVAILABLE', message: words });
  }

  /** The first reason set is the one that counts. */
  private closing(reason: TrunkDownReason, code: string): void {
    this.down ??= reason;
    this.closeReason ??= code;
  }

  private closeWith(reason: TrunkDownReason, code: string, last: TrunkControlInput): void {
    this.closing(reason, code);
    try {
      this.output.flush();
      this.conn.end(encodeTrunkControl(last));
    } catch {
      this.conn.destroy();
    }
    this.teardown();
    setTimeout(() => this.conn.destroy(), 1000).unref();
  }

  /** Everything learned over the trunk is withdrawn at once (the ports detach). */
  private teardown(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearTimeout(this.helloTimer);
    clearTimeout(this.keepaliveTimer);
    clearTimeout(this.flushTimer);
    if (this.immediate) clearImmediate(this.immediate);
    // What another trunk keeps shadowed of what this one had installed takes its place, or is
    // asked for again if its full shadow dropped some (trunk-shadow.ts); the keys are listed
    // only when some other trunk keeps or dropped anything.
    const others = this.host.shadowedElsewhere(this) > 0;
    for (const port of this.ports.values()) {
      port.asking.stop();
      port.answering.stop();
      const freed = others ? port.segment.remoteKeys(port) : undefined;
      port.segment.detach(port);
      if (freed !== undefined) for (const key of freed) this.host.reinstate(port.segmentId, key);
    }
    this.pending.clear();
    this.replays.clear();
    this.pendingCount = 0;
    this.output.close();
    this.host.closed(this);
  }
}

/** A hosted segment as both ends compare it: shared when name, id and mode are the same. */
function segmentKey(s: TrunkSegment): string {
  return `${s.id}/${s.mode}/${s.name}`;
}

/** The `segments` message naming `segments`, or undefined when it does not fit one control
 * record (the peer then learns the list from a new hello). */
function segmentsPayload(segments: TrunkSegment[]): Buffer | undefined {
  try {
    return encodeTrunkControlPayload({ type: 'segments', segments });
  } catch {
    return undefined;
  }
}
