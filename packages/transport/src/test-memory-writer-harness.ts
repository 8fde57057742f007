// Test helper: the port-writer contract's harness for a queue over a MemoryWriter (the bare
// OutputQueue here, the switch's MemoryPort there). Not part of the package build.
import { RecordType } from '@elink/protocol';
import type { MemoryWriter } from './memory-writer.js';
import { taggedPayload, tagOf, until } from './test-frames.js';
import type { QueueHarness, QueueUnderTest } from './test-queue-contract.js';

/** `queue` writes to `w`; `w` refuses 1-byte frames (standing in for a frame a device
 * rejects) and fakes its backlog for the stall. */
export function memoryWriterHarness(queue: QueueUnderTest, w: MemoryWriter): QueueHarness {
  w.refuse = (_type, payload) => payload.length === 1;
  const tags = () => w.records.filter((r) => r.type === RecordType.FRAME).map((r) => tagOf(r.payload));
  return {
    queue,
    writes: () => w.writes.length,
    frame: (tag) => taggedPayload(tag),
    received: async (count) => {
      await until(() => tags().length >= count, `${count} frames`);
      return tags();
    },
    control: true,
    refusedFrame: () => Buffer.alloc(1),
    stall: async (bytes) => {
      w.fakeBacklog = bytes + 1;
    },
    unstall: async () => {
      w.fakeBacklog = 0;
    },
    close: async () => queue.close(),
  };
}
