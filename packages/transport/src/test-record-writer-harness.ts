// Test helper: the port-writer contract's harness for a RecordWriter on a RecordConn
// (TLS or memory). Not part of the package build.
import { encodeRecord, MAX_CONTROL_PAYLOAD, MAX_RECORD_PAYLOAD, RecordType } from '@elink/protocol';
import { OutputQueue, type QueueOptions } from './output-queue.js';
import { memoryRecordConnPair } from './memory-record-conn.js';
import type { RecordConn } from './record-conn.js';
import { RecordWriter } from './record-writer.js';
import { nextTurn, taggedPayload, tagOf, until } from './test-frames.js';
import type { QueueHarness } from './test-queue-contract.js';
import { pauseTls, resumeTls, tlsRecordConnPair } from './test-tls.js';
import type { Writer } from './writer.js';

/** Counts write() calls on the way to a real writer. */
export class CountingWriter implements Writer {
  calls = 0;
  readonly framesOnly: boolean | undefined;
  constructor(readonly inner: Writer) {
    this.framesOnly = inner.framesOnly;
  }
  write(types: readonly number[], payloads: readonly Buffer[], bytes: number): number {
    this.calls++;
    return this.inner.write(types, payloads, bytes);
  }
  backlog(): number {
    return this.inner.backlog();
  }
}

/** Filler the stall helper writes straight to the conn; the receiver skips it. */
const FILLER = 0xffffffff;

export interface ConnSides {
  /** The side the queue writes on. */
  writer: RecordConn;
  /** The far side, which reads. */
  reader: RecordConn;
  pauseReader(): void;
  resumeReader(): void;
  close(): Promise<void>;
}

/** The memory RecordConn pair (chunks of at most 1,000 bytes): one side writes, the other reads. */
export function memoryConnSides(): ConnSides {
  const [a, b] = memoryRecordConnPair({ chunkSize: 1000 });
  return {
    writer: a,
    reader: b,
    pauseReader: () => b.pauseReading(),
    resumeReader: () => b.resumeReading(),
    close: async () => {
      a.destroy();
      b.destroy();
    },
  };
}

/** A TLS pair on loopback; `writes`: the side the queue writes on (the accepted side, as a
 * switch session; the connecting side, as a client). */
export async function tlsConnSides(writes: 'server' | 'client'): Promise<ConnSides> {
  const pair = await tlsRecordConnPair();
  const [writer, reader] = writes === 'server' ? [pair.server, pair.client] : [pair.client, pair.server];
  return { writer, reader, pauseReader: () => pauseTls(reader), resumeReader: () => resumeTls(reader), close: pair.close };
}

export function recordWriterHarness(sides: ConnSides, opts: QueueOptions & { onStalled: () => void }): QueueHarness {
  const { writer: conn, reader } = sides;
  const tags: number[] = [];
  const errors: Error[] = [];
  reader.accept(RecordType.FRAME, MAX_RECORD_PAYLOAD);
  reader.accept(RecordType.CONTROL, MAX_CONTROL_PAYLOAD);
  reader.start({
    onRecord: (type, payload) => {
      if (type !== RecordType.FRAME) return;
      const tag = tagOf(payload);
      if (tag !== FILLER) tags.push(tag);
    },
    onError: (err) => errors.push(err),
    onClose: () => {},
  });
  conn.start({ onRecord: () => {}, onError: (err) => errors.push(err), onClose: () => {} });
  const counting = new CountingWriter(new RecordWriter(conn));
  const queue = new OutputQueue(counting, opts, opts.onStalled);
  return {
    queue,
    writes: () => counting.calls,
    frame: (tag) => taggedPayload(tag, 100 + (tag % 7) * 200),
    received: async (count) => {
      await until(() => tags.length >= count || errors.length > 0, `${count} frames (have ${tags.length})`);
      if (errors.length > 0) throw errors[0];
      return tags.slice();
    },
    control: true,
    stall: async (bytes) => {
      sides.pauseReader();
      const filler = encodeRecord(RecordType.FRAME, taggedPayload(FILLER, 60_000));
      // Stuck = still above `bytes` a poll after the last write: the kernel's buffers are
      // full too, not just a write in flight.
      let stuckPolls = 0;
      await until(() => {
        if (conn.backlog() > bytes) return ++stuckPolls >= 3;
        stuckPolls = 0;
        for (let i = 0; i < 4; i++) conn.write(filler);
        return false;
      }, `a backlog above ${bytes} bytes`, 20_000);
      await nextTurn();
    },
    unstall: async () => {
      sides.resumeReader();
      await until(() => conn.backlog() === 0, 'the backlog to drain', 20_000);
    },
    close: async () => {
      queue.close();
      await sides.close();
    },
  };
}
