// Moved to @elink/transport (scratch-buffer.ts there); this copy stays only until
// packages/switch imports it from there, and is then deleted.
/**
 * One process-wide buffer to build a write in, for writers that have consumed the bytes
 * by the time write() returns — so the same memory serves the next write.
 *
 * Why: every Buffer.allocUnsafe above the pool size is a new ArrayBuffer, which V8
 * counts as external memory. At gigabit rates a fresh buffer per TLS write (plus the
 * ones Node allocates for each TLS read) grew external memory by V8's 64 MiB step
 * about ten times a second, and each step starts a full mark-compact of the heap
 * (measured with --trace-gc on the switch during one iperf3 stream: 56 mark-compacts
 * in 5 s, about a third of all CPU on the path). Memory reused is not counted again.
 *
 * One buffer for the whole process (not one per session): the event loop runs one
 * write at a time, and 19,000 idle sessions must not each hold a 64 KiB buffer.
 */
import type { Writable } from 'node:stream';
import { BufferPool, SMALL_BUFFER } from './buffer-pool.js';

export class ScratchBuffer {
  private buf: Buffer;

  /** `max`: larger requests get a buffer of their own (rare: at most one tick's queue). */
  constructor(
    initial = 64 * 1024,
    private readonly max = 2 * 1024 * 1024,
  ) {
    this.buf = Buffer.allocUnsafeSlow(initial);
  }

  /** A view of `size` bytes, valid until the next take(): write it out before then. */
  take(size: number): Buffer {
    if (size > this.max) return Buffer.allocUnsafe(size);
    if (size > this.buf.length) this.buf = Buffer.allocUnsafeSlow(Math.min(this.max, Math.max(size, this.buf.length * 2)));
    return this.buf.subarray(0, size);
  }
}

/** Shared by every writer in the process (switch ports, the client's link). */
export const scratch = new ScratchBuffer();

export const writePool = new BufferPool(4);

/**
 * A buffer of `size` bytes to build one socket write in, and the callback to pass to
 * socket.write(). Through (see writesThrough): the shared scratch buffer, no callback.
 * Otherwise a pooled buffer, given back when the write is done — or, up to 4 KiB, a
 * slice of Node's own Buffer pool (no ArrayBuffer of its own, nothing to give back).
 */
export function writeBuffer(size: number, through: boolean): { buf: Buffer; done: ((err?: Error | null) => void) | undefined } {
  if (through) return { buf: scratch.take(size), done: undefined };
  if (size <= SMALL_BUFFER) return { buf: Buffer.allocUnsafe(size), done: undefined };
  const pooled = writePool.take(size);
  if (pooled === undefined) return { buf: Buffer.allocUnsafe(size), done: undefined };
  return { buf: pooled.subarray(0, size), done: () => writePool.give(pooled) };
}

/**
 * True when `socket.write(chunk)` will have copied `chunk` before it returns: nothing is
 * in flight or queued in the Writable (writableLength 0), so the chunk goes straight to
 * the handle, and for a TLSSocket that is TLSWrap::DoWrite, whose SSL_write encrypts
 * from it at once (it keeps a copy, never the chunk, if OpenSSL cannot take it yet).
 * Otherwise the stream keeps a reference to the chunk until later, and the caller must
 * hand it a buffer of its own.
 */
export function writesThrough(socket: Writable & { connecting?: boolean }): boolean {
  return socket.writableLength === 0 && socket.writableCorked === 0 && socket.connecting !== true && !socket.destroyed;
}

/**
 * Memory for record payloads that live until a known point and are then all done with
 * (the switch: the end of the tick's flush, which has copied every queued frame into a
 * write; the client: the device write after a read). Carved from a few slabs that
 * recycle() makes free again, so reassembled frames cost no new ArrayBuffer each.
 * The owner must call recycle() only when no payload taken since the last recycle()
 * is still referenced. At most `keepSlabs` slabs are kept; past that, allocUnsafe.
 */
export class RecyclingArena {
  private readonly slabs: Buffer[] = [];
  private slab = 0;
  private offset = 0;

  constructor(
    private readonly slabSize = 256 * 1024,
    private readonly keepSlabs = 16,
  ) {}

  alloc(size: number): Buffer {
    if (size > this.slabSize) return Buffer.allocUnsafe(size);
    if (this.slab < this.slabs.length && this.offset + size > this.slabSize) {
      this.slab++;
      this.offset = 0;
    }
    if (this.slab === this.slabs.length) {
      if (this.slabs.length >= this.keepSlabs) return Buffer.allocUnsafe(size);
      this.slabs.push(Buffer.allocUnsafeSlow(this.slabSize));
    }
    const buf = this.slabs[this.slab].subarray(this.offset, this.offset + size);
    this.offset += (size + 7) & ~7;
    return buf;
  }

  /** Everything alloc() returned since the last recycle() may be overwritten from now on. */
  recycle(): void {
    this.slab = 0;
    this.offset = 0;
  }
}
