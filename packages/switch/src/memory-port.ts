/**
 * An in-memory port for forwarding tests (as wireguard-go's tuntest): it goes
 * through the same bounded queue and per-tick flush as a session, then decodes
 * the batch it "wrote" and keeps the frames it received.
 */
import { MAX_RECORD_PAYLOAD, RecordReader, RecordType } from '@elink/protocol';
import { QueuedPort, type QueueOptions } from './port.js';

export class MemoryPort extends QueuedPort {
  readonly kind = 'memory' as const;
  /** Frames received, in order (copies: they outlive the tick). */
  readonly received: Buffer[] = [];
  /** Writes seen: one per tick in which something was queued. */
  writes = 0;
  stalls = 0;
  private fakeBacklog = 0;
  private readonly reader = new RecordReader((type, payload) => {
    if (type === RecordType.FRAME) this.received.push(Buffer.from(payload));
  })
    .accept(RecordType.FRAME, MAX_RECORD_PAYLOAD)
    .accept(RecordType.CONTROL, MAX_RECORD_PAYLOAD);

  constructor(name = 'mem', opts?: QueueOptions) {
    super(name, opts);
  }

  /** Pretends the writer holds `bytes` unsent bytes (to exercise slow-peer logic). */
  setBacklog(bytes: number): void {
    this.fakeBacklog = bytes;
  }

  protected writeBatch(batch: Buffer): void {
    this.writes++;
    this.reader.push(batch);
  }

  protected backlog(): number {
    return this.fakeBacklog;
  }

  protected override onStalled(): void {
    this.stalls++;
  }
}

/** Resolves after the flush scheduled in this tick has run. */
export function nextTick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
