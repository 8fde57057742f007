/**
 * Two connected in-memory RecordConns (tests, in-process links): what one writes, the
 * other reads, asynchronously (setImmediate), as bytes through a real RecordReader — in
 * chunks of at most `chunkSize` copied into one reused buffer that is scribbled over
 * after each read, as the TLS conn's shared read buffer is, so framing and the copying
 * out of transient chunks are exercised too.
 *
 * Like a socket: write() copies at once; backlog() is the bytes written and not yet
 * read by the peer (plus `extraBacklog`), and grows while the peer's reading is paused
 * (pauseReading(): a slow peer). end() sends what is written, then the peer hears onEnd,
 * ends its own side in turn (allowHalfOpen false) and both close. destroy() drops what
 * is not yet read; both sides close, the peer without onEnd.
 */
import { createHash } from 'node:crypto';
import { CHANNEL_BINDING_LENGTH, type PayloadAllocator } from '@elink/protocol';
import type { RecordConn, RecordHandlers } from './record-conn.js';
import { RecordInput } from './record-input.js';

export interface MemoryRecordConnOptions {
  /** Largest chunk a read delivers (TLS: 16 KiB records). Default 16 KiB, at most 64 KiB. */
  chunkSize?: number;
  /** Memory for frames read (not control records); default a buffer of their own each. */
  allocate?: PayloadAllocator;
}

const readBuffer = Buffer.allocUnsafe(64 * 1024);
let lastId = 0;

interface Pending {
  bytes: Buffer;
  done: ((err?: Error | null) => void) | undefined;
}

export class MemoryRecordConn implements RecordConn {
  readonly peer: string;
  readonly remoteAddress: string | undefined = undefined;
  readonly remotePort: number | undefined = undefined;
  /** Added to backlog() (a socket holding bytes the test pretends are unsent). */
  extraBacklog = 0;
  /** Batches received (write() calls of the peer that arrived). */
  reads = 0;
  other!: MemoryRecordConn;
  /** The pair's channel binding: the same at both ends, different for every pair. */
  binding!: Buffer;

  private readonly input: RecordInput;
  private readonly outbox: Pending[] = [];
  private outboxBytes = 0;
  private pumpScheduled = false;
  private paused = false;
  private ended = false;
  private peerEnded = false;
  private finDelivered = false;
  private closed = false;
  private isDestroyed = false;

  constructor(
    private readonly chunkSize: number,
    allocate: PayloadAllocator | undefined,
  ) {
    this.peer = `memory:${++lastId}`;
    this.input = new RecordInput(allocate);
  }

  channelBinding(): Buffer {
    return this.binding;
  }

  start(handlers: RecordHandlers): void {
    if (this.input.handlers) throw new Error('MemoryRecordConn.start() called twice');
    this.input.handlers = handlers;
    this.other.schedulePump();
  }

  accept(type: number, maxPayload: number): void {
    this.input.reader.accept(type, maxPayload);
  }

  write(batch: Buffer, done?: (err?: Error | null) => void): void {
    if (this.isDestroyed || this.ended) return;
    if (batch.length === 0 && !done) return;
    this.outbox.push({ bytes: Buffer.from(batch), done });
    this.outboxBytes += batch.length;
    this.schedulePump();
  }

  writesThrough(): boolean {
    return this.backlog() === 0 && !this.ended && !this.isDestroyed;
  }

  backlog(): number {
    return this.outboxBytes + this.extraBacklog;
  }

  end(last?: Buffer): void {
    if (this.isDestroyed || this.ended) return;
    if (last) this.write(last);
    this.ended = true;
    this.schedulePump();
  }

  destroy(): void {
    if (this.isDestroyed) return;
    this.isDestroyed = true;
    this.input.stop();
    const dropped = this.outbox.splice(0);
    this.outboxBytes = 0;
    setImmediate(() => {
      for (const p of dropped) p.done?.(new Error('destroyed'));
      this.close();
      this.other.peerGone();
    });
  }

  get destroyed(): boolean {
    return this.isDestroyed;
  }

  /** This side stops reading: what the other side writes piles up in its backlog. */
  pauseReading(): void {
    this.paused = true;
  }

  resumeReading(): void {
    this.paused = false;
    this.other.schedulePump();
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  /** Delivers the outbox to the peer, in order, then our end (FIN) if we ended. */
  private pump(): void {
    const to = this.other;
    if (this.isDestroyed || to.isDestroyed || to.paused || to.input.handlers === undefined) return;
    while (this.outbox.length > 0) {
      const p = this.outbox.shift()!;
      this.outboxBytes -= p.bytes.length;
      to.reads++;
      for (let off = 0; off < p.bytes.length && !to.isDestroyed; off += this.chunkSize) {
        const n = Math.min(this.chunkSize, p.bytes.length - off);
        p.bytes.copy(readBuffer, 0, off, off + n);
        to.input.push(readBuffer.subarray(0, n));
        // Transient, like the shared read buffer: whatever kept a view of it sees garbage.
        readBuffer.fill(0xee, 0, n);
      }
      p.done?.(null);
      if (this.isDestroyed || to.isDestroyed || to.paused) return;
    }
    if (this.ended && !this.finDelivered) {
      this.finDelivered = true;
      to.receiveFin();
      this.maybeClose();
    }
  }

  private receiveFin(): void {
    this.peerEnded = true;
    this.input.handlers?.onEnd?.();
    this.end(); // allowHalfOpen false: our side ends too, after what we wrote
    this.maybeClose();
  }

  private maybeClose(): void {
    if (this.finDelivered && this.peerEnded) this.close();
  }

  private peerGone(): void {
    if (this.closed) return;
    this.isDestroyed = true;
    this.input.stop();
    this.outbox.length = 0;
    this.outboxBytes = 0;
    this.close();
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.isDestroyed = true;
    this.input.handlers?.onClose();
  }
}

/** Two connected conns: [a, b]. */
export function memoryRecordConnPair(opts: MemoryRecordConnOptions = {}): [MemoryRecordConn, MemoryRecordConn] {
  const chunkSize = Math.max(1, Math.min(opts.chunkSize ?? 16 * 1024, readBuffer.length));
  const a = new MemoryRecordConn(chunkSize, opts.allocate);
  const b = new MemoryRecordConn(chunkSize, opts.allocate);
  a.other = b;
  b.other = a;
  // Deterministic per pair (from the pair's names), like a TLS exporter per connection.
  a.binding = b.binding = createHash('sha256').update(`memory-record-conn ${a.peer} ${b.peer}`).digest().subarray(0, CHANNEL_BINDING_LENGTH);
  return [a, b];
}
