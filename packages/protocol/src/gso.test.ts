import { describe, expect, it } from 'vitest';
import {
  foldChecksum,
  MAX_GSO_SEGMENTS,
  readVnetHdr,
  softwareSegment,
  sum16,
  VNET_F_NEEDS_CSUM,
  VNET_GSO_ECN,
  VNET_GSO_NONE,
  VNET_GSO_TCPV4,
  VNET_GSO_TCPV6,
  VNET_GSO_UDP,
  VNET_HDR_LENGTH,
  vnetHdrNeedsWork,
  writeVnetHdr,
} from './gso.js';
import { rfc1071 } from './test-datagrams.js';

function pseudo4(ip: Buffer, tcpLen: number): Buffer {
  const p = Buffer.alloc(12);
  ip.copy(p, 0, 12, 20);
  p[9] = 6;
  p.writeUInt16BE(tcpLen, 10);
  return p;
}

function pseudo6(ip: Buffer, tcpLen: number): Buffer {
  const p = Buffer.alloc(40);
  ip.copy(p, 0, 8, 40);
  p.writeUInt32BE(tcpLen, 32);
  p[39] = 6;
  return p;
}

/** True when the TCP checksum of the segment at `tcp` verifies (the sum with the field is all ones). */
function tcpChecksumOk(seg: Buffer, ipOff: number, tcp: number, v4: boolean): boolean {
  const ip = seg.subarray(ipOff);
  const body = seg.subarray(tcp);
  const p = v4 ? pseudo4(ip, body.length) : pseudo6(ip, body.length);
  return rfc1071(Buffer.concat([p, body.length % 2 ? Buffer.concat([body, Buffer.alloc(1)]) : body])) === 0xffff;
}

const MAC_A = Buffer.from('02e100000001', 'hex');
const MAC_B = Buffer.from('02e100000002', 'hex');

interface Built {
  packet: Buffer; // vnet header + frame
  payload: Buffer;
  ipOff: number;
  tcpOff: number;
}

/** A TCP super-frame the way the kernel hands one over: the IP length covers everything,
 * the TCP checksum field holds the pseudo-header sum (NEEDS_CSUM). */
function superFrame(opts: { v4: boolean; l2: boolean; payload: number; mss: number; flags?: number; seq?: number; id?: number; vlan?: boolean; options?: number }): Built {
  const payload = Buffer.alloc(opts.payload);
  for (let i = 0; i < payload.length; i++) payload[i] = (i * 7 + (i >> 8)) & 0xff;
  const eth = opts.l2 ? (opts.vlan ? 18 : 14) : 0;
  const ipLen = opts.v4 ? 20 : 40;
  const tcpLen = 20 + (opts.options ?? 12);
  const frame = Buffer.alloc(eth + ipLen + tcpLen + payload.length);
  if (opts.l2) {
    MAC_B.copy(frame, 0);
    MAC_A.copy(frame, 6);
    if (opts.vlan) {
      frame.writeUInt16BE(0x8100, 12);
      frame.writeUInt16BE(42, 14);
    }
    frame.writeUInt16BE(opts.v4 ? 0x0800 : 0x86dd, eth - 2);
  }
  const ip = eth;
  if (opts.v4) {
    frame[ip] = 0x45;
    frame.writeUInt16BE(frame.length - ip, ip + 2);
    frame.writeUInt16BE(opts.id ?? 0xfffe, ip + 4);
    frame[ip + 6] = 0x40; // DF
    frame[ip + 8] = 64;
    frame[ip + 9] = 6;
    Buffer.from([198, 19, 0, 1, 198, 19, 0, 2]).copy(frame, ip + 12);
    frame.writeUInt16BE(foldChecksum(sum16(frame, ip, ip + 20)), ip + 10);
  } else {
    frame[ip] = 0x60;
    frame.writeUInt16BE(frame.length - ip - 40, ip + 4);
    frame[ip + 6] = 6;
    frame[ip + 7] = 64;
    Buffer.from('fd00e100000000000000000000000001fd00e100000000000000000000000002', 'hex').copy(frame, ip + 8);
  }
  const tcp = ip + ipLen;
  frame.writeUInt16BE(40000, tcp);
  frame.writeUInt16BE(5201, tcp + 2);
  frame.writeUInt32BE(opts.seq ?? 0xfffff000, tcp + 4);
  frame.writeUInt32BE(12345, tcp + 8);
  frame[tcp + 12] = (tcpLen / 4) << 4;
  frame[tcp + 13] = opts.flags ?? 0x18; // ACK PSH
  frame.writeUInt16BE(502, tcp + 14);
  for (let i = 20; i < tcpLen; i++) frame[tcp + i] = i === 20 ? 1 : 1; // NOPs
  payload.copy(frame, tcp + tcpLen);
  // The kernel's partial checksum: the pseudo-header sum (length = whole TCP part), not complemented.
  const p = opts.v4 ? pseudo4(frame.subarray(ip), frame.length - tcp) : pseudo6(frame.subarray(ip), frame.length - tcp);
  frame.writeUInt16BE(~foldChecksum(rfc1071(p)) & 0xffff, tcp + 16);
  const hdr = writeVnetHdr({
    flags: VNET_F_NEEDS_CSUM,
    gsoType: opts.v4 ? VNET_GSO_TCPV4 : VNET_GSO_TCPV6,
    hdrLen: tcp + tcpLen,
    gsoSize: opts.mss,
    csumStart: tcp,
    csumOffset: 16,
  });
  return { packet: Buffer.concat([hdr, frame]), payload, ipOff: ip, tcpOff: tcp };
}

function checkSegments(b: Built, segs: Buffer[], opts: { v4: boolean; mss: number; flags: number; seq: number; id?: number }): void {
  const expected = Math.ceil(b.payload.length / opts.mss);
  expect(segs).toHaveLength(expected);
  const tcpLen = (segs[0][b.tcpOff + 12] >> 4) * 4;
  const data: Buffer[] = [];
  segs.forEach((s, i) => {
    const ip = s.subarray(b.ipOff);
    const body = s.subarray(b.tcpOff + tcpLen);
    expect(body.length).toBe(i < expected - 1 ? opts.mss : b.payload.length - opts.mss * (expected - 1));
    data.push(body);
    if (opts.v4) {
      expect(ip.readUInt16BE(2)).toBe(ip.length);
      expect(ip.readUInt16BE(4)).toBe(((opts.id ?? 0xfffe) + i) & 0xffff);
      expect(rfc1071(ip.subarray(0, 20))).toBe(0xffff);
    } else {
      expect(ip.readUInt16BE(4)).toBe(ip.length - 40);
    }
    expect(s.readUInt32BE(b.tcpOff + 4)).toBe((opts.seq + i * opts.mss) >>> 0);
    let f = opts.flags;
    if (i < expected - 1) f &= ~0x09;
    if (i > 0) f &= ~0x80;
    expect(s[b.tcpOff + 13]).toBe(f);
    expect(tcpChecksumOk(s, b.ipOff, b.tcpOff, opts.v4)).toBe(true);
    // Everything before the IP header (Ethernet, VLAN) is kept as it was.
    expect(s.subarray(0, b.ipOff)).toEqual(b.packet.subarray(VNET_HDR_LENGTH, VNET_HDR_LENGTH + b.ipOff));
  });
  expect(Buffer.concat(data)).toEqual(b.payload);
}

describe('virtio_net_hdr', () => {
  it('writes and reads the 10 little-endian bytes in the kernel layout', () => {
    const h = { flags: 1, gsoType: VNET_GSO_TCPV6 | VNET_GSO_ECN, hdrLen: 86, gsoSize: 1428, csumStart: 54, csumOffset: 16 };
    const b = writeVnetHdr(h);
    expect(Buffer.from(b).toString('hex')).toBe('0184' + '5600' + '9405' + '3600' + '1000');
    expect(readVnetHdr(b)).toEqual(h);
  });

  it('needs work only for GSO or a partial checksum', () => {
    expect(vnetHdrNeedsWork(Buffer.alloc(10))).toBe(false);
    expect(vnetHdrNeedsWork(Buffer.from([2, 0, 0, 0, 0, 0, 0, 0, 0, 0]))).toBe(false); // DATA_VALID only
    expect(vnetHdrNeedsWork(Buffer.from([1, 0, 0, 0, 0, 0, 0, 0, 0, 0]))).toBe(true);
    expect(vnetHdrNeedsWork(Buffer.from([0, 1, 0, 0, 0, 0, 0, 0, 0, 0]))).toBe(true);
  });
});

describe('softwareSegment', () => {
  for (const v4 of [true, false]) {
    for (const l2 of [true, false]) {
      it(`splits a TCP/${v4 ? 'IPv4' : 'IPv6'} super-${l2 ? 'frame' : 'packet'} into MSS segments with valid headers and checksums`, () => {
        const opts = { v4, l2, payload: 65000 - 100, mss: 1448, flags: 0x19 | 0x80, seq: 0xffffff00, id: 0xfff0 };
        const b = superFrame(opts);
        const segs = softwareSegment(b.packet, l2)!;
        expect(segs.length).toBe(45);
        checkSegments(b, segs, opts);
      });
    }
  }

  it('keeps a VLAN tag and segments behind it', () => {
    const opts = { v4: true, l2: true, vlan: true, payload: 5000, mss: 1000, flags: 0x18, seq: 1 };
    const b = superFrame(opts);
    checkSegments(b, softwareSegment(b.packet, true)!, opts);
  });

  it('makes one segment, checksum completed, when the payload fits the MSS', () => {
    const opts = { v4: false, l2: true, payload: 999, mss: 1448, flags: 0x18, seq: 7 };
    const b = superFrame(opts);
    checkSegments(b, softwareSegment(b.packet, true)!, opts);
  });

  it('does not modify the packet it was given (capable ports get it as it is)', () => {
    const b = superFrame({ v4: true, l2: true, payload: 4000, mss: 1400 });
    const copy = Buffer.from(b.packet);
    softwareSegment(b.packet, true);
    expect(b.packet).toEqual(copy);
  });

  it('completes a NEEDS_CSUM checksum of a packet without GSO, in a copy', () => {
    const b = superFrame({ v4: true, l2: false, payload: 301, mss: 1448 });
    b.packet[1] = VNET_GSO_NONE;
    const before = Buffer.from(b.packet);
    const [out] = softwareSegment(b.packet, false)!;
    expect(out.length).toBe(b.packet.length - VNET_HDR_LENGTH);
    expect(tcpChecksumOk(out, 0, 20, true)).toBe(true);
    expect(b.packet).toEqual(before);
  });

  it('hands a packet with a zero header on as a view of the frame', () => {
    const frame = Buffer.from('ffffffffffff02e1000000010806' + '00'.repeat(28), 'hex');
    const packet = Buffer.concat([Buffer.alloc(VNET_HDR_LENGTH), frame]);
    const out = softwareSegment(packet, true)!;
    expect(out).toHaveLength(1);
    expect(out[0]).toEqual(frame);
    expect(out[0].buffer).toBe(packet.buffer);
  });

  it('refuses to make frames longer than the receiver accepts (a hostile gso_size)', () => {
    const b = superFrame({ v4: true, l2: true, payload: 20000, mss: 9000 });
    expect(softwareSegment(b.packet, true, 1518)).toBeUndefined();
    expect(softwareSegment(b.packet, true, 9000 + 14 + 20 + 32)).toHaveLength(3);
    const whole = Buffer.from(b.packet);
    whole[1] = VNET_GSO_NONE;
    expect(softwareSegment(whole, true, 1518)).toBeUndefined();
    const ok = superFrame({ v4: true, l2: true, payload: 20000, mss: 1448 });
    expect(softwareSegment(ok.packet, true, 1518)).toHaveLength(14);
  });

  it('refuses malformed or unsupported headers instead of guessing', () => {
    const b = superFrame({ v4: true, l2: true, payload: 3000, mss: 1000 });
    expect(softwareSegment(b.packet.subarray(0, 9), true)).toBeUndefined();
    const udp = Buffer.from(b.packet);
    udp[1] = VNET_GSO_UDP;
    expect(softwareSegment(udp, true)).toBeUndefined();
    const zeroMss = Buffer.from(b.packet);
    zeroMss.writeUInt16LE(0, 4);
    expect(softwareSegment(zeroMss, true)).toBeUndefined();
    const tinyMss = Buffer.from(b.packet);
    tinyMss.writeUInt16LE(1, 4);
    expect(3000 / 1).toBeGreaterThan(MAX_GSO_SEGMENTS);
    expect(softwareSegment(tinyMss, true)).toBeUndefined();
    const notIp = Buffer.from(b.packet);
    notIp.writeUInt16BE(0x0806, VNET_HDR_LENGTH + 12);
    expect(softwareSegment(notIp, true)).toBeUndefined();
    const v6Claim = Buffer.from(b.packet);
    v6Claim[1] = VNET_GSO_TCPV6;
    expect(softwareSegment(v6Claim, true)).toBeUndefined();
    const badCsum = Buffer.from(b.packet);
    badCsum[1] = VNET_GSO_NONE;
    badCsum.writeUInt16LE(0xfff0, 6);
    expect(softwareSegment(badCsum, true)).toBeUndefined();
  });
});
