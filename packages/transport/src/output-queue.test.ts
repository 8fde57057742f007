import { RecordType } from '@elink/protocol';
import { TunTapDevice } from '@elink/tuntap';
import { describe, expect, it } from 'vitest';
import { disableIpv6, ethernet, icmpEchoRequest, ip, kernelSkipReason, parseIcmpEcho, uniqueName } from '../../tuntap/src/test-support.js';
import { DeviceWriter } from './device-writer.js';
import { FlushScheduler } from './flush-scheduler.js';
import { memoryRecordConnPair } from './memory-record-conn.js';
import { MemoryWriter } from './memory-writer.js';
import { OutputQueue, type QueueOptions } from './output-queue.js';
import { taggedPayload, tagOf, until } from './test-frames.js';
import { describeQueueContract, type QueueHarness } from './test-queue-contract.js';
import { CountingWriter, recordWriterHarness } from './test-record-writer-harness.js';
import { pauseTls, resumeTls, tlsRecordConnPair } from './test-tls.js';

describeQueueContract('OutputQueue + MemoryWriter', async (opts) => {
  const w = new MemoryWriter();
  // Stands in for a frame a device rejects.
  w.refuse = (_type, payload) => payload.length === 1;
  const queue = new OutputQueue(w, opts, opts.onStalled);
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
});

describeQueueContract('OutputQueue + RecordWriter on the memory RecordConn pair', async (opts) => {
  const [a, b] = memoryRecordConnPair({ chunkSize: 1000 });
  return recordWriterHarness(
    {
      writer: a,
      reader: b,
      pauseReader: () => b.pauseReading(),
      resumeReader: () => b.resumeReading(),
      close: async () => {
        a.destroy();
        b.destroy();
      },
    },
    opts,
  );
});

describeQueueContract('OutputQueue + RecordWriter on TLS (the accepted side writes, as a switch session)', async (opts) => {
  const pair = await tlsRecordConnPair();
  return recordWriterHarness(
    { writer: pair.server, reader: pair.client, pauseReader: () => pauseTls(pair.client), resumeReader: () => resumeTls(pair.client), close: pair.close },
    opts,
  );
});

describeQueueContract('OutputQueue + RecordWriter on TLS (the connecting side writes, as a client)', async (opts) => {
  const pair = await tlsRecordConnPair();
  return recordWriterHarness(
    { writer: pair.client, reader: pair.server, pauseReader: () => pauseTls(pair.server), resumeReader: () => resumeTls(pair.server), close: pair.close },
    opts,
  );
});

// Devices: each frame is an ICMP echo request to the device's own address; the kernel's
// echo reply (same payload) read back from the device is the frame having arrived.
const ECHO_ID = 0x4c51;

function deviceHarness(mode: 'tap' | 'tun', opts: QueueOptions & { onStalled: () => void }): QueueHarness {
  const net = mode === 'tap' ? '198.19.251' : '198.19.252';
  const devIp = `${net}.1`;
  const peerIp = `${net}.2`;
  const devMac = Buffer.from([0x02, 0xe1, 0x00, 0xfb, 0x00, 0x01]);
  const peerMac = Buffer.from([0x02, 0xe1, 0x00, 0xfb, 0x00, 0x02]);
  const device = TunTapDevice.open({ mode, name: uniqueName('eltq'), mtu: 1500, ...(mode === 'tap' ? { mac: '02:e1:00:fb:00:01' } : {}) });
  try {
    disableIpv6(device.name);
    device.setUp(true);
    ip('addr', 'add', `${devIp}/24`, 'dev', device.name);
    // The kernel's replies go straight to the peer's MAC, without asking by ARP first.
    if (mode === 'tap') ip('neigh', 'replace', peerIp, 'lladdr', '02:e1:00:fb:00:02', 'dev', device.name, 'nud', 'permanent');
  } catch (e) {
    device.close();
    throw e;
  }
  const tags: number[] = [];
  device.on('packets', (packets: Buffer[]) => {
    for (const p of packets) {
      const packet = mode === 'tap' ? (p.length > 14 && p.readUInt16BE(12) === 0x0800 ? p.subarray(14) : undefined) : p;
      const echo = packet && parseIcmpEcho(packet);
      if (echo && echo.type === 0 && echo.id === ECHO_ID && echo.checksumsOk) tags.push(tagOf(echo.payload));
    }
  });
  const counting = new CountingWriter(new DeviceWriter(device));
  const queue = new OutputQueue(counting, opts, opts.onStalled);
  return {
    queue,
    writes: () => counting.calls,
    frame: (tag) => {
      const request = icmpEchoRequest(peerIp, devIp, ECHO_ID, tag + 1, taggedPayload(tag, 48));
      return mode === 'tap' ? ethernet(devMac, peerMac, 0x0800, request) : request;
    },
    received: async (count) => {
      await until(() => tags.length >= count, `${count} echo replies (have ${tags.length})`);
      return tags.slice();
    },
    control: false,
    // The kernel rejects (EINVAL) a TAP frame shorter than an Ethernet header and a TUN
    // packet that is neither IPv4 nor IPv6.
    refusedFrame: () => Buffer.alloc(mode === 'tap' ? 6 : 20),
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
