/**
 * The input half every RecordConn shares: a RecordReader over transient chunks (the
 * shared read buffer), frames copied into `allocate`'s memory and control records into
 * memory of their own (they may outlive a tick), and the handlers' calls per chunk.
 */
import { ElError, RecordReader, RecordType, type PayloadAllocator } from '@elink/protocol';
import type { RecordHandlers } from './record-conn.js';

const own: PayloadAllocator = (_type, size) => Buffer.allocUnsafe(size);

export class RecordInput {
  readonly reader: RecordReader;
  handlers: RecordHandlers | undefined;
  private failed = false;

  constructor(allocate: PayloadAllocator = own) {
    const memory: PayloadAllocator = allocate === own ? own : (type, size) => (type === RecordType.CONTROL ? Buffer.allocUnsafe(size) : allocate(type, size));
    this.reader = new RecordReader((type, payload) => this.handlers!.onRecord(type, payload), memory, { transientChunks: true });
  }

  /** One chunk read; valid only during the call. */
  push(chunk: Buffer): void {
    const h = this.handlers;
    if (h === undefined || this.failed) return;
    let err: ElError | undefined;
    try {
      err = this.reader.push(chunk);
    } catch (e) {
      err = this.reader.fail(e instanceof ElError ? e : new ElError('EL_ERR_INTERNAL', `record handler failed: ${(e as Error)?.message ?? String(e)}`));
    }
    if (err) {
      this.failed = true;
      h.onError(err);
      return;
    }
    h.onReadEnd?.();
  }
}
