/**
 * A client session: the EL state machine on one TLS socket, and the port its
 * frames leave by.
 *
 *   awaiting_hello ──hello ok──▶ established ──bye/error/timeout──▶ closing ──▶ closed
 *        │ (reader: CONTROL only)     (reader: FRAME ≤ mtu+18, CONTROL)
 *        └──bad/late hello──▶ closing
 *
 * Writes: everything (welcome, pong, ping, frames) goes through the port's queue
 * and per-tick flush; only the final `error`/`bye` is written directly, after a
 * last flush, together with end(). Nothing thrown by a record handler escapes:
 * it fails the session with a coded error instead.
 */
import { randomBytes } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { KeyObject } from 'node:crypto';
import type { Logger } from 'pino';
import {
  CAP_GSO,
  ElError,
  encodeControl,
  L2_OVERHEAD,
  MAX_CONTROL_PAYLOAD,
  MAX_RECORD_PAYLOAD,
  parseControl,
  parseMac,
  PROTOCOL_VERSION,
  readIntoSharedBuffer,
  RecordReader,
  RecordType,
  VNET_HDR_LENGTH,
  verifyTicket,
  writesThrough,
  type ControlMessage,
  type ErrorCode,
  type Hello,
  type TicketClaims,
  type Welcome,
} from '@elink/protocol';
import { QueuedPort, type QueueOptions } from './port.js';
import type { ReplayCache } from './replay-cache.js';
import type { L2Segment } from './segment.js';
import { L3Segment } from './l3/l3-segment.js';
import { formatPrefix, hostOf, parsePrefix, type Prefix } from './l3/ip.js';

/** A hosted segment of either mode. */
export type AnySegment = L2Segment | L3Segment;

/** What a session needs from its node (switch-node.ts implements it). */
export interface SessionHost {
  readonly nodeId: string;
  /** Sent in welcome as `software` when set (e.g. "elink/0.1.0"). */
  readonly software?: string;
  readonly logger: Logger;
  readonly helloTimeoutMs: number;
  /** How long after end() a closing socket may linger before destroy(). */
  readonly closeGraceMs: number;
  /** Whether this node accepts the "gso" capability. */
  readonly gso: boolean;
  readonly replay: ReplayCache;
  ticketKeys(): KeyObject[];
  /** A hosted segment by name, or why not. */
  segment(name: string): AnySegment | string;
  /** L3: the routes pushed to a client of `seg` in welcome (reachable pools, delegation pools, uplink routes). */
  routesFor?(seg: L3Segment): { to: string }[];
  sessionOf(port: unknown): Session | undefined;
  established(s: Session): void;
  closed(s: Session): void;
  sessionError(code: ErrorCode): void;
  /** A session failed before its welcome (logged sampled, not one line each). */
  preAuthFailed?(s: Session, err: ElError): void;
}

export type SessionState = 'awaiting_hello' | 'established' | 'closing' | 'closed';

export class Session extends QueuedPort {
  readonly kind = 'session' as const;
  readonly peer: string;
  readonly openedAt = Date.now();
  state: SessionState = 'awaiting_hello';
  claims: TicketClaims | undefined;
  segment: AnySegment | undefined;
  /** Why it closed: client_bye, peer_closed, superseded, the stop reason, or an error code. */
  closeReason: string | undefined;
  framesIn = 0;
  bytesIn = 0;
  /** The client offered "gso" in hello: it sends and takes FRAME_GSO records. */
  gso = false;
  private lastRx = Date.now();
  private lastPing = Date.now();
  private pingId = 0;
  private helloTimer: NodeJS.Timeout | undefined;
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private graceTimer: NodeJS.Timeout | undefined;
  private readonly reader: RecordReader;

  constructor(
    readonly socket: TLSSocket,
    private readonly host: SessionHost,
    queue: QueueOptions = {},
  ) {
    super(`s-${randomBytes(9).toString('base64url')}`, queue);
    this.peer = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`;
    // The socket reads into one shared buffer, not a new Buffer per read (see
    // shared-read-buffer.ts), so every record is copied out (transientChunks): frames into
    // the scheduler's arena (no ArrayBuffer each), control records into memory of their
    // own, as they may outlive the tick.
    this.reader = new RecordReader(
      (type, payload) => this.onRecord(type, payload),
      (type, size) => (type === RecordType.CONTROL ? Buffer.allocUnsafe(size) : this.frameArena.alloc(size)),
      { transientChunks: true },
    ).accept(RecordType.CONTROL, MAX_CONTROL_PAYLOAD);
    const onData = (chunk: Buffer): void => this.onData(chunk);
    if (!readIntoSharedBuffer(socket, onData)) socket.on('data', onData);
    socket.on('error', (err) => host.logger.debug({ peer: this.peer, session: this.name, err: err.message }, 'session socket error'));
    socket.on('end', () => {
      this.closeReason ??= 'peer_closed';
    });
    socket.on('close', () => this.onClose());
    this.helloTimer = setTimeout(() => this.guarded(() => this.fail(new ElError('EL_ERR_HELLO_TIMEOUT', `no hello within ${host.helloTimeoutMs} ms`))), host.helloTimeoutMs);
  }

  get user(): string | undefined {
    return this.claims?.sub;
  }

  // ---- input ----

  private onData(chunk: Buffer): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    this.lastRx = Date.now();
    try {
      const err = this.reader.push(chunk);
      if (err) this.fail(err);
      else this.flushScheduled();
    } catch (e) {
      this.fail(new ElError('EL_ERR_INTERNAL', `session ${this.name}: ${(e as Error)?.message ?? String(e)}`));
    }
  }

  private onRecord(type: number, payload: Buffer): void {
    if (this.state === 'established' && type === RecordType.FRAME) {
      this.framesIn++;
      this.bytesIn += payload.length;
      this.segment!.forward(payload, this);
      return;
    }
    if (this.state === 'established' && type === RecordType.FRAME_GSO) {
      // The reader accepts FRAME_GSO only from a session that negotiated gso.
      this.framesIn++;
      this.bytesIn += payload.length;
      if (payload.length < VNET_HDR_LENGTH) {
        this.segment!.drops.bad_gso++;
        return;
      }
      this.segment!.forward(payload.subarray(VNET_HDR_LENGTH), this, payload);
      return;
    }
    if (this.state !== 'awaiting_hello' && this.state !== 'established') return;
    try {
      const msg = parseControl(payload);
      if (this.state === 'awaiting_hello') this.onHello(msg);
      else this.onControl(msg);
    } catch (e) {
      this.reader.fail(e instanceof ElError ? e : new ElError('EL_ERR_INTERNAL', String((e as Error)?.message ?? e)));
    }
  }

  private onControl(msg: ControlMessage): void {
    switch (msg.type) {
      case 'ping':
        this.sendControl({ type: 'pong', id: msg.id });
        return;
      case 'pong':
        return; // lastRx is already refreshed by the read
      case 'bye':
        this.closeReason = 'client_bye';
        this.finish(undefined);
        return;
      default:
        throw new ElError('EL_ERR_PROTOCOL', `unexpected "${msg.type}" message from a client`);
    }
  }

  private onHello(msg: ControlMessage): void {
    if (msg.type !== 'hello') throw new ElError('EL_ERR_PROTOCOL', `the first message must be hello, got "${msg.type}"`);
    const hello: Hello = msg;
    this.gso = this.host.gso && (hello.caps?.includes(CAP_GSO) ?? false);
    if (hello.version !== PROTOCOL_VERSION) throw new ElError('EL_ERR_PROTOCOL', `protocol version ${hello.version} is not supported (this node speaks ${PROTOCOL_VERSION})`);

    const claims = verifyTicket(hello.ticket, this.host.ticketKeys());
    const verdict = this.host.replay.check(claims.jti, claims.exp);
    if (verdict === 'replayed') throw new ElError('EL_ERR_TICKET_REPLAYED', 'this ticket was already used; log in again for a new one');
    if (verdict === 'full') throw new ElError('EL_ERR_UNAVAILABLE', 'node too busy to accept new sessions (replay cache full); try another node');
    const seg = this.host.segment(claims.seg);
    if (typeof seg === 'string') throw new ElError('EL_ERR_WRONG_SEGMENT', seg);
    if (claims.mode !== seg.def.mode) throw new ElError('EL_ERR_WRONG_SEGMENT', `ticket is for ${claims.mode} but segment "${seg.name}" is ${seg.def.mode}`);

    if (seg instanceof L3Segment) {
      this.attachL3(seg, claims);
      return;
    }

    let ticketMac: number | undefined;
    if (claims.mac !== undefined) {
      try {
        ticketMac = parseMac(claims.mac);
      } catch {
        throw new ElError('EL_ERR_BAD_TICKET', `ticket MAC ${JSON.stringify(claims.mac)} is not a MAC address`);
      }
    }
    const helloMac = hello.mac === undefined ? undefined : parseMac(hello.mac);
    if (ticketMac !== undefined && helloMac !== undefined && ticketMac !== helloMac) {
      throw new ElError('EL_ERR_PROTOCOL', `hello MAC ${hello.mac} differs from the MAC ${claims.mac} assigned in the ticket`);
    }
    const own = ticketMac ?? helloMac;
    if (own !== undefined && Math.floor(own / 0x010000000000) % 2 === 1) {
      throw new ElError('EL_ERR_PROTOCOL', 'the session MAC must be a unicast address');
    }

    if (own !== undefined) {
      const holder = seg.ownerOf(own);
      if (holder !== undefined && holder !== this) {
        const old = this.host.sessionOf(holder);
        if (old && old.claims?.sub === claims.sub && old.claims?.dev === claims.dev) {
          // The same device reconnecting while its old TCP connection is not dead yet.
          old.close('superseded');
        } else {
          throw new ElError('EL_ERR_MAC_IN_USE', `MAC ${hello.mac ?? claims.mac} is in use by another session in segment "${seg.name}"`);
        }
      }
    }
    if (!seg.attach(this, { macLimit: claims.macs ?? seg.def.macsPerSession, ownMac: own, pinFirstSource: own === undefined, claims })) {
      throw new ElError('EL_ERR_MAC_IN_USE', `MAC ${hello.mac ?? claims.mac} is in use by another session in segment "${seg.name}"`);
    }
    const macs = claims.macs ?? seg.def.macsPerSession;
    if (macs > 1 && (seg.def.inspection.arp || seg.def.inspection.nd) && !claims.lan?.length && seg.def.bridgeRanges.length === 0) {
      // Otherwise its LAN hosts' ARP/ND is dropped (arp_spoof/nd_spoof) with only a counter to show why.
      this.host.logger.warn(
        { peer: this.peer, session: this.name, user: claims.sub, segment: seg.name },
        `bridge session (up to ${macs} MACs) has no LAN ranges: its LAN hosts may claim no addresses, so their ARP/ND is dropped; set the user's lan or the segment's bridgeRanges (docs/lan.md)`,
      );
    }

    this.establish(claims, seg, seg.def.mtu + L2_OVERHEAD);
  }

  /** L3: routes the ticket's addresses and delegated prefixes to this session. */
  private attachL3(seg: L3Segment, claims: TicketClaims): void {
    const prefixes: Prefix[] = [];
    const add = (text: string | undefined, host: boolean, what: string): void => {
      if (text === undefined) return;
      const p = host ? hostOf(text) : parsePrefix(text);
      if (!p) throw new ElError('EL_ERR_BAD_TICKET', `ticket ${what} ${JSON.stringify(text)} is not an IP ${host ? 'address' : 'prefix'}`);
      prefixes.push(p);
    };
    add(claims.ipv4, true, 'ipv4');
    add(claims.ipv6, true, 'ipv6');
    add(claims.prefix, false, 'prefix');
    add(claims.prefix4, false, 'prefix4');
    let result = seg.attach(this, { prefixes });
    if (!result.ok && result.conflict) {
      const old = this.host.sessionOf(result.conflict);
      if (old && old.claims?.sub === claims.sub && old.claims?.dev === claims.dev) {
        // The same device reconnecting while its old TCP connection is not dead yet.
        old.close('superseded');
        result = seg.attach(this, { prefixes });
      }
    }
    if (!result.ok && result.full) throw new ElError('EL_ERR_UNAVAILABLE', `segment "${seg.name}" has reached its route limit (maxRoutes ${seg.def.maxRoutes}) on this node; try another node`);
    if (!result.ok) {
      const taken = prefixes.find((p) => seg.ownerOf(p) !== undefined && seg.ownerOf(p) !== this);
      throw new ElError('EL_ERR_ADDRESS_IN_USE', `${taken ? formatPrefix(taken) : 'an address of this ticket'} is routed to another session in segment "${seg.name}"`);
    }
    this.establish(claims, seg, seg.def.mtu);
  }

  private establish(claims: TicketClaims, seg: AnySegment, maxFrame: number): void {
    this.claims = claims;
    this.segment = seg;
    this.state = 'established';
    clearTimeout(this.helloTimer);
    this.helloTimer = undefined;
    this.reader.accept(RecordType.FRAME, maxFrame);
    if (this.gso) this.reader.accept(RecordType.FRAME_GSO, MAX_RECORD_PAYLOAD);

    const def = seg.def;
    const welcome: Welcome = {
      type: 'welcome',
      session: this.name,
      node: this.host.nodeId,
      segment: def.name,
      mode: def.mode,
      mtu: def.mtu,
      keepalive: { interval: def.keepalive.interval, timeout: def.keepalive.timeout },
    };
    if (this.gso) welcome.caps = [CAP_GSO];
    if (this.host.software) welcome.software = this.host.software;
    if (claims.ipv4) welcome.ipv4 = def.ipv4?.gateway ? { address: claims.ipv4, gateway: def.ipv4.gateway } : { address: claims.ipv4 };
    if (claims.ipv6) welcome.ipv6 = def.ipv6?.gateway ? { address: claims.ipv6, gateway: def.ipv6.gateway } : { address: claims.ipv6 };
    if (seg instanceof L3Segment) {
      if (claims.prefix) welcome.prefix = claims.prefix;
      if (claims.prefix4) welcome.prefix4 = claims.prefix4;
      const routes = this.host.routesFor?.(seg) ?? [];
      if (routes.length) welcome.routes = routes;
    }
    this.sendControl(welcome);
    this.startKeepalive(def.keepalive.interval * 1000, def.keepalive.timeout * 1000);
    this.host.established(this);
  }

  private startKeepalive(intervalMs: number, timeoutMs: number): void {
    this.lastPing = Date.now();
    // Check often enough to notice the timeout within a third of it.
    const tick = Math.max(10, Math.min(intervalMs, timeoutMs / 3));
    this.keepaliveTimer = setInterval(() => this.guarded(() => {
      const now = Date.now();
      if (now - this.lastRx > timeoutMs) {
        this.fail(new ElError('EL_ERR_KEEPALIVE_TIMEOUT', `nothing received for ${Math.round((now - this.lastRx) / 1000)} s`));
        return;
      }
      if (now - this.lastPing >= intervalMs) {
        this.lastPing = now;
        this.sendControl({ type: 'ping', id: ++this.pingId });
      }
    }), tick);
    this.keepaliveTimer.unref();
  }

  /** Runs a timer's work: whatever it throws ends this session only, never the process. */
  private guarded(work: () => void): void {
    try {
      work();
    } catch (e) {
      try {
        this.fail(new ElError('EL_ERR_INTERNAL', `session ${this.name}: ${(e as Error)?.message ?? String(e)}`));
      } catch {
        this.socket.destroy();
      }
    }
  }

  // ---- output ----

  private sendControl(msg: ControlMessage): void {
    this.push(RecordType.CONTROL, encodeControl(msg).subarray(3));
  }

  protected writeBatch(batch: Buffer, done?: (err?: Error | null) => void): void {
    if (!this.socket.destroyed) this.socket.write(batch, done);
  }

  protected override writesThrough(): boolean {
    return writesThrough(this.socket);
  }

  protected backlog(): number {
    return this.socket.writableLength;
  }

  protected override onStalled(): void {
    this.fail(new ElError('EL_ERR_SLOW_PEER', `the peer read nothing for ${this.writeTimeoutMs} ms while more than ${this.highWaterBytes} bytes waited`));
  }

  // ---- closing ----

  /** Ends the session with an `error` message naming `err`; logs once, counts once. */
  fail(err: ElError): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    this.host.sessionError(err.code);
    if (this.state === 'awaiting_hello' && this.host.preAuthFailed) this.host.preAuthFailed(this, err);
    else this.host.logger.warn({ peer: this.peer, session: this.name, user: this.claims?.sub, code: err.code }, err.message);
    this.closeReason = err.code;
    this.finish({ type: 'error', code: err.code, message: err.message });
  }

  /** Ends the session from the switch's side with `bye`. */
  close(reason: string): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    this.closeReason = reason;
    this.finish({ type: 'bye', reason });
  }

  /** Ends the session with `redirect` (the node is draining): the client logs in at the broker again. */
  redirect(reason: string): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    this.closeReason = 'redirect';
    this.finish({ type: 'redirect', reason });
  }

  /** Detaches at once (frees the MAC), writes what is queued plus `last`, ends,
   * and destroys the socket if the peer has not closed within the grace time. */
  private finish(last: ControlMessage | undefined): void {
    this.state = 'closing';
    this.stopTimers();
    this.segment?.detach(this);
    try {
      this.flush();
      if (!this.socket.destroyed) {
        if (last) this.socket.end(encodeControl(last));
        else this.socket.end();
      }
    } catch {
      this.socket.destroy();
    }
    this.closeQueue();
    this.graceTimer = setTimeout(() => this.socket.destroy(), this.host.closeGraceMs);
    this.graceTimer.unref();
  }

  private onClose(): void {
    if (this.state === 'closed') return;
    this.closeReason ??= 'peer_closed';
    this.state = 'closed';
    this.stopTimers();
    if (this.graceTimer) clearTimeout(this.graceTimer);
    this.segment?.detach(this);
    this.closeQueue();
    try {
      this.host.closed(this);
    } catch (e) {
      this.host.logger.error({ session: this.name, err: (e as Error)?.message }, 'session close bookkeeping failed');
    }
  }

  private stopTimers(): void {
    if (this.helloTimer) clearTimeout(this.helloTimer);
    if (this.keepaliveTimer) clearInterval(this.keepaliveTimer);
    this.helloTimer = undefined;
    this.keepaliveTimer = undefined;
  }
}
