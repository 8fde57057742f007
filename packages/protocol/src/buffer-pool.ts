/**
 * Reused memory for record payloads and writes, without I/O: the record reader stages
 * records that span chunks here, and the transports (@elink/transport) build writes in it.
 */

/**
 * Up to this size a write or staging buffer is a slice of Node's shared Buffer pool (no
 * ArrayBuffer of its own, nothing to give back); above it, reused memory of ours. Fixed,
 * not `Buffer.poolSize / 2`: Node 24 made the pool 64 KiB, and slicing up to 32 KiB from
 * it would send mid-size writes through fresh pool memory instead of the reused buffers.
 */
export const SMALL_BUFFER = 4 * 1024;

/**
 * Buffers for writes a stream holds on to (a busy socket queues the chunk until its
 * earlier write is done): taken here, given back from the write's callback, when the
 * bytes are surely copied. Size classes (default 64 KiB … 2 MiB; allocUnsafeSlow, so no
 * class buffer is a slice of Node's shared pool); at most `keep` free buffers per
 * class stay pooled (the rest are left to the GC), so the pool is bounded.
 */
export class BufferPool {
  private readonly free: Buffer[][];

  constructor(
    private readonly keep = 8,
    private readonly classes: readonly number[] = [64 * 1024, 256 * 1024, 1024 * 1024, 2 * 1024 * 1024],
  ) {
    this.free = classes.map(() => []);
  }

  /** A buffer of at least `size` bytes; undefined when `size` is above the largest class. */
  take(size: number): Buffer | undefined {
    const c = this.classes.findIndex((n) => n >= size);
    if (c < 0) return undefined;
    return this.free[c].pop() ?? Buffer.allocUnsafeSlow(this.classes[c]);
  }

  /** Gives back a buffer from take(); the caller must not touch it afterwards. Buffers
   * of other sizes are ignored. */
  give(buf: Buffer): void {
    const c = this.classes.indexOf(buf.length);
    if (c >= 0 && this.free[c].length < this.keep) this.free[c].push(buf);
  }
}
