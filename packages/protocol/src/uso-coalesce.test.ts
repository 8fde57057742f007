import { describe, expect, it } from 'vitest';
import { gsoSegmentCount, MAX_GSO_SEGMENTS, readVnetHdr, softwareSegment, VNET_F_NEEDS_CSUM, VNET_GSO_NONE, VNET_GSO_UDP_L4, VNET_HDR_LENGTH } from './gso.js';
import { MAX_TRUNK_GSO_PAYLOAD } from './records.js';
import { coalesceUdp, MAX_USO_SEGMENTS } from './uso-coalesce.js';
import { rfc1071, u16, udpDatagram as datagram, udpRun as run } from './test-datagrams.js';

/** What a receiver ends up with: every packet completed or split in software. */
function delivered(packets: readonly Buffer[], l2: boolean): Buffer[] {
  return packets.flatMap((p) => {
    const frames = softwareSegment(p, l2);
    expect(frames).toBeDefined();
    return frames!.map((f) => Buffer.from(f));
  });
}

describe('coalesceUdp', () => {
  for (const l2 of [true, false]) {
    for (const v6 of [false, true]) {
      it(`merges a run of one ${v6 ? 'IPv6' : 'IPv4'} flow (${l2 ? 'L2' : 'L3'}) into one UDP super-frame the split gives back byte for byte`, () => {
        const packets = [...run(20, { l2, v6, size: 64 }), datagram({ l2, v6, size: 30, id: 0xfff0 + 20, seed: 20 })];
        const out = coalesceUdp(packets, l2);
        expect(out).toHaveLength(1);
        const h = readVnetHdr(out[0]);
        expect(h).toMatchObject({ flags: VNET_F_NEEDS_CSUM, gsoType: VNET_GSO_UDP_L4, gsoSize: 64, csumOffset: 6 });
        expect(h.hdrLen).toBe(h.csumStart + 8);
        expect(out[0].length).toBe(packets[0].length + 19 * 64 + 30);
        expect(gsoSegmentCount(out[0])).toBeGreaterThanOrEqual(21);
        const segs = delivered(out, l2);
        expect(segs).toEqual(delivered(packets, l2));
        // Independently: every UDP checksum verifies over its pseudo-header.
        const ip = l2 ? 14 : 0;
        for (const s of segs) {
          const udp = ip + (v6 ? 40 : 20);
          const pseudo = v6
            ? Buffer.concat([s.subarray(ip + 8, ip + 40), Buffer.from([0, 0]), u16(s.length - udp), Buffer.from([0, 0, 0, 17])])
            : Buffer.concat([s.subarray(ip + 12, ip + 20), Buffer.from([0, 17]), u16(s.length - udp)]);
          expect(rfc1071(Buffer.concat([pseudo, s.subarray(udp), Buffer.alloc(s.length % 2)]))).toBe(0xffff);
          if (!v6) expect(rfc1071(s.subarray(ip, ip + 20))).toBe(0xffff);
        }
        // The packets it was given are untouched.
        expect(packets[0][1]).toBe(VNET_GSO_NONE);
      });
    }
  }

  it('returns the very array when nothing merges, and keeps lone datagrams in place', () => {
    const lone = [datagram({ l2: true })];
    expect(coalesceUdp(lone, true)).toBe(lone);
    const mixed = [datagram({ l2: true, srcPort: 1 }), datagram({ l2: true, srcPort: 2 }), datagram({ l2: true, srcPort: 3 })];
    expect(coalesceUdp(mixed, true)).toBe(mixed);
    const a = run(3, { l2: true, srcPort: 9 });
    const b = run(2, { l2: true, srcPort: 10 });
    const between = datagram({ l2: true, srcPort: 11 });
    const out = coalesceUdp([between, ...a, between, ...b, between], true);
    expect(out.map((p) => p[1])).toEqual([VNET_GSO_NONE, VNET_GSO_UDP_L4, VNET_GSO_NONE, VNET_GSO_UDP_L4, VNET_GSO_NONE]);
    expect(out[0]).toBe(between);
    expect(delivered(out, true)).toEqual(delivered([between, ...a, between, ...b, between], true));
  });

  it('ends a run at a shorter datagram, and never lets a longer one in', () => {
    const shortMid = [datagram({ l2: false, size: 64 }), datagram({ l2: false, size: 10 }), datagram({ l2: false, size: 64 })];
    expect(coalesceUdp(shortMid, false).map((p) => p.length)).toEqual([shortMid[0].length + 10, shortMid[2].length]);
    const longer = [datagram({ l2: false, size: 64 }), datagram({ l2: false, size: 65 })];
    expect(coalesceUdp(longer, false)).toBe(longer);
  });

  it('merges only what the split gives back unchanged', () => {
    const base = { l2: true, size: 64 } as const;
    const differs: [string, Buffer][] = [
      ['another destination', datagram({ ...base, dst: 3 })],
      ['another source port', datagram({ ...base, srcPort: 1 })],
      ['another TTL', datagram({ ...base, ttl: 63 })],
      ['another TOS', datagram({ ...base, tos: 0x10 })],
      ['IP options', datagram({ ...base, options: true })],
      ['a fragment', datagram({ ...base, fragment: true })],
      ['a VLAN tag', datagram({ ...base, vlan: true })],
      ['a finished checksum (nothing left for the split to compute)', datagram({ ...base, complete: true })],
    ];
    for (const [why, p] of differs) {
      const pair = [datagram(base), p];
      expect(coalesceUdp(pair, true), why).toBe(pair);
      const both = [p, p];
      const same = why.startsWith('another') ? 1 : 2;
      expect(coalesceUdp(both, true).length, `${why}, twice`).toBe(same);
    }
    const v6Label = [datagram({ l2: false, v6: true }), datagram({ l2: false, v6: true })];
    v6Label[1].writeUInt32BE(0x60054321, VNET_HDR_LENGTH);
    expect(coalesceUdp(v6Label, false)).toBe(v6Label);
    const tcp = [datagram(base), datagram(base)];
    for (const p of tcp) p[VNET_HDR_LENGTH + 14 + 9] = 6;
    expect(coalesceUdp(tcp, true)).toBe(tcp);
    const mixedModes = [datagram({ l2: true, v6: true }), datagram({ l2: true })];
    expect(coalesceUdp(mixedModes, true)).toBe(mixedModes);
  });

  it('stops a run at MAX_USO_SEGMENTS datagrams and at the longest record', () => {
    const many = run(MAX_USO_SEGMENTS * 2 + 1, { l2: true, size: 16 });
    const out = coalesceUdp(many, true);
    expect(out.map((p) => gsoSegmentCount(p) >= MAX_USO_SEGMENTS)).toEqual([true, true, false]);
    expect(delivered(out, true)).toHaveLength(many.length);
    const big = run(60, { l2: true, size: 1400 });
    const bigOut = coalesceUdp(big, true);
    expect(bigOut.every((p) => p.length <= MAX_TRUNK_GSO_PAYLOAD)).toBe(true);
    expect(bigOut.length).toBeGreaterThan(1);
    expect(delivered(bigOut, true)).toEqual(delivered(big, true));
    expect(MAX_USO_SEGMENTS).toBeLessThanOrEqual(MAX_GSO_SEGMENTS);
  });

  it('gives back what it was given, in order, for random mixes (seeded)', () => {
    let s = 12345;
    const rnd = (n: number): number => {
      s = (s * 1103515245 + 12345) >>> 0;
      return (s >>> 8) % n;
    };
    for (let round = 0; round < 100; round++) {
      const l2 = rnd(2) === 0;
      const packets: Buffer[] = [];
      const ids = [100, 200, 300];
      const count = 1 + rnd(40);
      for (let i = 0; i < count; i++) {
        const flow = rnd(3);
        // Ids consecutive per flow, as a sender's are, so the split's numbering gives them back.
        packets.push(datagram({ l2, v6: flow === 2, srcPort: 1000 + flow, size: rnd(5) === 0 ? 1 + rnd(80) : 48, id: ids[flow]++, seed: i }));
      }
      const out = coalesceUdp(packets, l2);
      expect(out.length).toBeLessThanOrEqual(packets.length);
      const got = delivered(out, l2);
      const want = delivered(packets, l2);
      // A merged run renumbers IPv4 ids from its first; flows interleave, so compare without them.
      const strip = (f: Buffer): Buffer => {
        const c = Buffer.from(f);
        const ip = l2 ? 14 : 0;
        if (c[ip] >> 4 === 4) c.fill(0, ip + 4, ip + 6).fill(0, ip + 10, ip + 12);
        return c;
      };
      expect(got.map(strip)).toEqual(want.map(strip));
    }
  });
});

describe('softwareSegment of UDP super-frames', () => {
  it('refuses what it cannot split honestly', () => {
    const [sf] = coalesceUdp(run(8, { l2: true, size: 100 }), true);
    expect(softwareSegment(sf, true, 14 + 20 + 8 + 99)).toBeUndefined();
    expect(softwareSegment(sf, true, 14 + 20 + 8 + 100)).toHaveLength(8);
    const zero = Buffer.from(sf);
    zero.writeUInt16LE(0, 4);
    expect(softwareSegment(zero, true)).toBeUndefined();
    // gso_size 1 over 1,600 payload bytes: more segments than MAX_GSO_SEGMENTS.
    const [sf16] = coalesceUdp(run(16, { l2: true, size: 100 }), true);
    const tiny = Buffer.from(sf16);
    tiny.writeUInt16LE(1, 4);
    expect(softwareSegment(tiny, true)).toBeUndefined();
    const notUdp = Buffer.from(sf);
    notUdp[VNET_HDR_LENGTH + 14 + 9] = 6;
    expect(softwareSegment(notUdp, true)).toBeUndefined();
    const headersOnly = sf.subarray(0, VNET_HDR_LENGTH + 14 + 28);
    expect(softwareSegment(headersOnly, true)).toBeUndefined();
  });
});
