// The port contract (@elink/transport's describeQueueContract: ordering, batching per tick,
// bounded queue and drop reasons, slow-peer stall, close) over the switch's own ports: the
// memory port, a session's output on the memory RecordConn pair and on real TLS, and the
// device port on a real TAP and a real TUN (root; skipped only outside CI).
import { RecordType } from '@elink/protocol';
import { type QueueOptions, type RecordConn, type RecordHandlers } from '@elink/transport';
import { disableIpv6, kernelSkipReason, uniqueName } from '../../../tuntap/src/test-support.js';
import { taggedPayload, tagOf, until } from '../../../transport/src/test-frames.js';
import { describeQueueContract, type QueueHarness } from '../../../transport/src/test-queue-contract.js';
import { IcmpEchoPeer } from '../../../transport/src/test-echo-device.js';
import { memoryWriterHarness } from '../../../transport/src/test-memory-writer-harness.js';
import { memoryConnSides, recordWriterHarness, tlsConnSides, type ConnSides } from '../../../transport/src/test-record-writer-harness.js';
import { DevicePort } from './device-port.js';
import { OutputQueue } from '@elink/transport';
import { ipv4Number, Proto41Socket } from '@elink/tuntap';
import { SixInFourWriter } from '../dtcp/six-in-four.js';
import { MemoryPort } from './memory-port.js';
import { sessionOutput } from './session.js';

/** The contract's options, typed against this package's view of @elink/transport (the same
 * module at run time; the type checker sees the built declarations here, the sources there). */
type Opts = QueueOptions & { onStalled: () => void };
const asOpts = (o: unknown): Opts => o as Opts;

if (process.env.CI === 'true' && kernelSkipReason) throw new Error(`CI=true but the device ports cannot be tested: ${kernelSkipReason}`);

describeQueueContract('MemoryPort', async (o) => {
  const opts = asOpts(o);
  const port = new MemoryPort('m', opts, opts.onStalled);
  // The same MemoryWriter at run time; the type checker sees two declarations (see Opts).
  return memoryWriterHarness(port.output, port.writer as unknown as Parameters<typeof memoryWriterHarness>[1]);
});

/** Counts the writes a session's output makes on `conn` (the harness's filler goes around it). */
class CountingConn implements RecordConn {
  writes = 0;
  constructor(private readonly inner: RecordConn) {}
  get peer(): string {
    return this.inner.peer;
  }
  get remoteAddress(): string | undefined {
    return this.inner.remoteAddress;
  }
  get remotePort(): number | undefined {
    return this.inner.remotePort;
  }
  get destroyed(): boolean {
    return this.inner.destroyed;
  }
  start(handlers: RecordHandlers): void {
    this.inner.start(handlers);
  }
  accept(type: number, maxPayload: number): void {
    this.inner.accept(type, maxPayload);
  }
  write(batch: Buffer, done?: (err?: Error | null) => void): void {
    this.writes++;
    this.inner.write(batch, done);
  }
  writesThrough(): boolean {
    return this.inner.writesThrough();
  }
  backlog(): number {
    return this.inner.backlog();
  }
  end(last?: Buffer): void {
    this.inner.end(last);
  }
  destroy(): void {
    this.inner.destroy();
  }
}

/** The session's output (sessionOutput: what Session sends by) on `sides.writer`; the far side
 * reads and tags frames, the stall helper fills the conn (transport's record-writer harness). */
function sessionOutputHarness(sides: ConnSides, opts: Opts): QueueHarness {
  const base = recordWriterHarness(sides, opts as Parameters<typeof recordWriterHarness>[1]);
  const counting = new CountingConn(sides.writer);
  const queue = sessionOutput(counting, opts, opts.onStalled);
  return {
    ...base,
    queue,
    writes: () => counting.writes,
    close: async () => {
      queue.close();
      await base.close();
    },
  };
}

describeQueueContract('session port on the memory RecordConn pair', async (o) => sessionOutputHarness(memoryConnSides(), asOpts(o)));

describeQueueContract('session port on TLS (the switch side of an accepted connection)', async (o) => sessionOutputHarness(await tlsConnSides('server'), asOpts(o)));

// Device ports: each frame an ICMP echo request the kernel answers (transport's
// test-echo-device.ts); the reply, read by the port (DevicePort.start → forward), counts.
function devicePortHarness(mode: 'tap' | 'tun', opts: QueueOptions): QueueHarness {
  const peer = new IcmpEchoPeer(mode, mode === 'tap' ? '198.19.249' : '198.19.250', 0xf9, 0x4c52);
  const port = DevicePort.open({ mode, name: uniqueName('elpc'), mtu: 1500, scheduler: opts.scheduler, ...(opts.maxFrames ? { maxFrames: opts.maxFrames } : {}), ...(opts.maxBytes ? { maxBytes: opts.maxBytes } : {}) });
  try {
    if (port.kind !== mode) throw new Error(`a ${mode} device port says it is a ${port.kind}`);
    if (mode === 'tap') {
      port.device.setUp(false);
      port.device.setMac(peer.devMac);
      port.device.setUp(true);
    }
    disableIpv6(port.name);
    peer.address(port.name);
  } catch (e) {
    port.close();
    throw e;
  }
  let writes = 0;
  const flush = port.output.flush.bind(port.output);
  // Counted where the queue hands a tick to the DeviceWriter: one writeMany batch.
  port.output.flush = () => {
    if (port.output.queued > 0) writes++;
    flush();
  };
  port.start({ forward: (p: Buffer) => peer.read(p) }, () => {});
  return {
    queue: port.output,
    writes: () => writes,
    frame: (tag) => peer.frame(tag),
    received: (count) => peer.received(count),
    control: false,
    refusedFrame: () => peer.refusedFrame(),
    close: async () => port.close(),
  };
}

describeQueueContract('DevicePort on a real TAP', async (o) => devicePortHarness('tap', asOpts(o)), kernelSkipReason);
describeQueueContract('DevicePort on a real TUN', async (o) => devicePortHarness('tun', asOpts(o)), kernelSkipReason);

// A 6in4 tunnel port (dtcp/six-in-four.ts): its queue and sendmmsg writer on a raw protocol-41
// socket, to a client end bound and connected on loopback addresses of its own; the frame
// arrived when that end reads it. The kernel refuses a packet beyond an IPv4 datagram's size.
describeQueueContract(
  '6in4 tunnel port on a real raw protocol-41 socket',
  async (o) => {
    const opts = asOpts(o);
    const [server, client] = ['127.0.41.21', '127.0.41.20'];
    const tags: number[] = [];
    const far = Proto41Socket.open({ local: client, remote: server }, (slab, meta, count) => {
      for (let i = 0; i < count; i++) tags.push(tagOf(slab.subarray(meta[4 * i] + 40, meta[4 * i] + meta[4 * i + 1])));
    }, () => {});
    const near = Proto41Socket.open({}, () => {}, () => {});
    let writes = 0;
    const writer = new SixInFourWriter(near, ipv4Number(client), ipv4Number(server));
    const write = writer.write.bind(writer);
    writer.write = (types, payloads, bytes) => {
      writes++;
      return write(types, payloads, bytes);
    };
    const queue = new OutputQueue(writer, opts, opts.onStalled);
    return {
      queue,
      writes: () => writes,
      frame: (tag) => {
        const p = Buffer.concat([Buffer.alloc(40), taggedPayload(tag, 48)]);
        p[0] = 0x60;
        p.writeUInt16BE(48, 4);
        p[6] = 59;
        return p;
      },
      received: async (count) => {
        await until(() => tags.length >= count, `${count} packets at the client end (have ${tags.length})`);
        return tags.slice();
      },
      control: false,
      refusedFrame: () => Buffer.alloc(70_000, 0x60),
      close: async () => {
        queue.close();
        near.close();
        far.close();
      },
    };
  },
  kernelSkipReason,
);
