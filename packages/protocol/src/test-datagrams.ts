/**
 * Test support (not shipped: the package leaves dist/test-* out): UDP datagrams as a
 * kernel hands them to an offload device, and an independent Internet checksum, for the
 * tests of coalesceUdp/softwareSegment here and of "uso" in the switch and the client, and
 * for the packets other packages' tests build by hand (tuntap's test-support, stack).
 */
import { VNET_F_NEEDS_CSUM, VNET_GSO_NONE, VNET_HDR_LENGTH, writeVnetHdr } from './gso.js';

/** An independent checksum (RFC 1071, byte by byte), so the code is not checked against itself: the folded sum, not complemented. */
export function rfc1071(bytes: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i++) sum += i % 2 === 0 ? bytes[i] * 256 : bytes[i];
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/** The Internet checksum field of `bytes` (RFC 1071: the complemented folded sum); 0 over
 * bytes whose checksum field is right. */
export function internetChecksum(bytes: Uint8Array): number {
  return ~rfc1071(bytes) & 0xffff;
}

export interface DatagramOpts {
  l2: boolean;
  v6?: boolean;
  size?: number;
  id?: number;
  ttl?: number;
  tos?: number;
  srcPort?: number;
  /** Default 5201. */
  dstPort?: number;
  /** The last byte of the destination address (default 2), unless dstIp is given. */
  dst?: number;
  srcMac?: Uint8Array;
  dstMac?: Uint8Array;
  /** 4 bytes (IPv4) or 16 (IPv6). */
  srcIp?: ArrayLike<number>;
  dstIp?: ArrayLike<number>;
  /** The payload; default `size` bytes of a pattern seeded by `seed`. */
  payload?: Uint8Array;
  seed?: number;
  vlan?: boolean;
  options?: boolean;
  fragment?: boolean;
  complete?: boolean;
}

const SRC6 = Buffer.from('fd00e100000000000000000000000001', 'hex');
const DST6 = Buffer.from('fd00e100000000000000000000000002', 'hex');

/** A UDP datagram the way the kernel hands one to an offload device: virtio_net_hdr with
 * NEEDS_CSUM at the UDP checksum, which holds the pseudo-header sum (folded, not
 * complemented). `complete`: a finished checksum and a zero header instead. */
export function udpDatagram(o: DatagramOpts): Buffer {
  const size = o.payload?.length ?? o.size ?? 64;
  const eth = o.l2 ? (o.vlan ? 18 : 14) : 0;
  const ipLen = o.v6 ? 40 : o.options ? 24 : 20;
  const f = Buffer.alloc(eth + ipLen + 8 + size);
  if (o.l2) {
    f.set(o.dstMac ?? Buffer.from('02e100000002', 'hex'), 0);
    f.set(o.srcMac ?? Buffer.from('02e100000001', 'hex'), 6);
    if (o.vlan) f.writeUInt32BE(0x8100002a, 12);
    f.writeUInt16BE(o.v6 ? 0x86dd : 0x0800, eth - 2);
  }
  const ip = eth;
  const udp = ip + ipLen;
  let pseudo: Buffer;
  if (!o.v6) {
    f[ip] = 0x40 | (ipLen / 4);
    f[ip + 1] = o.tos ?? 0;
    f.writeUInt16BE(f.length - ip, ip + 2);
    f.writeUInt16BE((o.id ?? 7) & 0xffff, ip + 4);
    f[ip + 6] = o.fragment ? 0x20 : 0x40;
    f[ip + 8] = o.ttl ?? 64;
    f[ip + 9] = 17;
    f.set(o.srcIp ?? [198, 19, 0, 1], ip + 12);
    f.set(o.dstIp ?? [198, 19, 0, o.dst ?? 2], ip + 16);
    f.writeUInt16BE(~rfc1071(f.subarray(ip, ip + ipLen)) & 0xffff, ip + 10);
    pseudo = Buffer.concat([f.subarray(ip + 12, ip + 20), Buffer.from([0, 17]), u16(f.length - udp)]);
  } else {
    f.writeUInt32BE(0x60012345, ip);
    f.writeUInt16BE(f.length - ip - 40, ip + 4);
    f[ip + 6] = 17;
    f[ip + 7] = o.ttl ?? 64;
    f.set(o.srcIp ?? SRC6, ip + 8);
    f.set(o.dstIp ?? DST6, ip + 24);
    if (o.dstIp === undefined) f[ip + 39] = o.dst ?? 2;
    pseudo = Buffer.concat([f.subarray(ip + 8, ip + 40), Buffer.from([0, 0]), u16(f.length - udp), Buffer.from([0, 0, 0, 17])]);
  }
  f.writeUInt16BE(o.srcPort ?? 40000, udp);
  f.writeUInt16BE(o.dstPort ?? 5201, udp + 2);
  f.writeUInt16BE(f.length - udp, udp + 4);
  if (o.payload) f.set(o.payload, udp + 8);
  else for (let i = 0; i < size; i++) f[udp + 8 + i] = (i * 31 + (o.seed ?? 0)) & 0xff;
  if (o.complete) {
    f.writeUInt16BE(~rfc1071(Buffer.concat([pseudo, f.subarray(udp)])) & 0xffff || 0xffff, udp + 6);
    return Buffer.concat([Buffer.alloc(VNET_HDR_LENGTH), f]);
  }
  f.writeUInt16BE(rfc1071(pseudo), udp + 6);
  const hdr = writeVnetHdr({ flags: VNET_F_NEEDS_CSUM, gsoType: VNET_GSO_NONE, hdrLen: 0, gsoSize: 0, csumStart: udp, csumOffset: 6 });
  return Buffer.concat([hdr, f]);
}

export function u16(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v);
  return b;
}

/** A flow's run: consecutive IPv4 ids, each datagram its own payload. */
export function udpRun(n: number, o: DatagramOpts): Buffer[] {
  return Array.from({ length: n }, (_, i) => udpDatagram({ ...o, id: (o.id ?? 0xfff0) + i, seed: i }));
}

