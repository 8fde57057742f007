/** TCP and UDP super-frames (FRAME_GSO payloads) as a kernel hands them over or a client
 * coalesces them, and checks of the segments made of them (only for tests). */
import { expect } from 'vitest';
import { coalesceUdp, foldChecksum, macBytes, sum16, VNET_F_NEEDS_CSUM, VNET_GSO_TCPV4, VNET_GSO_TCPV6, VNET_GSO_UDP_L4, VNET_HDR_LENGTH, writeVnetHdr } from '@elink/protocol';
import { udpDatagram as datagram } from '../../../protocol/src/test-datagrams.js';
import { ethFrame } from './test-frames.js';

export const PAYLOAD = Buffer.from(Buffer.alloc(10_000, 0).map((_, i) => (i * 13) & 0xff));
export const MSS = 1448;

/** An IPv4 (or IPv6) TCP super-packet as the kernel hands one over: lengths cover all, the
 * TCP checksum field holds the pseudo-header sum (NEEDS_CSUM). `l2` adds an Ethernet header;
 * the TCP payload is PAYLOAD unless given. */
export function superPacket(opts: { l2: boolean; v6?: boolean; dst?: number; src?: number; srcIp?: number[]; dstIp?: number[]; mss?: number; payload?: Buffer }): Buffer {
  const payload = opts.payload ?? PAYLOAD;
  const v6 = opts.v6 ?? false;
  const eth = opts.l2 ? 14 : 0;
  const ipLen = v6 ? 40 : 20;
  const f = Buffer.alloc(eth + ipLen + 20 + payload.length);
  if (opts.l2) {
    const e = ethFrame(opts.dst!, opts.src!, Buffer.alloc(0), v6 ? 0x86dd : 0x0800);
    e.copy(f, 0);
  }
  const ip = eth;
  if (!v6) {
    f[ip] = 0x45;
    f.writeUInt16BE(f.length - ip, ip + 2);
    f.writeUInt16BE(100, ip + 4);
    f[ip + 8] = 64;
    f[ip + 9] = 6;
    Buffer.from([...(opts.srcIp ?? [198, 19, 0, 1]), ...(opts.dstIp ?? [198, 19, 0, 2])]).copy(f, ip + 12);
    f.writeUInt16BE(foldChecksum(sum16(f, ip, ip + 20)), ip + 10);
  } else {
    f[ip] = 0x60;
    f.writeUInt16BE(f.length - ip - 40, ip + 4);
    f[ip + 6] = 6;
    f[ip + 7] = 64;
    Buffer.from(opts.srcIp ?? []).copy(f, ip + 8);
    Buffer.from(opts.dstIp ?? []).copy(f, ip + 24);
  }
  const tcp = ip + ipLen;
  f.writeUInt16BE(40000, tcp);
  f.writeUInt16BE(5201, tcp + 2);
  f.writeUInt32BE(1000, tcp + 4);
  f[tcp + 12] = 0x50;
  f[tcp + 13] = 0x18;
  payload.copy(f, tcp + 20);
  const pseudo = v6 ? sum16(f, ip + 8, ip + 40, 6 + f.length - tcp) : sum16(f, ip + 12, ip + 20, 6 + f.length - tcp);
  f.writeUInt16BE(~foldChecksum(pseudo) & 0xffff, tcp + 16);
  const hdr = writeVnetHdr({ flags: VNET_F_NEEDS_CSUM, gsoType: v6 ? VNET_GSO_TCPV6 : VNET_GSO_TCPV4, hdrLen: tcp + 20, gsoSize: opts.mss ?? MSS, csumStart: tcp, csumOffset: 16 });
  return Buffer.concat([hdr, f]);
}

/** The TCP payloads of plain segments, each checked: IPv4 header and TCP checksums verify. */
export function tcpPayloads(frames: Buffer[], ip: number, v6 = false): Buffer {
  return Buffer.concat(
    frames.map((s) => {
      const tcp = ip + (v6 ? 40 : 20);
      if (!v6) expect(foldChecksum(sum16(s, ip, ip + 20))).toBe(0);
      const pseudo = v6 ? sum16(s, ip + 8, ip + 40, 6 + s.length - tcp) : sum16(s, ip + 12, ip + 20, 6 + s.length - tcp);
      expect(foldChecksum(sum16(s, tcp, s.length, pseudo))).toBe(0);
      return s.subarray(tcp + 20);
    }),
  );
}

export interface UdpFlow {
  l2: boolean;
  v6?: boolean;
  dst?: number;
  src?: number;
  srcIp?: number[];
  dstIp?: number[];
}

/** One UDP datagram of `flow` as an offload device hands it over (virtio_net_hdr, NEEDS_CSUM:
 * the UDP checksum field holds the pseudo-header sum), and the same frame as it goes on the
 * wire (the checksum complete). IPv4 id `id`. */
export function udpDatagram(flow: UdpFlow, payload: Buffer, id = 100): { packet: Buffer; wire: Buffer } {
  const o = {
    l2: flow.l2,
    v6: flow.v6 ?? false,
    ...(flow.l2 ? { dstMac: macBytes(flow.dst!), srcMac: macBytes(flow.src!) } : {}),
    srcIp: flow.srcIp ?? (flow.v6 ? undefined : [198, 19, 0, 1]),
    dstIp: flow.dstIp ?? (flow.v6 ? undefined : [198, 19, 0, 2]),
    srcPort: 40001,
    payload,
    id,
  };
  return { packet: datagram(o), wire: datagram({ ...o, complete: true }).subarray(VNET_HDR_LENGTH) };
}

/**
 * A UDP super-frame (UDP_L4) of `count` datagrams of `flow`, `size` payload bytes each but
 * the last (`last`, default `size`), merged by the client's coalesceUdp as a sending client
 * does; with the datagrams as they must come out of it on the wire (IPv4 ids 100, 101, …).
 */
export function udpSuperFrame(flow: UdpFlow, count: number, size: number, last = size): { packet: Buffer; wire: Buffer[]; payloads: Buffer[] } {
  const payloads = Array.from({ length: count }, (_, i) => Buffer.alloc(i === count - 1 ? last : size, (i * 7 + 1) & 0xff));
  const datagrams = payloads.map((p, i) => udpDatagram(flow, p, 100 + i));
  const merged = coalesceUdp(
    datagrams.map((d) => d.packet),
    flow.l2,
  );
  expect(merged).toHaveLength(1);
  expect(merged[0][1]).toBe(VNET_GSO_UDP_L4);
  return { packet: merged[0], wire: datagrams.map((d) => d.wire), payloads };
}

/** The UDP payloads of plain datagrams, each checked: lengths, IPv4 header and UDP checksums verify. */
export function udpPayloads(frames: Buffer[], ip: number, v6 = false): Buffer[] {
  return frames.map((s) => {
    const udp = ip + (v6 ? 40 : 20);
    if (!v6) {
      expect(s.readUInt16BE(ip + 2)).toBe(s.length - ip);
      expect(foldChecksum(sum16(s, ip, ip + 20))).toBe(0);
    } else {
      expect(s.readUInt16BE(ip + 4)).toBe(s.length - udp);
    }
    expect(s.readUInt16BE(udp + 4)).toBe(s.length - udp);
    const pseudo = v6 ? sum16(s, ip + 8, ip + 40, 17 + s.length - udp) : sum16(s, ip + 12, ip + 20, 17 + s.length - udp);
    expect(s.readUInt16BE(udp + 6)).not.toBe(0);
    expect(foldChecksum(sum16(s, udp, s.length, pseudo))).toBe(0);
    return s.subarray(udp + 8);
  });
}
