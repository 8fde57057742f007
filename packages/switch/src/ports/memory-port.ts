/**
 * An in-memory port for forwarding tests (as wireguard-go's tuntest): the same bounded
 * OutputQueue and per-tick flush as every port, over a MemoryWriter that keeps what it
 * was given.
 */
import { RecordType } from '@elink/protocol';
import { MemoryWriter, OutputQueue, type QueueOptions } from '@elink/transport';
import { allocatePortId, type Port } from '../core/port.js';

export class MemoryPort implements Port {
  readonly id = allocatePortId();
  readonly kind = 'memory' as const;
  readonly writer = new MemoryWriter();
  readonly output: OutputQueue;
  /** Stalls reported by the queue (the backlog stayed above the high-water mark). */
  stalls = 0;
  /** Takes FRAME_GSO payloads as they are (a session that negotiated "gso"). */
  gso = false;
  /** With `gso`: takes UDP super-frames as they are too (a session that negotiated "uso"). */
  uso = false;

  constructor(
    readonly name = 'mem',
    opts?: QueueOptions,
    onStalled?: () => void,
  ) {
    this.output = new OutputQueue(this.writer, opts, () => {
      this.stalls++;
      onStalled?.();
    });
  }

  enqueue(frame: Buffer): void {
    this.output.push(RecordType.FRAME, frame);
  }

  enqueueGso(packet: Buffer): void {
    this.output.push(RecordType.FRAME_GSO, packet);
  }

  /** FRAME_GSO payloads received, in order (copies). */
  get receivedGso(): Buffer[] {
    const out: Buffer[] = [];
    for (const r of this.writer.records) if (r.type === RecordType.FRAME_GSO) out.push(r.payload);
    return out;
  }

  /** Frames received, in order (copies: they outlive the tick). */
  get received(): Buffer[] {
    const out: Buffer[] = [];
    for (const r of this.writer.records) if (r.type === RecordType.FRAME) out.push(r.payload);
    return out;
  }

  /** Forgets what was received. */
  clear(): void {
    this.writer.writes.length = 0;
  }

  /** Writes seen: one per tick in which something was queued. */
  get writes(): number {
    return this.writer.writes.length;
  }

  /** Pretends the writer holds `bytes` unsent bytes (to exercise slow-peer logic). */
  setBacklog(bytes: number): void {
    this.writer.fakeBacklog = bytes;
  }
}

/** Resolves after the flush scheduled in this tick has run. */
export function nextTick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
