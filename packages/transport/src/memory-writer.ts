/**
 * A writer that keeps what it is given (tests, in-process ports): each write as a list
 * of decoded records (payloads copied: the queue's are only valid during the call), a
 * settable fake backlog, and an optional number of records to refuse (a full device).
 */
import type { Writer } from './writer.js';

export interface WrittenRecord {
  type: number;
  payload: Buffer;
}

export class MemoryWriter implements Writer {
  /** One entry per write() call, the records in order. */
  readonly writes: WrittenRecord[][] = [];
  /** What backlog() reports (a socket that holds this many unsent bytes). */
  fakeBacklog = 0;
  /** Records the next writes refuse (from the end of each batch), counted down. */
  refuseNext = 0;
  /** At most this many writes are kept (the oldest are forgotten): bounded like everything. */
  constructor(private readonly keep = 10_000) {}

  write(types: readonly number[], payloads: readonly Buffer[], _bytes: number): number {
    const refused = Math.min(this.refuseNext, payloads.length);
    this.refuseNext -= refused;
    const batch: WrittenRecord[] = [];
    for (let i = 0; i < payloads.length - refused; i++) batch.push({ type: types[i], payload: Buffer.from(payloads[i]) });
    this.writes.push(batch);
    if (this.writes.length > this.keep) this.writes.shift();
    return refused;
  }

  backlog(): number {
    return this.fakeBacklog;
  }

  /** Every record written, in order. */
  get records(): WrittenRecord[] {
    return this.writes.flat();
  }
}
