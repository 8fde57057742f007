import { RecordType } from '@elink/protocol';
import { TunTapDevice } from '@elink/tuntap';
import { describe, expect, it } from 'vitest';
import { disableIpv6, kernelSkipReason, uniqueName } from '../../tuntap/src/test-support.js';
import { DeviceWriter } from './device-writer.js';
import { FlushScheduler } from './flush-scheduler.js';
import { MemoryWriter } from './memory-writer.js';
import { OutputQueue, type QueueOptions } from './output-queue.js';
import { taggedPayload, tagOf, until } from './test-frames.js';
import { describeQueueContract, type QueueHarness } from './test-queue-contract.js';
import { IcmpEchoPeer } from './test-echo-device.js';
import { memoryWriterHarness } from './test-memory-writer-harness.js';
import { CountingWriter, memoryConnSides, recordWriterHarness, tlsConnSides } from './test-record-writer-harness.js';

describeQueueContract('OutputQueue + MemoryWriter', async (opts) => {
  const w = new MemoryWriter();
  return memoryWriterHarness(new OutputQueue(w, opts, opts.onStalled), w);
});

describeQueueContract('OutputQueue + RecordWriter on the memory RecordConn pair', async (opts) => recordWriterHarness(memoryConnSides(), opts));

describeQueueContract('OutputQueue + RecordWriter on TLS (the accepted side writes, as a switch session)', async (opts) => recordWriterHarness(await tlsConnSides('server'), opts));

describeQueueContract('OutputQueue + RecordWriter on TLS (the connecting side writes, as a client)', async (opts) => recordWriterHarness(await tlsConnSides('client'), opts));

// Devices: each frame an ICMP echo request the kernel answers (test-echo-device.ts).
function deviceHarness(mode: 'tap' | 'tun', opts: QueueOptions & { onStalled: () => void }): QueueHarness {
  const peer = new IcmpEchoPeer(mode, mode === 'tap' ? '198.19.251' : '198.19.252', 0xfb, 0x4c51);
  const device = TunTapDevice.open({ mode, name: uniqueName('eltq'), mtu: 1500, ...(mode === 'tap' ? { mac: peer.devMac } : {}) });
  try {
    disableIpv6(device.name);
    device.setUp(true);
    peer.address(device.name);
  } catch (e) {
    device.close();
    throw e;
  }
  device.on('packets', (packets: Buffer[]) => {
    for (const p of packets) peer.read(p);
  });
  const counting = new CountingWriter(new DeviceWriter(device));
  const queue = new OutputQueue(counting, opts, opts.onStalled);
  return {
    queue,
    writes: () => counting.calls,
    frame: (tag) => peer.frame(tag),
    received: (count) => peer.received(count),
    control: false,
    refusedFrame: () => peer.refusedFrame(),
    close: async () => {
      queue.close();
      device.close();
    },
  };
}

describeQueueContract('OutputQueue + DeviceWriter on a real TAP', async (opts) => deviceHarness('tap', opts), kernelSkipReason);
describeQueueContract('OutputQueue + DeviceWriter on a real TUN', async (opts) => deviceHarness('tun', opts), kernelSkipReason);

describe('OutputQueue', () => {
  it('wants to flush now while the writer is idle or a quarter of the tick is used, else waits for the tick', () => {
    const w = new MemoryWriter();
    const q = new OutputQueue(w, { maxFrames: 8, scheduler: new FlushScheduler() });
    q.push(RecordType.FRAME, taggedPayload(1));
    expect(q.wantsFlushNow()).toBe(true);
    w.fakeBacklog = 100;
    expect(q.wantsFlushNow()).toBe(false);
    q.push(RecordType.FRAME, taggedPayload(2));
    expect(q.wantsFlushNow()).toBe(true); // 2 of 8
    q.close();
  });

  it('without onStalled arms no stall timer, and counts every slow_peer drop', async () => {
    const w = new MemoryWriter();
    w.fakeBacklog = 10;
    const q = new OutputQueue(w, { highWaterBytes: 5, writeTimeoutMs: 1, scheduler: new FlushScheduler() });
    for (let i = 0; i < 3; i++) expect(q.push(RecordType.FRAME, taggedPayload(i))).toBe(false);
    expect(q.drops.slow_peer).toBe(3);
    await new Promise((r) => setTimeout(r, 10));
    w.fakeBacklog = 0;
    expect(q.push(RecordType.FRAME, taggedPayload(3))).toBe(true);
    q.close();
  });

  it('keeps records a writer pushed while writing (they leave with the next flush)', () => {
    const scheduler = new FlushScheduler();
    const w = new MemoryWriter();
    let q: OutputQueue | undefined = undefined;
    let pushedBack = false;
    const reentrant = {
      write(types: readonly number[], payloads: readonly Buffer[], bytes: number): number {
        if (!pushedBack) {
          pushedBack = true;
          q!.push(RecordType.FRAME, taggedPayload(99));
        }
        return w.write(types, payloads, bytes);
      },
      backlog: () => 0,
    };
    q = new OutputQueue(reentrant, { scheduler });
    q.push(RecordType.FRAME, taggedPayload(1));
    q.flush();
    expect(q.queued).toBe(1);
    q.flush();
    expect(w.records.map((r) => tagOf(r.payload))).toEqual([1, 99]);
    q.close();
  });
});
