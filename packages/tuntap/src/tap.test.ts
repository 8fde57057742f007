import { afterEach, describe, expect, it } from 'vitest';
import { TunTapDevice } from './device.js';
import {
  arpRequest,
  disableIpv6,
  ethernet,
  icmpEchoRequest,
  ip,
  kernelSkipReason,
  linkExists,
  parseArp,
  parseIcmpEcho,
  uniqueName,
} from './test-support.js';

const DEVICE_MAC = '02:e1:00:fa:00:01';
const PEER_MAC = Buffer.from([0x02, 0xe1, 0x00, 0xfa, 0x00, 0x02]);
const DEVICE_IP = '198.19.248.1';
const PEER_IP = '198.19.248.2';

describe.skipIf(kernelSkipReason !== undefined)(`TAP device on the real kernel${kernelSkipReason ? ` (skipped: ${kernelSkipReason})` : ''}`, () => {
  let device: TunTapDevice | undefined;
  afterEach(() => {
    device?.close();
    device = undefined;
  });

  function openTap(): TunTapDevice {
    const name = uniqueName();
    device = TunTapDevice.open({ mode: 'tap', name, mtu: 1400, mac: DEVICE_MAC });
    disableIpv6(device.name);
    device.setUp(true);
    ip('addr', 'add', `${DEVICE_IP}/24`, 'dev', device.name);
    return device;
  }

  it('creates the interface with the requested MTU, MAC and UP state', () => {
    const name = uniqueName();
    device = TunTapDevice.open({ mode: 'tap', name, mtu: 1400, mac: DEVICE_MAC, up: true });
    expect(device.name).toBe(name);
    expect(device.mode).toBe('tap');
    const [link] = JSON.parse(ip('-j', 'link', 'show', 'dev', name)) as Array<{ mtu: number; address: string; flags: string[] }>;
    expect(link.mtu).toBe(1400);
    expect(link.address).toBe(DEVICE_MAC);
    expect(link.flags).toContain('UP');
  });

  it('applies setMtu, setMac and setUp on an open device', () => {
    device = TunTapDevice.open({ mode: 'tap', name: uniqueName() });
    const show = () => (JSON.parse(ip('-j', 'link', 'show', 'dev', device!.name)) as Array<{ mtu: number; address: string; flags: string[] }>)[0];
    expect(show().flags).not.toContain('UP');
    device.setUp(true);
    device.setMtu(9000);
    device.setMac('02:e1:00:fa:00:09');
    let link = show();
    expect(link.flags).toContain('UP');
    expect(link.mtu).toBe(9000);
    expect(link.address).toBe('02:e1:00:fa:00:09');
    device.setUp(false);
    link = show();
    expect(link.flags).not.toContain('UP');
  });

  it('resolves a pattern name to the interface the kernel created', () => {
    device = TunTapDevice.open({ mode: 'tap', name: 'eltp%d' });
    expect(device.name).toMatch(/^eltp\d+$/);
    expect(linkExists(device.name)).toBe(true);
  });

  it("receives the kernel's ARP reply to an ARP request written to the device", async () => {
    const dev = openTap();
    const reply = waitForArpReply(dev);
    expect(dev.write(arpRequest(PEER_MAC, PEER_IP, DEVICE_IP))).toBe(true);
    const arp = await reply;
    expect(arp).toEqual({
      op: 2,
      senderMac: DEVICE_MAC,
      senderIp: DEVICE_IP,
      targetMac: '02:e1:00:fa:00:02',
      targetIp: PEER_IP,
    });
    expect(dev.stats.txPackets).toBe(1);
    expect(dev.stats.rxPackets).toBeGreaterThanOrEqual(1);
  });

  it('receives the echo reply to an ICMP echo request in an Ethernet frame', async () => {
    const dev = openTap();
    ip('neigh', 'replace', PEER_IP, 'lladdr', '02:e1:00:fa:00:02', 'dev', dev.name, 'nud', 'permanent');
    const payload = Buffer.from('emotion link tap echo payload');
    const request = icmpEchoRequest(PEER_IP, DEVICE_IP, 0x4321, 7, payload);
    const got = waitForEchoReply(dev);
    expect(dev.write(ethernet(Buffer.from(DEVICE_MAC.split(':').map((h) => parseInt(h, 16))), PEER_MAC, 0x0800, request))).toBe(true);
    const { frame, echo } = await got;
    expect(frame.subarray(0, 6)).toEqual(PEER_MAC);
    expect(echo).toMatchObject({ type: 0, src: DEVICE_IP, dst: PEER_IP, id: 0x4321, seq: 7, checksumsOk: true });
    expect(echo.payload).toEqual(payload);
  });

  it('with reuseBuffers reads every wake-up into the same memory; without, into fresh memory', async () => {
    for (const reuse of [true, false]) {
      const name = uniqueName();
      const dev = TunTapDevice.open({ mode: 'tap', name, mtu: 1400, mac: DEVICE_MAC, reuseBuffers: reuse });
      device = dev;
      disableIpv6(dev.name);
      dev.setUp(true);
      ip('addr', 'add', `${DEVICE_IP}/24`, 'dev', dev.name);
      // Two ARP requests, one wake-up each: the kernel answers each with a reply.
      const seen: Array<{ buffer: ArrayBufferLike; offset: number; sender: string }> = [];
      const replies = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`only ${seen.length} ARP replies within 3 s`)), 3000);
        dev.on('packets', (packets) => {
          for (const p of packets) {
            const arp = parseArp(p);
            // Read the content now: with reuseBuffers it is valid only during the event.
            if (arp?.op === 2) seen.push({ buffer: p.buffer, offset: p.byteOffset, sender: arp.targetIp });
          }
          if (seen.length >= 2) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      expect(dev.write(arpRequest(PEER_MAC, PEER_IP, DEVICE_IP))).toBe(true);
      await new Promise((r) => setTimeout(r, 50));
      expect(dev.write(arpRequest(PEER_MAC, '198.19.248.3', DEVICE_IP))).toBe(true);
      await replies;
      expect(seen.map((s) => s.sender)).toEqual([PEER_IP, '198.19.248.3']);
      if (reuse) {
        expect(seen[1].buffer).toBe(seen[0].buffer);
        expect(seen[1].offset).toBe(seen[0].offset);
      } else {
        // The next packet goes further into the slab (or into a new one): never over the first.
        expect(seen[1].buffer !== seen[0].buffer || seen[1].offset !== seen[0].offset).toBe(true);
      }
      dev.close();
      device = undefined;
    }
  });

  it('deletes the interface on close', () => {
    const dev = openTap();
    expect(linkExists(dev.name)).toBe(true);
    dev.close();
    expect(linkExists(dev.name)).toBe(false);
  });
});

function waitForArpReply(dev: TunTapDevice) {
  return new Promise<ReturnType<typeof parseArp>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no ARP reply within 3 s')), 3000);
    dev.on('packets', (packets) => {
      for (const p of packets) {
        const arp = parseArp(p);
        if (arp?.op === 2) {
          clearTimeout(timer);
          resolve(arp);
        }
      }
    });
  });
}

function waitForEchoReply(dev: TunTapDevice) {
  return new Promise<{ frame: Buffer; echo: NonNullable<ReturnType<typeof parseIcmpEcho>> }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no ICMP echo reply within 3 s')), 3000);
    dev.on('packets', (packets) => {
      for (const p of packets) {
        if (p.length < 14 || p.readUInt16BE(12) !== 0x0800) continue;
        const echo = parseIcmpEcho(p.subarray(14));
        if (echo?.type === 0) {
          clearTimeout(timer);
          resolve({ frame: p, echo });
        }
      }
    });
  });
}
