/**
 * Coalescing lwIP's segments into super-frames is exact: what the switch's software
 * segmentation makes of them again is byte for byte what lwIP sent (real lwIP output of
 * a bulk transfer, L2 and L3, IPv4 and IPv6), and frames that are not bulk TCP data stay
 * plain frames.
 */
import { describe, expect, it } from 'vitest';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { softwareSegment, VNET_HDR_LENGTH } from '@elink/protocol';
import { coalesceTcp } from './gso-coalesce.js';
import { NetStack } from './net-stack.js';
import { StackServer } from './tcp-server.js';
import { StackSocket } from './tcp-socket.js';

/** Every batch lwIP produced on the way from a to b during a 1 MB transfer. */
async function batches(mode: 'l2' | 'l3', peer: string): Promise<Buffer[][]> {
  const seen: Buffer[][] = [];
  let a: NetStack | undefined;
  let b: NetStack | undefined;
  a = new NetStack({
    output: (frames) => {
      seen.push(frames.map((f) => Buffer.from(f)));
      setImmediate(() => frames.forEach((f) => b!.input(f)));
    },
  });
  b = new NetStack({ output: (frames) => setImmediate(() => frames.forEach((f) => a!.input(f))) });
  a.configure({ mode, mtu: 1400, mac: '02:00:5e:00:00:01', ipv4: { address: '198.19.7.1/24' }, ipv6: { address: 'fd00:e1:7::1/64' } });
  b.configure({ mode, mtu: 1400, mac: '02:00:5e:00:00:02', ipv4: { address: '198.19.7.2/24' }, ipv6: { address: 'fd00:e1:7::2/64' } });
  const done = new Promise<void>((resolve) => {
    new StackServer(b, {}, (s) => {
      s.resume();
      s.on('end', () => {
        s.end();
        resolve();
      });
    }).listen(7);
  });
  const c = new StackSocket(a).connectTo(peer, 7);
  await once(c, 'connect');
  c.end(randomBytes(1 << 20));
  await done;
  a.close();
  b.close();
  return seen;
}

describe('coalesceTcp', () => {
  for (const [mode, peer] of [
    ['l2', '198.19.7.2'],
    ['l2', 'fd00:e1:7::2'],
    ['l3', '198.19.7.2'],
    ['l3', 'fd00:e1:7::2'],
  ] as const) {
    it(`${mode} ${peer}: segmenting the super-frames again gives lwIP's frames back exactly`, async () => {
      let supers = 0;
      let frames = 0;
      for (const batch of await batches(mode, peer)) {
        const packets = coalesceTcp(batch, mode === 'l2');
        const again: Buffer[] = [];
        for (const p of packets) {
          if (p[1] !== 0) supers++;
          const segs = softwareSegment(p, mode === 'l2');
          expect(segs).toBeDefined();
          again.push(...segs!.map((s) => Buffer.from(s)));
        }
        // Same frames, same boundaries, same bytes (compared as buffers: a deep equal of
        // thousands of Buffers is slow).
        expect(again.map((f) => f.length)).toEqual(batch.map((f) => f.length));
        expect(Buffer.concat(again).equals(Buffer.concat(batch))).toBe(true);
        frames += batch.length;
      }
      // Bulk data did coalesce: far fewer packets than frames.
      expect(frames).toBeGreaterThan(700);
      expect(supers).toBeGreaterThan(10);
    });
  }

  it('a non-TCP frame and a pure ACK stay plain, with a zero header', () => {
    const arp = Buffer.alloc(42);
    arp.writeUInt16BE(0x0806, 12);
    const [p] = coalesceTcp([arp], true);
    expect(p.subarray(0, VNET_HDR_LENGTH)).toEqual(Buffer.alloc(VNET_HDR_LENGTH));
    expect(p.subarray(VNET_HDR_LENGTH)).toEqual(arp);
  });
});
