import { RecordType } from '@elink/protocol';
import { TunTapDevice } from '@elink/tuntap';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { disableIpv6, icmpEchoRequest, ip, kernelSkipReason, parseIcmpEcho, uniqueName } from '../../tuntap/src/test-support.js';
import { DeviceWriter, LONE_BYTES, LONE_FRAMES } from './device-writer.js';
import { until } from './test-frames.js';

// A TUN device; each frame is an ICMP echo request to the device's own address, whose
// reply the kernel queues on the device inside the write.
const DEV_IP = '198.19.253.1';
const PEER_IP = '198.19.253.2';
const ECHO_ID = 0x4c52;

describe.skipIf(kernelSkipReason !== undefined)(`DeviceWriter readAfterWrite on a real TUN${kernelSkipReason ? ` (skipped: ${kernelSkipReason})` : ''}`, () => {
  let device: TunTapDevice;
  const replies: number[] = [];
  beforeAll(() => {
    device = TunTapDevice.open({ mode: 'tun', name: uniqueName('eltw'), mtu: 1500, reuseBuffers: true });
    disableIpv6(device.name);
    device.setUp(true);
    ip('addr', 'add', `${DEV_IP}/24`, 'dev', device.name);
    device.on('packets', (packets) => {
      for (const p of packets) {
        const echo = parseIcmpEcho(p);
        if (echo?.type === 0 && echo.id === ECHO_ID) replies.push(echo.seq);
      }
    });
  });
  afterAll(() => device.close());

  const request = (seq: number, size = 32) => icmpEchoRequest(PEER_IP, DEV_IP, ECHO_ID, seq, Buffer.alloc(size, seq));
  const write = (w: DeviceWriter, frames: Buffer[]) => w.write(frames.map(() => RecordType.FRAME), frames, 0);

  it("after lone small frames reads the kernel's answers before write() returns", () => {
    replies.length = 0;
    const w = new DeviceWriter(device, { readAfterWrite: true });
    expect(write(w, [request(1)])).toBe(0);
    expect(replies).toEqual([1]);
    const batch = Array.from({ length: LONE_FRAMES }, (_, i) => request(10 + i));
    expect(write(w, batch)).toBe(0);
    expect(replies).toEqual([1, ...batch.map((_, i) => 10 + i)]);
  });

  it('not after a batch of more frames, a large frame, or without the option: the next poll reads them', async () => {
    for (const [w, frames] of [
      [new DeviceWriter(device, { readAfterWrite: true }), Array.from({ length: LONE_FRAMES + 1 }, (_, i) => request(20 + i))],
      [new DeviceWriter(device, { readAfterWrite: true }), [request(30, LONE_BYTES)]],
      [new DeviceWriter(device), [request(40)]],
    ] as const) {
      replies.length = 0;
      expect(write(w, [...frames])).toBe(0);
      expect(replies).toEqual([]);
      await until(() => replies.length === frames.length, `${frames.length} echo replies by poll (have ${replies.length})`);
    }
  });
});
