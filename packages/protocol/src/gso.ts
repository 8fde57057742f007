/**
 * Offload: the virtio_net_hdr that a TAP/TUN device opened with IFF_VNET_HDR puts
 * before every packet, and software segmentation for peers that cannot take a
 * super-frame as it is.
 *
 * virtio_net_hdr (10 bytes, little-endian as the host; TUNSETVNETHDRSZ 10, no num_buffers):
 *
 *   offset 0   1 byte   flags        bit 0 NEEDS_CSUM: the checksum at csum_start+csum_offset
 *                                    holds only the pseudo-header sum; complete it over
 *                                    [csum_start, end). bit 1 DATA_VALID (receive side only).
 *   offset 1   1 byte   gso_type     0 NONE, 1 TCPV4, 3 UDP (fragmentation, unused), 4 TCPV6,
 *                                    5 UDP_L4; bit 7 ECN
 *   offset 2   2 bytes  hdr_len      length of the headers (Ethernet/IP/TCP) — a hint
 *   offset 4   2 bytes  gso_size     payload bytes per segment (the MSS)
 *   offset 6   2 bytes  csum_start   offset of the L4 header from the frame's start
 *   offset 8   2 bytes  csum_offset  offset of the checksum field from csum_start
 *
 * A TCP super-frame carries one IPv4/IPv6 + TCP header and up to 64 KiB of payload;
 * its IPv4 total length / IPv6 payload length cover the whole. Segmenting it gives
 * each segment of `gso_size` bytes its own copy of the headers with the length,
 * IPv4 id (+1 per segment), IPv4 header checksum, TCP sequence number and TCP
 * checksum fixed, FIN and PSH only on the last segment and CWR only on the first,
 * as the kernel's own tcp_gso_segment does.
 *
 * A UDP super-frame (UDP_L4, "uso": Linux ≥ 6.2 takes and makes them on TAP/TUN) is a
 * run of datagrams of one flow with one IPv4/IPv6 + UDP header: every datagram but the
 * last carries exactly `gso_size` payload bytes. Segmenting it gives each datagram its
 * own headers with the lengths, the IPv4 id (+1 per datagram) and header checksum and
 * the UDP checksum fixed, as the kernel's __udp_gso_segment does.
 */

export const VNET_HDR_LENGTH = 10;
export const VNET_F_NEEDS_CSUM = 0x01;
export const VNET_GSO_NONE = 0;
export const VNET_GSO_TCPV4 = 1;
export const VNET_GSO_UDP = 3;
export const VNET_GSO_TCPV6 = 4;
export const VNET_GSO_UDP_L4 = 5;
export const VNET_GSO_ECN = 0x80;

/** Most segments one super-frame may become: bounds the work a hostile header can ask for. */
export const MAX_GSO_SEGMENTS = 1024;

export interface VnetHdr {
  flags: number;
  gsoType: number;
  hdrLen: number;
  gsoSize: number;
  csumStart: number;
  csumOffset: number;
}

export function readVnetHdr(b: Uint8Array): VnetHdr {
  return {
    flags: b[0],
    gsoType: b[1],
    hdrLen: b[2] | (b[3] << 8),
    gsoSize: b[4] | (b[5] << 8),
    csumStart: b[6] | (b[7] << 8),
    csumOffset: b[8] | (b[9] << 8),
  };
}

export function writeVnetHdr(h: VnetHdr, target: Uint8Array = Buffer.alloc(VNET_HDR_LENGTH), offset = 0): Uint8Array {
  target[offset] = h.flags;
  target[offset + 1] = h.gsoType;
  target[offset + 2] = h.hdrLen & 0xff;
  target[offset + 3] = h.hdrLen >>> 8;
  target[offset + 4] = h.gsoSize & 0xff;
  target[offset + 5] = h.gsoSize >>> 8;
  target[offset + 6] = h.csumStart & 0xff;
  target[offset + 7] = h.csumStart >>> 8;
  target[offset + 8] = h.csumOffset & 0xff;
  target[offset + 9] = h.csumOffset >>> 8;
  return target;
}

/** The header's gso_type without the ECN bit: what kind of super-frame `packet` is. */
export function vnetGsoType(packet: Uint8Array, offset = 0): number {
  return packet[offset + 1] & ~VNET_GSO_ECN;
}

/**
 * How many frames the FRAME_GSO payload `packet` stands for, at most: 1 without GSO,
 * else its frame's length over gso_size (the headers counted as payload, so a header
 * cannot make it smaller), at most MAX_GSO_SEGMENTS. What a flood limit charges for it.
 */
export function gsoSegmentCount(packet: Uint8Array): number {
  if (packet.length < VNET_HDR_LENGTH || vnetGsoType(packet) === VNET_GSO_NONE) return 1;
  const size = packet[4] | (packet[5] << 8);
  if (size === 0) return 1;
  return Math.min(MAX_GSO_SEGMENTS, Math.ceil((packet.length - VNET_HDR_LENGTH) / size));
}

/** True when the header asks for work (segmentation or a checksum): only such packets
 * need the header on the wire; the rest travel as plain frames. */
export function vnetHdrNeedsWork(b: Uint8Array, offset = 0): boolean {
  return b[offset + 1] !== VNET_GSO_NONE || (b[offset] & VNET_F_NEEDS_CSUM) !== 0;
}

/** Ones' complement sum of [start, end) added to `initial`, not folded. */
export function sum16(b: Uint8Array, start: number, end: number, initial = 0): number {
  let sum = initial;
  let i = start;
  for (; i + 1 < end; i += 2) sum += (b[i] << 8) | b[i + 1];
  if (i < end) sum += b[i] << 8;
  return sum;
}

/** Folds a sum to 16 bits and complements it: the Internet checksum. */
export function foldChecksum(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

/** Where the IP header starts: after the Ethernet header and up to two VLAN tags (L2), or 0 (L3); -1 if not IP. */
function ipOffset(frame: Buffer, l2: boolean): number {
  if (!l2) return 0;
  let off = 12;
  for (let tags = 0; tags <= 2; tags++) {
    if (frame.length < off + 2) return -1;
    const type = (frame[off] << 8) | frame[off + 1];
    if (type === 0x0800 || type === 0x86dd) return off + 2;
    if (type !== 0x8100 && type !== 0x88a8) return -1;
    off += 4;
  }
  return -1;
}

/**
 * The plain frames (L2) or IP packets (L3) that `packet` — a virtio_net_hdr followed by
 * a frame/packet — stands for: segmented if it is a TCP or UDP super-frame, with the checksum
 * completed if the header says NEEDS_CSUM, else the frame itself (a view). Undefined
 * when the header is malformed, asks for something this does not do (UDP
 * fragmentation offload, the old UDP type), or would give a frame longer than `maxFrame` (what the
 * receiver accepts as a FRAME: a hostile gso_size must not end other peers'
 * sessions): the caller drops it. `packet` is never modified.
 */
export function softwareSegment(packet: Buffer, l2: boolean, maxFrame = 0xffff): Buffer[] | undefined {
  if (packet.length < VNET_HDR_LENGTH) return undefined;
  const h = readVnetHdr(packet);
  const frame = packet.subarray(VNET_HDR_LENGTH);
  const gso = h.gsoType & ~VNET_GSO_ECN;
  if (gso === VNET_GSO_NONE) {
    if (frame.length > maxFrame) return undefined;
    if ((h.flags & VNET_F_NEEDS_CSUM) === 0) return [frame];
    const at = h.csumStart + h.csumOffset;
    if (at + 2 > frame.length || h.csumStart >= frame.length) return undefined;
    const out = Buffer.from(frame);
    out[at] = 0;
    out[at + 1] = 0;
    // The field held the pseudo-header sum: fold it in; 0 goes out as 0xffff, as the kernel does.
    const sum = foldChecksum(sum16(out, h.csumStart, out.length, (frame[at] << 8) | frame[at + 1])) || 0xffff;
    out[at] = sum >>> 8;
    out[at + 1] = sum & 0xff;
    return [out];
  }
  if (gso === VNET_GSO_UDP_L4) return segmentUdp(frame, l2, h, maxFrame);
  if (gso !== VNET_GSO_TCPV4 && gso !== VNET_GSO_TCPV6) return undefined;
  return segmentTcp(frame, l2, gso === VNET_GSO_TCPV4, h, maxFrame);
}

/** One segment of a super-frame: the headers [0, end) and the payload [start, start + len),
 * with the IPv4 total length, id and header checksum (header [ip, l4)) or the IPv6
 * payload length fixed. */
function ipSegment(frame: Buffer, end: number, start: number, len: number, ip: number, l4: number, v4: boolean, id: number): Buffer {
  const seg = Buffer.allocUnsafe(end + len);
  frame.copy(seg, 0, 0, end);
  frame.copy(seg, end, start, start + len);
  if (v4) {
    seg.writeUInt16BE(seg.length - ip, ip + 2);
    seg.writeUInt16BE(id & 0xffff, ip + 4);
    seg[ip + 10] = 0;
    seg[ip + 11] = 0;
    seg.writeUInt16BE(foldChecksum(sum16(seg, ip, l4)), ip + 10);
  } else {
    seg.writeUInt16BE(seg.length - ip - 40, ip + 4);
  }
  return seg;
}

function segmentUdp(frame: Buffer, l2: boolean, h: VnetHdr, maxFrame: number): Buffer[] | undefined {
  const ip = ipOffset(frame, l2);
  if (ip < 0 || frame.length < ip + 20) return undefined;
  const v4 = frame[ip] >> 4 === 4;
  let udp: number;
  if (v4) {
    const ihl = (frame[ip] & 0x0f) * 4;
    if (ihl < 20 || frame[ip + 9] !== 17) return undefined;
    udp = ip + ihl;
  } else {
    if (frame[ip] >> 4 !== 6) return undefined;
    // Extension headers: trust csum_start (it points at the UDP header) when the next header is not UDP.
    udp = frame[ip + 6] === 17 ? ip + 40 : h.csumStart;
    if (udp < ip + 40) return undefined;
  }
  const end = udp + 8;
  const size = h.gsoSize;
  const payload = frame.length - end;
  if (payload <= 0 || size === 0) return undefined;
  const count = Math.ceil(payload / size);
  if (count > MAX_GSO_SEGMENTS || end + Math.min(size, payload) > maxFrame) return undefined;

  const id0 = v4 ? frame.readUInt16BE(ip + 4) : 0;
  const pseudo = v4 ? sum16(frame, ip + 12, ip + 20, 17) : sum16(frame, ip + 8, ip + 40, 17);
  const out: Buffer[] = new Array<Buffer>(count);
  for (let i = 0; i < count; i++) {
    const start = end + i * size;
    const seg = ipSegment(frame, end, start, Math.min(size, frame.length - start), ip, udp, v4, id0 + i);
    const udpLen = seg.length - udp;
    seg.writeUInt16BE(udpLen, udp + 4);
    seg[udp + 6] = 0;
    seg[udp + 7] = 0;
    // A computed 0 goes out as 0xffff: 0 means "no checksum" in UDP.
    seg.writeUInt16BE(foldChecksum(sum16(seg, udp, seg.length, pseudo + udpLen)) || 0xffff, udp + 6);
    out[i] = seg;
  }
  return out;
}

function segmentTcp(frame: Buffer, l2: boolean, v4: boolean, h: VnetHdr, maxFrame: number): Buffer[] | undefined {
  const ip = ipOffset(frame, l2);
  if (ip < 0 || frame.length < ip + 20) return undefined;
  let tcp: number;
  if (v4) {
    const ihl = (frame[ip] & 0x0f) * 4;
    if (frame[ip] >> 4 !== 4 || ihl < 20 || frame[ip + 9] !== 6) return undefined;
    tcp = ip + ihl;
  } else {
    if (frame[ip] >> 4 !== 6) return undefined;
    // Extension headers: trust csum_start (it points at the TCP header) when the next header is not TCP.
    tcp = frame[ip + 6] === 6 ? ip + 40 : h.csumStart;
    if (tcp < ip + 40) return undefined;
  }
  if (frame.length < tcp + 20) return undefined;
  const end = tcp + (frame[tcp + 12] >> 4) * 4;
  const mss = h.gsoSize;
  if (end < tcp + 20 || end > frame.length || mss === 0) return undefined;
  const payload = frame.length - end;
  const count = Math.max(1, Math.ceil(payload / mss));
  if (count > MAX_GSO_SEGMENTS || end + Math.min(mss, payload) > maxFrame) return undefined;

  const seq0 = frame.readUInt32BE(tcp + 4);
  const id0 = v4 ? frame.readUInt16BE(ip + 4) : 0;
  const flags = frame[tcp + 13];
  // Pseudo-header without the length: addresses and protocol.
  const pseudo = v4 ? sum16(frame, ip + 12, ip + 20, 6) : sum16(frame, ip + 8, ip + 40, 6);
  const out: Buffer[] = new Array<Buffer>(count);
  for (let i = 0; i < count; i++) {
    const start = end + i * mss;
    const seg = ipSegment(frame, end, start, Math.min(mss, frame.length - start), ip, tcp, v4, id0 + i);
    seg.writeUInt32BE((seq0 + i * mss) >>> 0, tcp + 4);
    let f = flags;
    if (i < count - 1) f &= ~0x09; // FIN, PSH: last segment only
    if (i > 0) f &= ~0x80; // CWR: first segment only
    seg[tcp + 13] = f;
    seg[tcp + 16] = 0;
    seg[tcp + 17] = 0;
    const tcpLen = seg.length - tcp;
    seg.writeUInt16BE(foldChecksum(sum16(seg, tcp, seg.length, pseudo + tcpLen)), tcp + 16);
    out[i] = seg;
  }
  return out;
}
