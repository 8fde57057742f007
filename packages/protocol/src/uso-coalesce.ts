/**
 * UDP coalescing, the sending half of "uso": a run of datagrams of one flow that an
 * offload device handed over in one read becomes one UDP super-frame (gso.ts). It
 * crosses the switch as one FRAME_GSO record and is written to the receiving device in
 * one write; the receiving kernel splits it again (__udp_gso_segment). What a datagram
 * flood costs per packet — a record, a switch decision, a TAP write — is then paid per
 * run. A lone datagram (a voice packet) is never held back: only what one read already
 * delivered is merged.
 *
 * A packet joins a run only when the split gives it back as it was: the same Ethernet
 * header (L2, no VLAN tag), the same IP header but for the lengths, the IPv4 id and the
 * header checksum (IPv4 without options and not a fragment, IPv6 without extension
 * headers), the same ports, a UDP checksum still to be computed (NEEDS_CSUM at the UDP
 * checksum, as a local sender's packets are on an offload device: the split computes
 * it), and the run's payload size (`gso_size`), but for a last, shorter one. The IPv4 id
 * becomes the first datagram's + 1 per datagram, as the kernel's own split numbers them.
 */
import {
  foldChecksum,
  sum16,
  VNET_F_NEEDS_CSUM,
  VNET_GSO_NONE,
  VNET_GSO_UDP_L4,
  VNET_HDR_LENGTH,
} from './gso.js';
import { MAX_TRUNK_GSO_PAYLOAD } from './records.js';

/** Most datagrams merged into one super-frame (the kernel takes up to 128). */
export const MAX_USO_SEGMENTS = 64;

const UDP_HEADER = 8;

/**
 * `packets` (each a virtio_net_hdr, then a frame/packet, as read from an offload device)
 * with every run of two or more datagrams of one flow replaced by one UDP super-frame
 * of at most `maxPacket` bytes (header included), in the same order. `packets` itself
 * when nothing merged; the packets are never modified.
 */
export function coalesceUdp(packets: readonly Buffer[], l2: boolean, maxPacket = MAX_TRUNK_GSO_PAYLOAD): readonly Buffer[] {
  const n = packets.length;
  if (n < 2) return packets;
  let out: Buffer[] | undefined;
  let i = 0;
  while (i < n) {
    const first = packets[i];
    const udp = udpOffset(first, l2);
    let j = i + 1;
    let total = first.length;
    if (udp >= 0) {
      const size = first.length - udp - UDP_HEADER;
      while (j < n && j - i < MAX_USO_SEGMENTS) {
        const p = packets[j];
        const len = p.length - udp - UDP_HEADER;
        if (len <= 0 || len > size || total + len > maxPacket || udpOffset(p, l2) !== udp || !sameFlow(first, p, udp, l2)) break;
        total += len;
        j++;
        if (len < size) break;
      }
    }
    if (j - i >= 2) {
      out ??= packets.slice(0, i);
      out.push(merge(packets, i, j, udp, total, l2));
    } else if (out !== undefined) {
      out.push(first);
    }
    i = j;
  }
  return out ?? packets;
}

/** Where the UDP header starts in `p` (virtio_net_hdr included) if `p` may join a run; else -1. */
function udpOffset(p: Buffer, l2: boolean): number {
  const ip = VNET_HDR_LENGTH + (l2 ? 14 : 0);
  if (p.length <= ip + 20 + UDP_HEADER || p[0] !== VNET_F_NEEDS_CSUM || p[1] !== VNET_GSO_NONE) return -1;
  const version = p[ip] >> 4;
  let udp: number;
  if (version === 4) {
    if (l2 && (p[ip - 2] !== 0x08 || p[ip - 1] !== 0x00)) return -1;
    // No options, UDP, not a fragment (reserved bit, MF and offset clear), the length exact.
    if (p[ip] !== 0x45 || p[ip + 9] !== 17 || (p[ip + 6] & 0xbf) !== 0 || p[ip + 7] !== 0) return -1;
    if (((p[ip + 2] << 8) | p[ip + 3]) !== p.length - ip) return -1;
    udp = ip + 20;
  } else if (version === 6) {
    if (l2 && (p[ip - 2] !== 0x86 || p[ip - 1] !== 0xdd)) return -1;
    if (p.length <= ip + 40 + UDP_HEADER || p[ip + 6] !== 17 || ((p[ip + 4] << 8) | p[ip + 5]) !== p.length - ip - 40) return -1;
    udp = ip + 40;
  } else {
    return -1;
  }
  // csum_start / csum_offset (little-endian) at the UDP checksum; the UDP length exact.
  if ((p[6] | (p[7] << 8)) !== udp - VNET_HDR_LENGTH || (p[8] | (p[9] << 8)) !== 6) return -1;
  if (((p[udp + 4] << 8) | p[udp + 5]) !== p.length - udp) return -1;
  return udp;
}

/** Same Ethernet header, same IP header but for what the split rewrites, same ports. */
function sameFlow(a: Buffer, b: Buffer, udp: number, l2: boolean): boolean {
  const ip = VNET_HDR_LENGTH + (l2 ? 14 : 0);
  if (l2 && !sameBytes(a, b, VNET_HDR_LENGTH, ip)) return false;
  if (udp === ip + 20) {
    // TOS, DF, TTL; protocol is UDP in both; addresses.
    if (a[ip + 1] !== b[ip + 1] || a[ip + 6] !== b[ip + 6] || a[ip + 8] !== b[ip + 8]) return false;
    if (!sameBytes(a, b, ip + 12, ip + 20)) return false;
  } else {
    // Version, traffic class and flow label; hop limit; addresses.
    if (!sameBytes(a, b, ip, ip + 4) || a[ip + 7] !== b[ip + 7]) return false;
    if (!sameBytes(a, b, ip + 8, ip + 40)) return false;
  }
  return sameBytes(a, b, udp, udp + 4);
}

/** a[start, end) equals b[start, end). A loop: for these few bytes, far cheaper than a
 * native Buffer.compare call per packet (10 % of a flooding client's CPU). */
function sameBytes(a: Buffer, b: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (a[i] !== b[i]) return false;
  return true;
}

function merge(packets: readonly Buffer[], from: number, to: number, udp: number, total: number, l2: boolean): Buffer {
  const first = packets[from];
  const out = Buffer.allocUnsafe(total);
  first.copy(out, 0);
  let at = first.length;
  const payload = udp + UDP_HEADER;
  for (let k = from + 1; k < to; k++) at += packets[k].copy(out, at, payload);
  const size = first.length - payload;
  out[1] = VNET_GSO_UDP_L4;
  out[2] = (payload - VNET_HDR_LENGTH) & 0xff;
  out[3] = (payload - VNET_HDR_LENGTH) >>> 8;
  out[4] = size & 0xff;
  out[5] = size >>> 8;
  const ip = VNET_HDR_LENGTH + (l2 ? 14 : 0);
  let pseudo: number;
  if (udp === ip + 20) {
    out.writeUInt16BE(total - ip, ip + 2);
    out[ip + 10] = 0;
    out[ip + 11] = 0;
    out.writeUInt16BE(foldChecksum(sum16(out, ip, udp)), ip + 10);
    pseudo = sum16(out, ip + 12, ip + 20, 17);
  } else {
    out.writeUInt16BE(total - ip - 40, ip + 4);
    pseudo = sum16(out, ip + 8, ip + 40, 17);
  }
  const udpLen = total - udp;
  out.writeUInt16BE(udpLen, udp + 4);
  // NEEDS_CSUM: the field holds the pseudo-header sum over the whole run's length, folded
  // and not complemented, as the kernel's own UDP GSO leaves it.
  out.writeUInt16BE(~foldChecksum(pseudo + udpLen) & 0xffff, udp + 6);
  return out;
}
