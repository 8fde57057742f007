/**
 * The input half every RecordConn shares: a RecordReader over transient chunks (the
 * shared read buffer), frames copied into `allocate`'s memory and control records into
 * memory of their own (they may outlive a tick), and the handlers' calls per chunk.
 */
import { ElError, RecordReader, RecordType, type PayloadAllocator } from '@elink/protocol';
import type { RecordHandlers } from './record-conn.js';

const own: PayloadAllocator = (_type, size) => Buffer.allocUnsafe(size);

/** `allocate` for frames, memory of their own for control records: one such function per
 * allocator (a node has one), not a closure per connection. */
const withOwnControl = new WeakMap<PayloadAllocator, PayloadAllocator>();
function framesFrom(allocate: PayloadAllocator): PayloadAllocator {
  if (allocate === own) return own;
  let memory = withOwnControl.get(allocate);
  if (!memory) withOwnControl.set(allocate, (memory = (type, size) => (type === RecordType.CONTROL ? Buffer.allocUnsafe(size) : allocate(type, size))));
  return memory;
}

export class RecordInput {
  readonly reader: RecordReader;
  handlers: RecordHandlers | undefined;
  private failed = false;
  private stopped = false;

  constructor(allocate: PayloadAllocator = own) {
    const memory = framesFrom(allocate);
    this.reader = new RecordReader((type, payload) => this.handlers!.onRecord(type, payload), memory, { transientChunks: true });
  }

  /** One chunk read; valid only during the call. */
  push(chunk: Buffer): void {
    if (this.pushPart(chunk)) this.handlers!.onReadEnd?.();
  }

  /** Part of a chunk read (a WebSocket frame's payload), valid only during the call;
   * readEnd() follows once the whole chunk is consumed. False once failed or stopped. */
  pushPart(chunk: Buffer): boolean {
    const h = this.handlers;
    if (h === undefined || this.failed) return false;
    let err: ElError | undefined;
    try {
      err = this.reader.push(chunk);
    } catch (e) {
      err = this.reader.fail(e instanceof ElError ? e : new ElError('EL_ERR_INTERNAL', `record handler failed: ${(e as Error)?.message ?? String(e)}`));
    }
    if (this.stopped) return false;
    if (err) {
      this.failed = true;
      h.onError(err);
      return false;
    }
    return true;
  }

  /** The chunk whose parts went to pushPart() is consumed. */
  readEnd(): void {
    if (this.handlers !== undefined && !this.failed && !this.stopped) this.handlers.onReadEnd?.();
  }

  /** Input broke the carrier's own protocol (WebSocket framing): `err` to onError, and
   * nothing after it is delivered. */
  fail(err: ElError): void {
    if (this.failed || this.stopped) return;
    this.failed = true;
    this.reader.fail(err);
    this.handlers?.onError(err);
  }

  /** The conn was destroyed: no record after this one is delivered, not even from the
   * chunk being read. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.reader.fail(new ElError('EL_ERR_UNAVAILABLE', 'connection destroyed'));
  }
}
