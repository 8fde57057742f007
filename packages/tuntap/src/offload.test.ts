/**
 * Offload (IFF_VNET_HDR + TSO) on the real kernel: two TAP devices, each moved into a
 * network namespace of its own, joined by a relay in this process. A 10 MB TCP stream
 * must arrive byte-identical through super-frames passed on as they are, and through
 * super-frames segmented in software for a device without offload (whose kernel
 * verifies every checksum we wrote).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { softwareSegment, VNET_GSO_TCPV4, VNET_HDR_LENGTH } from '@elink/protocol';
import { TunTapDevice } from './device.js';
import { ip, kernelSkipReason, uniqueName } from './test-support.js';
// The repository's end-to-end helper: one definition of a checked bulk stream.
import { tcpStream, type StreamResult } from '../../../test/lib/tcp-stream.js';

const NS_A = `eltoffa${process.pid}`;
const NS_B = `eltoffb${process.pid}`;
const ADDR_A = '198.19.251.1';
const ADDR_B = '198.19.251.2';
const STREAM_BYTES = 10 * 1024 * 1024;

/** A 10 MB stream from `from` to `to`; resolves with what was sent and what arrived. */
async function stream(fromNs: string, toNs: string, toAddr: string): Promise<[StreamResult, StreamResult]> {
  return tcpStream(fromNs, toNs, toAddr, 20000 + (process.pid % 20000), STREAM_BYTES, 30_000);
}

function into(device: TunTapDevice, ns: string, addr: string): void {
  ip('link', 'set', 'dev', device.name, 'netns', ns);
  ip('-n', ns, 'addr', 'add', `${addr}/24`, 'dev', device.name);
  ip('-n', ns, 'link', 'set', 'dev', device.name, 'up');
}

describe.skipIf(kernelSkipReason !== undefined)(`TAP offload on the real kernel${kernelSkipReason ? ` (skipped: ${kernelSkipReason})` : ''}`, () => {
  let a: TunTapDevice | undefined;
  let b: TunTapDevice | undefined;

  beforeAll(() => {
    for (const ns of [NS_A, NS_B]) {
      ip('netns', 'add', ns);
      ip('-n', ns, 'link', 'set', 'lo', 'up');
    }
  });
  afterEach(() => {
    a?.close();
    b?.close();
    a = b = undefined;
  });
  afterAll(() => {
    for (const ns of [NS_A, NS_B]) {
      try {
        ip('netns', 'del', ns);
      } catch {
        // already gone
      }
    }
  });

  it('reads TCP super-frames with a virtio_net_hdr and writes them on as they are (10 MB byte-identical)', async () => {
    a = TunTapDevice.open({ mode: 'tap', name: uniqueName(), mtu: 1500, offload: true });
    b = TunTapDevice.open({ mode: 'tap', name: uniqueName(), mtu: 1500, offload: true });
    expect(a.offload).toBe(true);
    let superFrames = 0;
    let largest = 0;
    const devA = a;
    const devB = b;
    devA.on('packets', (packets) => {
      for (const p of packets) {
        largest = Math.max(largest, p.length);
        if (p[1] === VNET_GSO_TCPV4 && p.length > 1514 + VNET_HDR_LENGTH) superFrames++;
      }
      devB.writeMany(packets);
    });
    devB.on('packets', (packets) => devA.writeMany(packets));
    into(devA, NS_A, ADDR_A);
    into(devB, NS_B, ADDR_B);

    const [sent, got] = await stream(NS_A, NS_B, ADDR_B);
    expect(got).toEqual(sent);
    expect(got.bytes).toBe(STREAM_BYTES);
    expect(superFrames).toBeGreaterThan(0);
    expect(largest).toBeGreaterThan(1514 + VNET_HDR_LENGTH);
    expect(largest).toBeLessThanOrEqual(65535 + VNET_HDR_LENGTH);
  }, 60_000);

  it('carries 10 MB both ways between an offload device and a plain one (software segmentation, zero headers)', async () => {
    a = TunTapDevice.open({ mode: 'tap', name: uniqueName(), mtu: 1500, offload: true });
    b = TunTapDevice.open({ mode: 'tap', name: uniqueName(), mtu: 1500 });
    let segmented = 0;
    let refused = 0;
    let oversize = 0;
    const devA = a;
    const devB = b;
    devA.on('packets', (packets) => {
      const plain: Buffer[] = [];
      for (const p of packets) {
        const frames = softwareSegment(p, true);
        if (frames === undefined) refused++;
        else {
          if (frames.length > 1) segmented++;
          plain.push(...frames);
        }
      }
      devB.writeMany(plain);
    });
    devB.on('packets', (packets) => {
      for (const p of packets) if (p.length > 1514) oversize++;
      devA.writeManyPlain(packets);
    });
    into(devA, NS_A, ADDR_A);
    into(devB, NS_B, ADDR_B);

    const [sentAB, gotAB] = await stream(NS_A, NS_B, ADDR_B);
    expect(gotAB).toEqual(sentAB);
    const [sentBA, gotBA] = await stream(NS_B, NS_A, ADDR_A);
    expect(gotBA).toEqual(sentBA);
    expect(gotBA.bytes).toBe(STREAM_BYTES);
    expect(segmented).toBeGreaterThan(0);
    expect(refused).toBe(0);
    expect(oversize).toBe(0);
  }, 60_000);
});
