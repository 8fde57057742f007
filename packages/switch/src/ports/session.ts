/**
 * A client session: the EL state machine on one record connection (TLS today, any
 * RecordConn: memory in tests, WebSocket later), and the port its frames leave by.
 *
 *   awaiting_hello ──hello admitted──▶ established ──bye/error/timeout──▶ closing ──▶ closed
 *        │ (conn accepts CONTROL only)     (FRAME ≤ plan.maxFrame, CONTROL)
 *        └──bad/late hello──▶ closing
 *
 * The session is transport, lifecycle and keepalive; what a hello may do is decided by
 * admit() (admission/admit.ts). Its output is a port: an OutputQueue over a RecordWriter
 * (everything, welcome, pong, ping and frames, goes through the queue and the per-tick
 * flush); only the final `error`/`bye`/`redirect` is written directly, after a last
 * flush, together with end(). Nothing thrown by a record handler escapes: the conn reports
 * it (onError) and the session fails with a coded error.
 */
import { randomFillSync } from 'node:crypto';
import type { Logger } from 'pino';
import {
  ElError,
  encodeControl,
  encodeControlPayload,
  endpointOwner,
  MAX_CONTROL_PAYLOAD,
  MAX_RECORD_PAYLOAD,
  parseControl,
  RecordType,
  VNET_HDR_LENGTH,
  type ControlMessage,
  type ErrorCode,
  type TicketClaims,
} from '@elink/protocol';
import { OutputQueue, RecordWriter, type QueueOptions, type RecordConn, type RecordHandlers } from '@elink/transport';
import { allocatePortId, type Port } from '../core/port.js';
import { gsoTypeAgreed } from '../core/gso-ingress.js';
import { admit, type Admission, type AdmissionState, type AdmissionWay } from '../admission/admit.js';
import type { Segment } from '../core/segment.js';

/** What a session needs from its node (switch-node.ts implements it). */
export interface SessionHost extends AdmissionState {
  readonly logger: Logger;
  readonly helloTimeoutMs: number;
  /** How long after end() a closing conn may linger before destroy(). */
  readonly closeGraceMs: number;
  sessionOf(port: unknown): Session | undefined;
  established(s: Session): void;
  closed(s: Session): void;
  sessionError(code: ErrorCode): void;
  /** A session failed before its welcome (logged sampled, not one line each). */
  preAuthFailed?(s: Session, err: ElError): void;
}

/** A session's port output: the one OutputQueue over a RecordWriter on its conn (what the
 * port contract suite runs over). */
export function sessionOutput(conn: RecordConn, queue: QueueOptions, onStalled: () => void): OutputQueue {
  return new OutputQueue(new RecordWriter(conn), queue, onStalled);
}

export type SessionState = 'awaiting_hello' | 'established' | 'closing' | 'closed';

// Session ids come from a pool of random bytes refilled 512 ids at a time: one call into
// the CSPRNG per 512 sessions instead of one per session (the ids are as random).
const ID_BYTES = 9;
const idPool = Buffer.alloc(ID_BYTES * 512);
let idOffset = idPool.length;
function sessionIdBytes(): Buffer {
  if (idOffset === idPool.length) {
    randomFillSync(idPool);
    idOffset = 0;
  }
  idOffset += ID_BYTES;
  return idPool.subarray(idOffset - ID_BYTES, idOffset);
}

export class Session implements Port, RecordHandlers {
  readonly id = allocatePortId();
  readonly kind = 'session' as const;
  readonly name = `s-${sessionIdBytes().toString('base64url')}`;
  readonly peer: string;
  readonly openedAt = Date.now();
  /** The port's output: this tick's records, written in one batch by the RecordWriter. */
  readonly output: OutputQueue;
  state: SessionState = 'awaiting_hello';
  claims: TicketClaims | undefined;
  /** How it was admitted (the metric el_switch_admissions_total); undefined before welcome. */
  admittedBy: AdmissionWay | undefined;
  segment: Segment | undefined;
  /** Why it closed: client_bye, peer_closed, superseded, the stop reason, or an error code. */
  closeReason: string | undefined;
  framesIn = 0;
  bytesIn = 0;
  /** The client offered "gso" in hello: it sends and takes FRAME_GSO records. */
  gso = false;
  /** It offered "uso" too: its FRAME_GSO records may be UDP super-frames, both ways. */
  uso = false;
  private ownerTag: string | undefined;
  private admittedAt = 0;
  private lastRx = Date.now();
  private lastPing = Date.now();
  private pingId = 0;
  private helloTimer: NodeJS.Timeout | undefined;
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private graceTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly conn: RecordConn,
    private readonly host: SessionHost,
    queue: QueueOptions = {},
  ) {
    this.peer = conn.peer;
    this.output = sessionOutput(conn, queue, () => this.onStalled());
    conn.accept(RecordType.CONTROL, MAX_CONTROL_PAYLOAD);
    conn.start(this);
    this.helloTimer = setTimeout(() => this.guarded(() => this.fail(new ElError('EL_ERR_HELLO_TIMEOUT', `no hello within ${host.helloTimeoutMs} ms`))), host.helloTimeoutMs);
  }

  // ---- the port ----

  enqueue(frame: Buffer): void {
    this.output.push(RecordType.FRAME, frame);
  }

  enqueueGso(packet: Buffer): void {
    this.output.push(RecordType.FRAME_GSO, packet);
  }

  get user(): string | undefined {
    return this.claims?.sub;
  }

  /** Announced with its endpoints to peers (Port.owner); made when first asked: only trunks ask. */
  get owner(): string | undefined {
    const c = this.claims;
    if (c === undefined) return undefined;
    return (this.ownerTag ??= endpointOwner(c.sub, c.dev));
  }

  get since(): number | undefined {
    return this.claims === undefined ? undefined : this.admittedAt;
  }

  /** Port.movedAway: the device was admitted later at another node: this connection is a
   * leftover (a client that reconnected elsewhere before this side saw it go). */
  movedAway(node: string): void {
    if (this.state !== 'established') return;
    this.host.logger.info({ peer: this.peer, session: this.name, user: this.claims?.sub, device: this.claims?.dev, segment: this.segment?.name, node }, 'the device connected again at another node: session superseded');
    this.close('superseded');
  }

  // ---- input (RecordHandlers) ----

  /** After each chunk read: out in this turn what it queued here and on other ports
   * (FlushScheduler.flushNow), and the peer is alive. */
  onReadEnd(): void {
    this.lastRx = Date.now();
    this.output.scheduler.flushNow();
  }

  /** The input broke the protocol, or a handler threw (a refused hello among them). */
  onError(err: ElError): void {
    this.fail(err);
  }

  onEnd(): void {
    this.closeReason ??= 'peer_closed';
  }

  onRecord(type: number, payload: Buffer): void {
    if (this.state === 'established' && type === RecordType.FRAME) {
      this.framesIn++;
      this.bytesIn += payload.length;
      this.segment!.forward(payload, this);
      return;
    }
    if (this.state === 'established' && type === RecordType.FRAME_GSO) {
      // The reader accepts FRAME_GSO only from a session that negotiated gso; a gso_type
      // it did not negotiate never reaches other clients' kernels (gso-ingress.ts).
      this.framesIn++;
      this.bytesIn += payload.length;
      if (payload.length < VNET_HDR_LENGTH || !gsoTypeAgreed(payload[1], this.uso)) {
        this.segment!.drops.bad_gso++;
        return;
      }
      this.segment!.forward(payload.subarray(VNET_HDR_LENGTH), this, payload);
      return;
    }
    if (this.state !== 'awaiting_hello' && this.state !== 'established') return;
    // What this throws reaches onError (the conn stops reading): the session fails with it.
    const msg = parseControl(payload);
    if (this.state === 'awaiting_hello') this.onHello(msg);
    else this.onControl(msg);
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
    const a = admit(msg, this.host, this.name, undefined, this.conn.channelBinding?.());
    if (a instanceof ElError) throw a;
    for (const holder of a.supersede) this.host.sessionOf(holder)?.close('superseded');
    this.admittedAt = Date.now();
    this.gso = a.gso;
    this.uso = a.uso;
    const refused = a.plan.attach(this);
    if (refused) throw refused;
    if (a.plan.warning) this.host.logger.warn({ peer: this.peer, session: this.name, user: a.claims.sub, segment: a.segment.name }, a.plan.warning);
    this.establish(a);
  }

  private establish(a: Admission): void {
    this.claims = a.claims;
    this.admittedBy = a.way;
    this.segment = a.segment;
    this.state = 'established';
    clearTimeout(this.helloTimer);
    this.helloTimer = undefined;
    this.conn.accept(RecordType.FRAME, a.plan.maxFrame);
    if (this.gso) this.conn.accept(RecordType.FRAME_GSO, MAX_RECORD_PAYLOAD);
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
        this.conn.destroy();
      }
    }
  }

  // ---- output ----

  private sendControl(msg: ControlMessage): void {
    this.output.push(RecordType.CONTROL, encodeControlPayload(msg));
  }

  private onStalled(): void {
    const q = this.output;
    this.fail(new ElError('EL_ERR_SLOW_PEER', `the peer read nothing for ${q.writeTimeoutMs} ms while more than ${q.highWaterBytes} bytes waited`));
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
   * and destroys the conn if the peer has not closed within the grace time. */
  private finish(last: ControlMessage | undefined): void {
    this.state = 'closing';
    this.stopTimers();
    this.segment?.detach(this);
    try {
      this.output.flush();
      this.conn.end(last ? encodeControl(last) : undefined);
    } catch {
      this.conn.destroy();
    }
    this.output.close();
    this.graceTimer = setTimeout(() => this.conn.destroy(), this.host.closeGraceMs);
    this.graceTimer.unref();
  }

  /** The conn is gone (RecordHandlers). */
  onClose(cause?: Error): void {
    if (this.state === 'closed') return;
    if (cause) this.host.logger.debug({ peer: this.peer, session: this.name, err: cause.message }, 'session connection error');
    this.closeReason ??= 'peer_closed';
    this.state = 'closed';
    this.stopTimers();
    if (this.graceTimer) clearTimeout(this.graceTimer);
    this.segment?.detach(this);
    this.output.close();
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
