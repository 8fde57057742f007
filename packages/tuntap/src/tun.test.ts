import { afterEach, describe, expect, it } from 'vitest';
import { TunTapDevice } from './device.js';
import type { OpenOptions } from './options.js';
import {
  collectUntil,
  disableIpv6,
  icmpEchoRequest,
  ip,
  kernelSkipReason,
  parseIcmpEcho,
  sleep,
  uniqueName,
  waitForPacket,
} from './test-support.js';

const DEVICE_IP = '198.19.247.1';
const PEER_IP = '198.19.247.2';

/** Echo replies (from the device's address to the peer) among the packets. */
function replies(packets: Buffer[]) {
  return packets.map(parseIcmpEcho).filter((e): e is NonNullable<typeof e> => e !== undefined && e.type === 0 && e.src === DEVICE_IP && e.dst === PEER_IP);
}

const countReplies = (events: Buffer[][]) => events.reduce((n, e) => n + replies(e).length, 0);

/** A distinct payload per sequence number, so a reply can be matched to its request byte for byte. */
function payloadFor(seq: number, size: number): Buffer {
  const payload = Buffer.alloc(size);
  for (let i = 0; i < size; i++) payload[i] = (seq * 31 + i) & 0xff;
  return payload;
}

describe.skipIf(kernelSkipReason !== undefined)(`TUN device on the real kernel${kernelSkipReason ? ` (skipped: ${kernelSkipReason})` : ''}`, () => {
  let device: TunTapDevice | undefined;
  afterEach(() => {
    device?.close();
    device = undefined;
  });

  function openTun(extra: Partial<OpenOptions> = {}): TunTapDevice {
    device = TunTapDevice.open({ mode: 'tun', name: uniqueName(), ...extra });
    disableIpv6(device.name);
    device.setUp(true);
    ip('addr', 'add', `${DEVICE_IP}/24`, 'dev', device.name);
    return device;
  }

  it('creates a TUN interface (no link-layer address) that is up', () => {
    device = TunTapDevice.open({ mode: 'tun', name: uniqueName(), mtu: 1300, up: true });
    const [link] = JSON.parse(ip('-j', 'link', 'show', 'dev', device.name)) as Array<{ mtu: number; flags: string[]; link_type: string }>;
    expect(device.mode).toBe('tun');
    expect(link.mtu).toBe(1300);
    expect(link.flags).toContain('UP');
    expect(link.link_type).toBe('none');
  });

  it('receives the echo reply to an IPv4 ICMP echo request', async () => {
    const dev = openTun();
    const payload = Buffer.from('emotion link tun echo');
    const reply = waitForPacket(dev, (p) => replies([p])[0]);
    expect(dev.write(icmpEchoRequest(PEER_IP, DEVICE_IP, 0xbeef, 1, payload))).toBe(true);
    const echo = await reply;
    expect(echo).toMatchObject({ id: 0xbeef, seq: 1, checksumsOk: true });
    expect(echo.payload).toEqual(payload);
  });

  it('hands packets queued while paused to JS in batches on resume', async () => {
    const dev = openTun();
    dev.pause();
    for (let seq = 1; seq <= 20; seq++) {
      expect(dev.write(icmpEchoRequest(PEER_IP, DEVICE_IP, 1, seq, payloadFor(seq, 56)))).toBe(true);
    }
    await sleep(100); // let the kernel answer all 20 while nothing reads
    const collected = collectUntil(dev, (events) => countReplies(events) >= 20);
    dev.resume();
    const events = await collected;
    const withReplies = events.filter((e) => replies(e).length > 0);
    expect(withReplies.length).toBeLessThanOrEqual(20);
    expect(withReplies[0]?.length).toBeGreaterThanOrEqual(2);
    const seqs = events.flatMap(replies).map((e) => e.seq);
    expect(seqs.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });

  /** 20 echo replies queued in the kernel while `dev` is paused, then read: the events they came in. */
  async function queuedReplies(dev: TunTapDevice, id: number, size: number): Promise<Buffer[][]> {
    dev.pause();
    for (let seq = 1; seq <= 20; seq++) dev.write(icmpEchoRequest(PEER_IP, DEVICE_IP, id, seq, payloadFor(seq, size)));
    await sleep(100);
    const collected = collectUntil(dev, (events) => countReplies(events) >= 20);
    dev.resume();
    return collected;
  }

  it('never hands more than `batch` packets to one event', async () => {
    const events = await queuedReplies(openTun({ batch: 4 }), 2, 32);
    expect(Math.max(...events.map((e) => e.length))).toBe(4);
    expect(events.length).toBeGreaterThanOrEqual(5);
    expect(countReplies(events)).toBe(20);
  });

  it('stops a wake-up at `readBytes` (after the packet that reaches it), the rest in later events', async () => {
    // Replies of 20 + 8 + 100 = 128 bytes: a limit of 300 bytes ends a wake-up after 3.
    const events = await queuedReplies(openTun({ batch: 64, readBytes: 300 }), 3, 100);
    expect(Math.max(...events.map((e) => e.length))).toBe(3);
    expect(countReplies(events)).toBe(20);
  });

  it('writeMany writes every packet and returns the count', async () => {
    const dev = openTun();
    const requests = Array.from({ length: 16 }, (_, i) => icmpEchoRequest(PEER_IP, DEVICE_IP, 3, i + 1, payloadFor(i + 1, 64)));
    const collected = collectUntil(dev, (events) => countReplies(events) >= 16);
    expect(dev.writeMany(requests)).toBe(16);
    const events = await collected;
    expect(countReplies(events)).toBe(16);
    expect(dev.stats.txPackets).toBe(16);
    expect(dev.stats.txBytes).toBe(requests.reduce((n, r) => n + r.length, 0));
    expect(dev.stats.txDropped).toBe(0);
  });

  it('keeps every packet intact across slab boundaries, after later reads', async () => {
    // 200 replies of ~1.2 KB exceed one 256 KiB slab, so a batch spans slabs;
    // payloads are checked only after all reads, proving earlier views were not overwritten.
    const dev = openTun({ batch: 256 });
    dev.pause();
    const count = 200;
    const requests = Array.from({ length: count }, (_, i) => icmpEchoRequest(PEER_IP, DEVICE_IP, 4, i + 1, payloadFor(i + 1, 1200)));
    expect(dev.writeMany(requests)).toBe(count);
    await sleep(100);
    const collected = collectUntil(dev, (events) => countReplies(events) >= count);
    dev.resume();
    const events = await collected;
    const echoes = events.flatMap(replies);
    expect(echoes).toHaveLength(count);
    const slabs = new Set(events.flat().map((p) => p.buffer));
    expect(slabs.size).toBeGreaterThanOrEqual(2);
    for (const echo of echoes) {
      expect(echo!.checksumsOk).toBe(true);
      expect(echo!.payload.equals(payloadFor(echo!.seq, 1200))).toBe(true);
    }
    expect(dev.stats.rxPackets).toBeGreaterThanOrEqual(count);
  });
});
