/**
 * Send-side segmentation offload for the user-mode stack: consecutive TCP segments of one
 * connection that lwIP sent in one flush become one super-frame (a virtio_net_hdr with
 * GSO_TCPV4/TCPV6 and NEEDS_CSUM, then the headers once and the payloads), as a kernel
 * client's TSO does. The switch carries it as one FRAME_GSO record (docs/protocol.md §2.4)
 * and segments it only for receivers without offload — per-record work is what the path
 * pays for, so this is what brings the library near the kernel client.
 *
 * A run is exact by construction: segmenting the super-frame again (softwareSegment, as
 * the switch does) gives back the very frames lwIP made — same headers except for the
 * fields segmentation rewrites (lengths, consecutive IPv4 ids, sequence numbers,
 * checksums, PSH on the last), all payloads but the last of the same size, nothing but
 * ACK (and PSH on the last) in the flags. Anything else leaves as it came.
 */
import { MAX_RECORD_PAYLOAD, VNET_F_NEEDS_CSUM, VNET_GSO_TCPV4, VNET_GSO_TCPV6, VNET_HDR_LENGTH } from '@elink/protocol';

const ACK = 0x10;
const PSH = 0x08;
/** The most a super-frame carries: a record's payload, and IPv4's 16-bit total length. */
const MAX_SUPER = Math.min(MAX_RECORD_PAYLOAD, 65535) - VNET_HDR_LENGTH;

interface Seg {
  frame: Buffer;
  ip: number;
  tcp: number;
  /** End of the TCP header = start of the payload. */
  end: number;
  v4: boolean;
}

/** The TCP segment `frame` carries data in, with no flags but ACK/PSH; else undefined. */
function tcpData(frame: Buffer, l2: boolean): Seg | undefined {
  let ip = 0;
  if (l2) {
    if (frame.length < 14) return undefined;
    const type = (frame[12] << 8) | frame[13];
    if (type !== 0x0800 && type !== 0x86dd) return undefined;
    ip = 14;
  }
  if (frame.length < ip + 40) return undefined;
  const version = frame[ip] >> 4;
  let tcp: number;
  let v4: boolean;
  if (version === 4) {
    // No IP options, TCP, not a fragment (DF alone may be set).
    if (frame[ip] !== 0x45 || frame[ip + 9] !== 6 || (frame.readUInt16BE(ip + 6) & 0x3fff) !== 0) return undefined;
    tcp = ip + 20;
    v4 = true;
  } else if (version === 6) {
    if (frame[ip + 6] !== 6) return undefined;
    tcp = ip + 40;
    v4 = false;
  } else return undefined;
  if (frame.length < tcp + 20) return undefined;
  const end = tcp + (frame[tcp + 12] >> 4) * 4;
  if (end < tcp + 20 || end >= frame.length) return undefined; // no payload: a pure ACK
  if ((frame[tcp + 13] & ~(ACK | PSH)) !== 0 || (frame[tcp + 13] & ACK) === 0) return undefined;
  return { frame, ip, tcp, end, v4 };
}

/** Whether `b` continues the run that ends with `a` (same connection, next bytes, same headers). */
function continues(a: Seg, b: Seg, mss: number): boolean {
  const fa = a.frame;
  const fb = b.frame;
  if (a.end !== b.end || a.v4 !== b.v4 || a.tcp !== b.tcp) return false;
  // Only the last of a run may be short or push.
  if (fa.length - a.end !== mss || (fa[a.tcp + 13] & PSH) !== 0) return false;
  if (fb.length - b.end > mss) return false;
  if (fb.readUInt32BE(b.tcp + 4) !== ((fa.readUInt32BE(a.tcp + 4) + mss) >>> 0)) return false;
  // Everything up to the TCP header equal but for what segmentation rewrites.
  if (a.v4) {
    if (fb.readUInt16BE(b.ip + 4) !== ((fa.readUInt16BE(a.ip + 4) + 1) & 0xffff)) return false;
    if (!same(fa, fb, 0, a.ip + 2) || !same(fa, fb, a.ip + 6, a.ip + 10) || !same(fa, fb, a.ip + 12, a.tcp)) return false;
  } else if (!same(fa, fb, 0, a.ip + 4) || !same(fa, fb, a.ip + 6, a.tcp)) return false;
  // Ports, ack, window; options (timestamps) equal too: the copies must be exact.
  return same(fa, fb, a.tcp, a.tcp + 4) && same(fa, fb, a.tcp + 8, a.tcp + 13) && same(fa, fb, a.tcp + 14, a.tcp + 16) && same(fa, fb, a.tcp + 18, a.end);
}

function same(a: Buffer, b: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A zero virtio_net_hdr and the frame: a plain frame for sendVnetPackets. */
function plain(frame: Buffer): Buffer {
  const p = Buffer.allocUnsafe(VNET_HDR_LENGTH + frame.length);
  p.fill(0, 0, VNET_HDR_LENGTH);
  frame.copy(p, VNET_HDR_LENGTH);
  return p;
}

function superFrame(run: Seg[], mss: number): Buffer {
  const first = run[0];
  const { ip, tcp, end, v4 } = first;
  let payload = 0;
  for (const s of run) payload += s.frame.length - s.end;
  const out = Buffer.allocUnsafe(VNET_HDR_LENGTH + end + payload);
  const h = VNET_HDR_LENGTH;
  out[0] = VNET_F_NEEDS_CSUM;
  out[1] = v4 ? VNET_GSO_TCPV4 : VNET_GSO_TCPV6;
  out.writeUInt16LE(end, 2);
  out.writeUInt16LE(mss, 4);
  out.writeUInt16LE(tcp, 6);
  out.writeUInt16LE(16, 8);
  first.frame.copy(out, h, 0, end);
  let at = h + end;
  for (const s of run) at += s.frame.copy(out, at, s.end);
  const len = out.length - h;
  // PSH from the last segment; the rest of the flags are the same throughout.
  out[h + tcp + 13] = first.frame[tcp + 13] | (run[run.length - 1].frame[tcp + 13] & PSH);
  const tcpLen = len - tcp;
  let pseudo: number;
  if (v4) {
    out.writeUInt16BE(len - ip, h + ip + 2);
    out[h + ip + 10] = 0;
    out[h + ip + 11] = 0;
    out.writeUInt16BE(checksum(out, h + ip, h + ip + 20, 0), h + ip + 10);
    pseudo = sum(out, h + ip + 12, h + ip + 20, 6 + tcpLen);
  } else {
    out.writeUInt16BE(len - ip - 40, h + ip + 4);
    pseudo = sum(out, h + ip + 8, h + ip + 40, 6 + tcpLen);
  }
  // NEEDS_CSUM: the field holds the pseudo-header sum, folded, not complemented.
  while (pseudo > 0xffff) pseudo = (pseudo & 0xffff) + (pseudo >>> 16);
  out.writeUInt16BE(pseudo, h + tcp + 16);
  return out;
}

function sum(b: Buffer, from: number, to: number, initial: number): number {
  let s = initial;
  for (let i = from; i < to; i += 2) s += (b[i] << 8) | b[i + 1];
  return s;
}

function checksum(b: Buffer, from: number, to: number, initial: number): number {
  let s = sum(b, from, to, initial);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/**
 * The frames of one flush as virtio_net_hdr packets (for SwitchLink.sendVnetPackets):
 * runs of consecutive segments of a connection as super-frames, everything else plain.
 * Frames of different connections may interleave; each run keeps its own order.
 */
export function coalesceTcp(frames: readonly Buffer[], l2: boolean): Buffer[] {
  const out: Buffer[] = [];
  let run: Seg[] = [];
  let mss = 0;
  let size = 0;
  const flush = () => {
    if (run.length === 1) out.push(plain(run[0].frame));
    else if (run.length > 1) out.push(superFrame(run, mss));
    run = [];
  };
  for (const f of frames) {
    const s = tcpData(f, l2);
    if (!s) {
      flush();
      out.push(plain(f));
      continue;
    }
    if (run.length > 0 && continues(run[run.length - 1], s, mss) && size + (f.length - s.end) <= MAX_SUPER) {
      run.push(s);
      size += f.length - s.end;
      continue;
    }
    flush();
    run = [s];
    mss = f.length - s.end;
    size = f.length;
  }
  flush();
  return out;
}
