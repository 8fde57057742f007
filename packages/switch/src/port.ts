/**
 * Ports: everything frames enter and leave the switch by (client sessions, TAP
 * bridges, trunks, in-memory test ports). The forwarding core (segment.ts) knows
 * only this interface.
 *
 * Output path and its contract:
 *
 *   segment.forward → port.enqueue(frame)   (any number of times during a tick)
 *                   → the port joins the scheduler's dirty list (once)
 *   end of the read → flushNow(): ports whose writer is idle (or whose batch is
 *                     already large) are written at once, so a lone packet does
 *                     not wait for the next loop phase (ping latency)
 *   setImmediate    → FlushScheduler flushes every port still dirty ONCE:
 *                     all queued records become one Buffer and one write.
 *
 * Why one Buffer and not cork()/uncork() or writev of views: each TLS write ends
 * in SSL_write, and TLSWrap copies writev chunks into one buffer anyway; one
 * allocUnsafe + one copy per record in JS costs less than 2·n write() calls, each
 * with its own WriteWrap and callback bookkeeping. The frames queued are views
 * into the sender's chunk (zero-copy until here), so this copy is the only one.
 *
 * Every queue is bounded (frames and bytes per tick); a full queue drops and
 * counts `queue_full`. A writer whose backlog (e.g. socket.writableLength) is
 * above the high-water mark gets nothing more: drops count `slow_peer`, and a
 * port that stays stalled for `writeTimeoutMs` is told so via `onStalled()` (a
 * session closes with EL_ERR_SLOW_PEER). One slow reader never holds memory or
 * time that belongs to the others.
 */
import { HEADER_LENGTH, RecordType, RecyclingArena, writeBuffer, writeRecordHeader } from '@elink/protocol';

export type PortKind = 'session' | 'tap' | 'trunk' | 'memory';

export interface Port {
  /** Unique in this process. */
  readonly id: number;
  /** For logs: session id, device name, peer node. */
  readonly name: string;
  readonly kind: PortKind;
  /** Queues one frame for output. Never throws; a drop is counted by the port.
   * `frame` must stay unchanged until the end of the tick (it is not copied here). */
  enqueue(frame: Buffer): void;
  /** True when the peer negotiated the "gso" capability: it takes FRAME_GSO records. */
  readonly gso?: boolean;
  /** Queues one FRAME_GSO payload (virtio_net_hdr + frame) as it is; only called when `gso`. */
  enqueueGso?(packet: Buffer): void;
}

let lastPortId = 0;
export function allocatePortId(): number {
  return ++lastPortId;
}

export interface Flushable {
  flushPending: boolean;
  flush(): void;
  /** False while the writer still holds an earlier write and the batch is small:
   * flushNow() then leaves the port to the setImmediate flush, so bulk traffic keeps
   * batching. Default: true. */
  wantsFlushNow?(): boolean;
}

/** Flushes dirty ports once per tick: one dirty list and one setImmediate for the
 * whole process, not a timer per port. setImmediate (not a microtask) so that all
 * socket reads of the current I/O phase are batched into the same flush; flushNow()
 * lets a read send at once what need not wait. */
export class FlushScheduler {
  /** Memory for the frames sessions read (each copied out of the shared read buffer),
   * recycled at the end of every full flush: by then every queued frame has been copied
   * into a write (or dropped). Only frames that go to ports of this scheduler may use it. */
  readonly arena = new RecyclingArena();
  private dirty: Flushable[] = [];
  private spare: Flushable[] = [];
  private scheduled = false;
  private draining = false;
  private readonly run = (): void => this.flushAll();

  schedule(p: Flushable): void {
    if (p.flushPending) return;
    p.flushPending = true;
    this.dirty.push(p);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.run);
    }
  }

  /** Flushes now every dirty port whose writer is idle. Called at the end of each input
   * read so a lone packet leaves in the same event-loop turn it arrived in. A port whose
   * writer is still busy with an earlier write (bulk traffic) stays for the setImmediate
   * flush, which then carries everything the reads of this turn queued in one write. */
  flushNow(): void {
    if (this.dirty.length > 0) this.drain(true);
  }

  private flushAll(): void {
    this.scheduled = false;
    this.drain(false);
  }

  /** Flushes the dirty ports; with `onlyWilling`, a port whose wantsFlushNow() says no
   * stays dirty (still flushPending: the setImmediate that schedule() armed is still due). */
  private drain(onlyWilling: boolean): void {
    // Not re-entered (a write cannot call back into a read synchronously, but the
    // dirty/spare swap would lose ports if it ever did).
    if (this.draining) return;
    this.draining = true;
    const list = this.dirty;
    this.dirty = this.spare;
    for (let i = 0; i < list.length; i++) {
      const p = list[i];
      if (onlyWilling && p.wantsFlushNow !== undefined && !p.wantsFlushNow()) {
        this.dirty.push(p);
        continue;
      }
      p.flushPending = false;
      try {
        p.flush();
      } catch {
        // A port's writer failing must not keep the other ports from flushing;
        // the port itself notices its broken writer (socket 'error'/'close').
      }
    }
    list.length = 0;
    this.spare = list;
    this.draining = false;
    if (!onlyWilling) this.arena.recycle();
  }
}

/** The process-wide scheduler used unless a port is given another. */
export const defaultFlushScheduler = new FlushScheduler();

export interface QueueOptions {
  /** Records queued per tick before `queue_full` drops. Default 4096. */
  maxFrames?: number;
  /** Bytes (headers included) queued per tick before `queue_full` drops. Default 1 MiB. */
  maxBytes?: number;
  /** Writer backlog above which nothing more is written (`slow_peer`). Default 2 MiB. */
  highWaterBytes?: number;
  /** How long the backlog may stay above the high-water mark before onStalled(). Default 15 s. */
  writeTimeoutMs?: number;
  scheduler?: FlushScheduler;
  now?: () => number;
}

export interface PortCounters {
  framesOut: number;
  bytesOut: number;
  queue_full: number;
  slow_peer: number;
}

export const DEFAULT_MAX_FRAMES = 4096;
export const DEFAULT_MAX_BYTES = 1024 * 1024;
export const DEFAULT_HIGH_WATER_BYTES = 2 * 1024 * 1024;
export const DEFAULT_WRITE_TIMEOUT_MS = 15_000;

/** A port with the shared bounded output queue; subclasses provide the writer. */
export abstract class QueuedPort implements Port, Flushable {
  readonly id = allocatePortId();
  abstract readonly kind: PortKind;
  readonly counters: PortCounters = { framesOut: 0, bytesOut: 0, queue_full: 0, slow_peer: 0 };
  flushPending = false;

  private readonly types: number[] = [];
  private readonly payloads: Buffer[] = [];
  private queuedBytes = 0;
  private closed = false;
  private stalledSince = -1;
  private stallTimer: NodeJS.Timeout | undefined;

  private readonly maxFrames: number;
  private readonly maxBytes: number;
  protected readonly highWaterBytes: number;
  protected readonly writeTimeoutMs: number;
  private readonly scheduler: FlushScheduler;
  private readonly now: () => number;

  constructor(
    readonly name: string,
    opts: QueueOptions = {},
  ) {
    this.maxFrames = opts.maxFrames ?? DEFAULT_MAX_FRAMES;
    this.maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
    this.highWaterBytes = opts.highWaterBytes ?? DEFAULT_HIGH_WATER_BYTES;
    this.writeTimeoutMs = opts.writeTimeoutMs ?? DEFAULT_WRITE_TIMEOUT_MS;
    this.scheduler = opts.scheduler ?? defaultFlushScheduler;
    this.now = opts.now ?? Date.now;
  }

  /** Writes one batch of whole records. Must not throw for a broken peer. `done`, when
   * given, is to be called once the writer no longer needs the batch (socket.write's
   * callback); a writer that keeps batches (tests) may leave it uncalled. */
  protected abstract writeBatch(batch: Buffer, done?: (err?: Error | null) => void): void;
  /** True when writeBatch() will be done with the batch when it returns (so it may be
   * built in the shared scratch buffer, see scratch-buffer.ts). Default: false. */
  protected writesThrough(): boolean {
    return false;
  }
  /** Bytes handed to the writer and not yet sent (socket.writableLength). */
  protected abstract backlog(): number;
  /** The backlog stayed above the high-water mark for writeTimeoutMs. */
  protected onStalled(): void {}

  enqueue(frame: Buffer): void {
    this.push(RecordType.FRAME, frame);
  }

  enqueueGso(packet: Buffer): void {
    this.push(RecordType.FRAME_GSO, packet);
  }

  /** Queues a record of any type behind what is already queued (order is kept). */
  protected push(type: number, payload: Buffer): boolean {
    if (this.closed) return false;
    if (this.backlog() > this.highWaterBytes) {
      this.counters.slow_peer++;
      this.noteStall();
      return false;
    }
    if (this.stalledSince >= 0) this.stalledSince = -1;
    const size = HEADER_LENGTH + payload.length;
    // Full: drop the NEWEST. The queue only ever holds the current tick's records
    // (it is emptied at the end of every tick), so "oldest" and "newest" are the same
    // age here, and refusing the newcomer is O(1) and keeps the batch in order. The
    // long-lived backlog that derp drops the oldest of lives in the socket instead,
    // and is bounded by the high-water mark above.
    if (this.payloads.length >= this.maxFrames || this.queuedBytes + size > this.maxBytes) {
      this.counters.queue_full++;
      return false;
    }
    this.types.push(type);
    this.payloads.push(payload);
    this.queuedBytes += size;
    if (!this.flushPending) this.scheduler.schedule(this);
    return true;
  }

  /** Memory for reassembled frames: see FlushScheduler.arena. */
  protected get frameArena(): RecyclingArena {
    return this.scheduler.arena;
  }

  /** Flushes every port with queued output (this one and those it forwarded to). */
  protected flushScheduled(): void {
    this.scheduler.flushNow();
  }

  /** Now if the writer is idle (a lone packet: no wait), or if a quarter of the tick's
   * queue is used anyway (a write this big gains nothing by waiting, and waiting for the
   * rest of the turn's reads would overflow the queue: `queue_full`). */
  wantsFlushNow(): boolean {
    return this.backlog() === 0 || this.queuedBytes * 4 >= this.maxBytes || this.payloads.length * 4 >= this.maxFrames;
  }

  /** Records waiting for this tick's flush. */
  get queued(): number {
    return this.payloads.length;
  }

  flush(): void {
    const n = this.payloads.length;
    if (n === 0) return;
    // Reused memory, not a new ArrayBuffer per write: see scratch-buffer.ts (V8's full GCs).
    const { buf: batch, done } = writeBuffer(this.queuedBytes, this.writesThrough());
    let off = 0;
    let frames = 0;
    let frameBytes = 0;
    for (let i = 0; i < n; i++) {
      const p = this.payloads[i];
      off = writeRecordHeader(batch, off, this.types[i], p.length);
      batch.set(p, off);
      off += p.length;
      if (this.types[i] === RecordType.FRAME || this.types[i] === RecordType.FRAME_GSO) {
        frames++;
        frameBytes += p.length;
      }
    }
    this.payloads.length = 0;
    this.types.length = 0;
    this.queuedBytes = 0;
    this.counters.framesOut += frames;
    this.counters.bytesOut += frameBytes;
    this.writeBatch(batch, done);
  }

  /** Stops queueing for good and forgets what is queued (not flushed). */
  protected closeQueue(): void {
    this.closed = true;
    this.payloads.length = 0;
    this.types.length = 0;
    this.queuedBytes = 0;
    if (this.stallTimer) clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
  }

  protected get isClosed(): boolean {
    return this.closed;
  }

  private noteStall(): void {
    if (this.stalledSince >= 0) return;
    this.stalledSince = this.now();
    if (!this.stallTimer) this.armStallTimer(this.writeTimeoutMs);
  }

  private armStallTimer(ms: number): void {
    this.stallTimer = setTimeout(() => this.checkStall(), ms);
    this.stallTimer.unref();
  }

  private checkStall(): void {
    this.stallTimer = undefined;
    if (this.closed || this.stalledSince < 0) return;
    if (this.backlog() <= this.highWaterBytes) {
      this.stalledSince = -1;
      return;
    }
    const left = this.stalledSince + this.writeTimeoutMs - this.now();
    if (left > 0) {
      this.armStallTimer(left);
      return;
    }
    this.onStalled();
  }
}
