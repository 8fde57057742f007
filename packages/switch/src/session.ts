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
import type { Logger } from 'pino';
import {
  ElError,
  encodeControl,
  encodeControlPayload,
  MAX_CONTROL_PAYLOAD,
  MAX_RECORD_PAYLOAD,
  parseControl,
  readIntoSharedBuffer,
  RecordReader,
  RecordType,
  VNET_HDR_LENGTH,
  writesThrough,
  type ControlMessage,
  type ErrorCode,
  type TicketClaims,
} from '@elink/protocol';
import { QueuedPort, type QueueOptions } from './port.js';
import { admit, type Admission, type AdmissionState } from './admission/admit.js';
import type { Segment } from './core/segment.js';

/** What a session needs from its node (switch-node.ts implements it). */
export interface SessionHost extends AdmissionState {
  readonly logger: Logger;
  readonly helloTimeoutMs: number;
  /** How long after end() a closing socket may linger before destroy(). */
  readonly closeGraceMs: number;
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
  segment: Segment | undefined;
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
    const a = admit(msg, this.host, this.name);
    if (a instanceof ElError) throw a;
    for (const holder of a.supersede) this.host.sessionOf(holder)?.close('superseded');
    this.gso = a.gso;
    const refused = a.plan.attach(this);
    if (refused) throw refused;
    if (a.plan.warning) this.host.logger.warn({ peer: this.peer, session: this.name, user: a.claims.sub, segment: a.segment.name }, a.plan.warning);
    this.establish(a);
  }

  private establish(a: Admission): void {
    this.claims = a.claims;
    this.segment = a.segment;
    this.state = 'established';
    clearTimeout(this.helloTimer);
    this.helloTimer = undefined;
    this.reader.accept(RecordType.FRAME, a.plan.maxFrame);
    if (this.gso) this.reader.accept(RecordType.FRAME_GSO, MAX_RECORD_PAYLOAD);
    this.sendControl(a.welcome);
    const k = a.segment.def.keepalive;
    this.startKeepalive(k.interval * 1000, k.timeout * 1000);
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
    this.push(RecordType.CONTROL, encodeControlPayload(msg));
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
