import { ElError } from './errors.js';
import { HEADER_LENGTH } from './records.js';
import { BufferPool, SMALL_BUFFER } from './buffer-pool.js';

/** Called once per complete record. `payload` is a view into the chunk when the
 * record arrived whole (zero-copy), or memory from the reader's `allocate` (default: a
 * buffer of its own) when it spanned chunks or chunks are transient. Views stay valid
 * after the callback (such chunks are never reused); allocated memory as long as its
 * owner says. */
export type RecordHandler = (type: number, payload: Buffer) => void;

/** Memory for a record the reader copies: `type` lets the owner keep, e.g., control
 * records out of memory that it recycles. */
export type PayloadAllocator = (type: number, size: number) => Buffer;

const allocOwn: PayloadAllocator = (_type, size) => Buffer.allocUnsafe(size);

export interface RecordReaderOptions {
  /** Chunks are valid only during push() (a socket reading into one reused buffer):
   * every record is copied into memory from the allocator, and a record spanning
   * chunks is staged meanwhile in a pooled buffer. Default false: chunks are never
   * changed after push(), so records that arrive whole are handed on as views. */
  transientChunks?: boolean;
}

/** Staging for records that span transient chunks (at most 64 KiB each). */
/** Records up to this long are copied out of a transient chunk with a loop, not through a
 * view: no garbage, and as fast up to here (Node 24 here: 50 against 59 ns at 48 bytes, 68
 * against 70 at 80; the loop loses beyond: 76 against 60 at 96, 160 against 69 at 256). */
const SMALL_COPY = 80;
const stagingPool = new BufferPool(64, [16 * 1024, 64 * 1024]);

/** Staging memory for `size` bytes: up to 4 KiB a slice of Node's Buffer pool, else a
 * pooled buffer (given back by unstage). */
function stage(size: number): Buffer {
  return size <= SMALL_BUFFER ? Buffer.allocUnsafe(size) : (stagingPool.take(size) ?? Buffer.allocUnsafe(size));
}

function unstage(buf: Buffer): void {
  stagingPool.give(buf);
}

const UNKNOWN = -1;

/**
 * Splits a byte stream into EL records (see records.ts for the layout).
 *
 * An incremental state machine: chunks may end anywhere (inside the header or the
 * payload) and may hold many records. Every limit is explicit: a record type must be
 * enabled with `accept(type, maxPayload)` before it is read, and a header announcing
 * a longer payload fails *before* any of it is buffered. On the first violation
 * `push` returns a coded ElError and the reader ignores all further input; it never
 * throws for bad input.
 */
export class RecordReader {
  // A plain array and a pooled slice, not an Int32Array and Buffer.alloc: those are an
  // ArrayBuffer each, malloc'd and tracked by the GC, twice per connection. The limits by
  // type only up to the highest type accepted (a type beyond is unknown): a handful of
  // entries, not 256 (2 KiB per connection, most of a reader, kept as long as the session).
  private readonly limits: number[] = [];
  private readonly header = Buffer.allocUnsafe(HEADER_LENGTH).fill(0);
  private headerFill = 0;
  // A record spanning chunks: views of its parts (chunks are never reused, so holding
  // views is safe), copied into one buffer only once complete, so `allocate` is asked
  // for memory only at the moment the record is handed on.
  private readonly parts: Buffer[] = [];
  // The same with transient chunks: the bytes so far, copied. Sized by what has arrived
  // (at most 4× it, growing as more arrives), not by the length the header announces:
  // a peer that sends a header and one byte gets no 64 KiB held for it.
  private staging: Buffer | undefined;
  private pendingLength = -1;
  private pendingType = 0;
  private pendingFill = 0;
  private failure: ElError | undefined;

  private readonly transient: boolean;

  constructor(
    private readonly onRecord: RecordHandler,
    private readonly allocate: PayloadAllocator = allocOwn,
    opts: RecordReaderOptions = {},
  ) {
    this.transient = opts.transientChunks ?? false;
  }

  /** Allows records of `type` with payloads up to `maxPayload` bytes. */
  accept(type: number, maxPayload: number): this {
    if (!Number.isInteger(type) || type < 0 || type > 0xff) throw new ElError('EL_ERR_INTERNAL', `record type ${type} is not a byte`);
    const limits = this.limits;
    while (limits.length <= type) limits.push(UNKNOWN);
    limits[type] = maxPayload;
    return this;
  }

  /** Stops accepting `type`: such a record now fails as unknown. */
  refuse(type: number): this {
    if (type >= 0 && type < this.limits.length) this.limits[type] = UNKNOWN;
    return this;
  }

  get failed(): ElError | undefined {
    return this.failure;
  }

  /** Bytes of an incomplete record held between chunks. */
  get buffered(): number {
    return this.headerFill + this.pendingFill;
  }

  /** Memory held for the record in progress with transient chunks (its staging buffer). */
  get staged(): number {
    return this.staging?.length ?? 0;
  }

  push(chunk: Buffer): ElError | undefined {
    if (this.failure) return this.failure;
    const end = chunk.length;
    let off = 0;
    while (off < end) {
      if (this.pendingLength >= 0) {
        const need = this.pendingLength - this.pendingFill;
        const take = Math.min(need, end - off);
        this.stash(chunk, off, off + take);
        this.pendingFill += take;
        off += take;
        if (this.pendingFill === this.pendingLength) {
          const payload = this.assemble();
          this.pendingLength = -1;
          this.pendingFill = 0;
          this.onRecord(this.pendingType, payload);
          // As below: a handler may have failed the reader; nothing after it may be emitted.
          if (this.failure) return this.failure;
        }
        continue;
      }

      let type: number;
      let length: number;
      if (this.headerFill === 0 && end - off >= HEADER_LENGTH) {
        type = chunk[off];
        length = (chunk[off + 1] << 8) | chunk[off + 2];
        off += HEADER_LENGTH;
      } else {
        while (this.headerFill < HEADER_LENGTH && off < end) this.header[this.headerFill++] = chunk[off++];
        if (this.headerFill < HEADER_LENGTH) return undefined;
        this.headerFill = 0;
        type = this.header[0];
        length = (this.header[1] << 8) | this.header[2];
      }

      const limit = type < this.limits.length ? this.limits[type] : UNKNOWN;
      if (limit === UNKNOWN) return this.fail(new ElError('EL_ERR_UNKNOWN_RECORD', `unknown record type 0x${type.toString(16).padStart(2, '0')}`));
      if (length > limit) return this.fail(new ElError('EL_ERR_RECORD_TOO_LONG', `record type 0x${type.toString(16).padStart(2, '0')} of ${length} bytes exceeds the limit of ${limit}`));

      if (end - off >= length) {
        let payload: Buffer;
        if (this.transient) {
          payload = this.allocate(type, length);
          // A small record (an ACK, ARP) byte by byte: no view of the chunk per record
          // (issue 14: less garbage per small packet).
          if (length <= SMALL_COPY) for (let i = 0; i < length; i++) payload[i] = chunk[off + i];
          else payload.set(chunk.subarray(off, off + length));
        } else payload = chunk.subarray(off, off + length);
        off += length;
        this.onRecord(type, payload);
      } else {
        this.pendingLength = length;
        this.pendingType = type;
        this.pendingFill = 0;
        if (this.transient) this.staging = stage(Math.min(length, 4 * (end - off)));
        this.stash(chunk, off, end);
        this.pendingFill = end - off;
        off = end;
      }
      // A handler may have failed the reader (e.g. a bad control message): stop at once.
      if (this.failure) return this.failure;
    }
    return undefined;
  }

  /** Keeps bytes [from, to) of `chunk` of the record in progress (at pendingFill). */
  private stash(chunk: Buffer, from: number, to: number): void {
    if (!this.staging) {
      this.parts.push(chunk.subarray(from, to));
      return;
    }
    const need = this.pendingFill + (to - from);
    if (need > this.staging.length) {
      const bigger = stage(Math.min(this.pendingLength, Math.max(need, 4 * this.staging.length)));
      this.staging.copy(bigger, 0, 0, this.pendingFill);
      unstage(this.staging);
      this.staging = bigger;
    }
    chunk.copy(this.staging, this.pendingFill, from, to);
  }

  /** The completed record in progress, copied once into memory from the allocator. */
  private assemble(): Buffer {
    const payload = this.allocate(this.pendingType, this.pendingLength);
    if (this.staging) {
      this.staging.copy(payload, 0, 0, this.pendingLength);
      unstage(this.staging);
      this.staging = undefined;
      return payload;
    }
    let at = 0;
    for (let i = 0; i < this.parts.length; i++) {
      payload.set(this.parts[i], at);
      at += this.parts[i].length;
    }
    this.parts.length = 0;
    return payload;
  }

  /** Marks the stream as broken: further input is ignored. Also for callers that
   * find a record invalid at a higher layer. */
  fail(err: ElError): ElError {
    this.failure ??= err;
    this.parts.length = 0;
    if (this.staging) unstage(this.staging);
    this.staging = undefined;
    this.pendingLength = -1;
    this.pendingFill = 0;
    this.headerFill = 0;
    return this.failure;
  }
}
