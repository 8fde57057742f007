/**
 * The one bounded output queue of every port (client sessions, device ports, trunks,
 * the client's link and device): records queued during a tick leave in one write to the
 * port's Writer when the FlushScheduler flushes (see flush-scheduler.ts).
 *
 * Every queue is bounded (records and bytes per tick); a full queue drops the newest
 * and counts `queue_full`. A writer whose backlog (e.g. socket.writableLength) is above
 * the high-water mark gets nothing more: drops count `slow_peer`, and a queue that stays
 * stalled for `writeTimeoutMs` calls `onStalled` (a session closes with
 * EL_ERR_SLOW_PEER). Records the writer refuses (a device's full queue) count
 * `device_drop`. One slow reader never holds memory or time that belongs to the others.
 */
import { HEADER_LENGTH, isTaggedTrunkFrame, RecordType, TRUNK_SEGMENT_ID_LENGTH } from '@elink/protocol';
import { defaultFlushScheduler, type Flushable, type FlushScheduler } from './flush-scheduler.js';
import type { Writer } from './writer.js';

export const DEFAULT_MAX_FRAMES = 4096;
export const DEFAULT_MAX_BYTES = 1024 * 1024;
export const DEFAULT_HIGH_WATER_BYTES = 2 * 1024 * 1024;
export const DEFAULT_WRITE_TIMEOUT_MS = 15_000;

export interface QueueOptions {
  /** Records queued per tick before `queue_full` drops. Default 4096. */
  maxFrames?: number;
  /** Bytes (headers included) queued per tick before `queue_full` drops. Default 1 MiB. */
  maxBytes?: number;
  /** Writer backlog above which nothing more is queued (`slow_peer`). Default 2 MiB. */
  highWaterBytes?: number;
  /** How long the backlog may stay above the high-water mark before onStalled. Default 15 s. */
  writeTimeoutMs?: number;
  scheduler?: FlushScheduler;
  now?: () => number;
}

/** Records dropped, by reason (the `reason` label of el_switch_frames_dropped_total). */
export interface QueueDrops {
  /** The tick's queue was full (maxFrames/maxBytes). */
  queue_full: number;
  /** The writer's backlog was above the high-water mark. */
  slow_peer: number;
  /** The writer refused them (a device's queue full, its link down). */
  device_drop: number;
}

export type QueueDropReason = keyof QueueDrops;

export class OutputQueue implements Flushable {
  readonly drops: QueueDrops = { queue_full: 0, slow_peer: 0, device_drop: 0 };
  /** FRAME, FRAME_GSO and trunk frames written (the writer took them), and their payload bytes
   * (a trunk frame's with its segment id). */
  framesOut = 0;
  bytesOut = 0;
  flushPending = false;

  readonly maxFrames: number;
  readonly maxBytes: number;
  readonly highWaterBytes: number;
  readonly writeTimeoutMs: number;
  readonly scheduler: FlushScheduler;
  private readonly now: () => number;

  // Double-buffered: the pair being written is never the pair a re-entrant push fills.
  private types: number[] = [];
  private payloads: Buffer[] = [];
  private spareTypes: number[] = [];
  private sparePayloads: Buffer[] = [];
  private queuedBytes = 0;
  /** Queued records that are not frames (control), and their payload bytes: the flush
   * derives the frame counters from these without another pass over the queue. */
  private queuedOther = 0;
  private queuedOtherBytes = 0;
  private writing = false;
  private readonly framesOnly: boolean;
  private closed = false;
  private stalledSince = -1;
  private stallTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly writer: Writer,
    opts: QueueOptions = {},
    private readonly onStalled?: () => void,
  ) {
    this.maxFrames = opts.maxFrames ?? DEFAULT_MAX_FRAMES;
    this.maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
    this.highWaterBytes = opts.highWaterBytes ?? DEFAULT_HIGH_WATER_BYTES;
    this.writeTimeoutMs = opts.writeTimeoutMs ?? DEFAULT_WRITE_TIMEOUT_MS;
    this.scheduler = opts.scheduler ?? defaultFlushScheduler;
    this.now = opts.now ?? Date.now;
    this.framesOnly = writer.framesOnly === true;
  }

  /** Queues one record (FRAME, FRAME_GSO, CONTROL, …) behind what is queued; false when
   * dropped (counted) or closed. `payload` must stay unchanged until the flush (it is not
   * copied here). Never throws. */
  push(type: number, payload: Buffer): boolean {
    // The hot path, kept small so that V8 inlines it into the segment's forward(): a
    // plain FRAME that fits. Everything else (other records, drops) is out of line.
    if (type !== RecordType.FRAME) return this.pushOther(type, payload);
    const size = HEADER_LENGTH + payload.length;
    if (this.closed || this.writer.backlog() > this.highWaterBytes || this.payloads.length >= this.maxFrames || this.queuedBytes + size > this.maxBytes) {
      return this.refuse();
    }
    if (this.stalledSince >= 0) this.stalledSince = -1;
    this.types.push(type);
    this.payloads.push(payload);
    this.queuedBytes += size;
    if (!this.flushPending) this.scheduler.schedule(this);
    return true;
  }

  /** FRAME_GSO and control records: the same checks, plus a frames-only writer's refusal,
   * and control records counted apart (they are not frames in framesOut/bytesOut). */
  private pushOther(type: number, payload: Buffer): boolean {
    if (this.closed) return false;
    const tagged = isTaggedTrunkFrame(type);
    const frame = tagged || type === RecordType.FRAME_GSO;
    if (!frame && this.framesOnly) {
      this.drops.device_drop++;
      return false;
    }
    // A trunk frame (records.ts trunkFrameType) is written with its 4-byte segment id.
    const size = HEADER_LENGTH + payload.length + (tagged ? TRUNK_SEGMENT_ID_LENGTH : 0);
    if (tagged && size - HEADER_LENGTH > 0xffff) return this.refuse();
    if (this.writer.backlog() > this.highWaterBytes || this.payloads.length >= this.maxFrames || this.queuedBytes + size > this.maxBytes) {
      return this.refuse();
    }
    if (this.stalledSince >= 0) this.stalledSince = -1;
    this.types.push(type);
    this.payloads.push(payload);
    this.queuedBytes += size;
    if (!frame) {
      this.queuedOther++;
      this.queuedOtherBytes += payload.length;
    }
    if (!this.flushPending) this.scheduler.schedule(this);
    return true;
  }

  /** Why a record that did not fit was dropped: a writer above the high-water mark
   * (`slow_peer`, and the stall clock runs) before a full tick (`queue_full`). Full:
   * the NEWEST is dropped. The queue only ever holds the current tick's records (it is
   * emptied at the end of every tick), so "oldest" and "newest" are the same age here,
   * and refusing the newcomer is O(1) and keeps the batch in order. The long-lived
   * backlog that derp drops the oldest of lives in the socket instead, and is bounded
   * by the high-water mark. */
  private refuse(): false {
    if (this.closed) return false;
    if (this.writer.backlog() > this.highWaterBytes) {
      this.drops.slow_peer++;
      this.noteStall();
    } else this.drops.queue_full++;
    return false;
  }

  /** Now if the writer is idle (a lone packet: no wait), or if a quarter of the tick's
   * queue is used anyway (a write this big gains nothing by waiting, and waiting for the
   * rest of the turn's reads would overflow the queue: `queue_full`). */
  wantsFlushNow(): boolean {
    return this.writer.backlog() === 0 || this.queuedBytes * 4 >= this.maxBytes || this.payloads.length * 4 >= this.maxFrames;
  }

  /** Records waiting for this tick's flush. */
  get queued(): number {
    return this.payloads.length;
  }

  /** Their encoded size (headers included). */
  get queuedSize(): number {
    return this.queuedBytes;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Hands everything queued to the writer in one write. */
  flush(): void {
    const n = this.payloads.length;
    if (n === 0 || this.writing) return;
    const types = this.types;
    const payloads = this.payloads;
    const bytes = this.queuedBytes;
    this.types = this.spareTypes;
    this.payloads = this.sparePayloads;
    const frames = n - this.queuedOther;
    const frameBytes = bytes - n * HEADER_LENGTH - this.queuedOtherBytes;
    this.queuedBytes = 0;
    this.queuedOther = 0;
    this.queuedOtherBytes = 0;
    let refused = 0;
    this.writing = true;
    try {
      refused = this.writer.write(types, payloads, bytes);
    } finally {
      this.writing = false;
      types.length = 0;
      payloads.length = 0;
      this.spareTypes = types;
      this.sparePayloads = payloads;
      // Pushed while writing (a writer that fed back into this queue): the next tick.
      if (this.payloads.length > 0 && !this.flushPending && !this.closed) this.scheduler.schedule(this);
    }
    if (refused > 0) this.drops.device_drop += refused;
    // A refused frame's size is not known here: bytesOut counts what was handed over.
    this.framesOut += frames - refused;
    this.bytesOut += frameBytes;
  }

  /** Stops queueing for good and forgets what is queued (not flushed). */
  close(): void {
    this.closed = true;
    this.payloads.length = 0;
    this.types.length = 0;
    this.queuedBytes = 0;
    this.queuedOther = 0;
    this.queuedOtherBytes = 0;
    if (this.stallTimer) clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
  }

  private noteStall(): void {
    if (this.stalledSince >= 0) return;
    this.stalledSince = this.now();
    if (!this.stallTimer && this.onStalled) this.armStallTimer(this.writeTimeoutMs);
  }

  private armStallTimer(ms: number): void {
    this.stallTimer = setTimeout(() => this.checkStall(), ms);
    this.stallTimer.unref();
  }

  private checkStall(): void {
    this.stallTimer = undefined;
    if (this.closed || this.stalledSince < 0) return;
    if (this.writer.backlog() <= this.highWaterBytes) {
      this.stalledSince = -1;
      return;
    }
    const left = this.stalledSince + this.writeTimeoutMs - this.now();
    if (left > 0) {
      this.armStallTimer(left);
      return;
    }
    this.onStalled?.();
  }
}
