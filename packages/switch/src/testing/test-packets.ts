/** IPv4/IPv6 packets for L3 tests (only for tests). */
import { parseAddress, writeWords } from '../core/l3/ip.js';

function sum16(b: Uint8Array, start: number, end: number, sum = 0): number {
  for (let i = start; i < end; i += 2) sum += (b[i] << 8) | (i + 1 < end ? b[i + 1] : 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/** True when the IPv4 header checksum verifies. */
export function ipv4HeaderOk(p: Uint8Array): boolean {
  return sum16(p, 0, (p[0] & 15) * 4) === 0xffff;
}

/** An IPv4 UDP packet (checksum 0) with `payload`. */
export function udp4(src: string, dst: string, payload = 'hi', ttl = 64): Buffer {
  const body = Buffer.from(payload);
  const p = Buffer.alloc(28 + body.length);
  p[0] = 0x45;
  p.writeUInt16BE(p.length, 2);
  p[8] = ttl;
  p[9] = 17;
  writeWords(p, 12, parseAddress(src)!.words);
  writeWords(p, 16, parseAddress(dst)!.words);
  p.writeUInt16BE(~sum16(p, 0, 20) & 0xffff, 10);
  p.writeUInt16BE(40000, 20);
  p.writeUInt16BE(33434, 22);
  p.writeUInt16BE(8 + body.length, 24);
  body.copy(p, 28);
  return p;
}

/** An IPv6 UDP packet with `payload`. */
export function udp6(src: string, dst: string, payload = 'hi', hopLimit = 64): Buffer {
  const body = Buffer.from(payload);
  const p = Buffer.alloc(48 + body.length);
  p[0] = 0x60;
  p.writeUInt16BE(8 + body.length, 4);
  p[6] = 17;
  p[7] = hopLimit;
  writeWords(p, 8, parseAddress(src)!.words);
  writeWords(p, 24, parseAddress(dst)!.words);
  p.writeUInt16BE(40000, 40);
  p.writeUInt16BE(33434, 42);
  p.writeUInt16BE(8 + body.length, 44);
  body.copy(p, 48);
  return p;
}

/** Text form of the IPv4 (offset 12/16) or IPv6 (8/24) source and destination. */
export function endpoints(p: Uint8Array): { src: string; dst: string } {
  if (p[0] >> 4 === 4) return { src: [...p.subarray(12, 16)].join('.'), dst: [...p.subarray(16, 20)].join('.') };
  const hex = (o: number) => [...Array(8).keys()].map((i) => ((p[o + 2 * i] << 8) | p[o + 2 * i + 1]).toString(16)).join(':');
  return { src: hex(8), dst: hex(24) };
}

/** True when the ICMP (v4) or ICMPv6 checksum of `p` verifies. */
export function icmpChecksumOk(p: Uint8Array): boolean {
  if (p[0] >> 4 === 4) {
    const ihl = (p[0] & 15) * 4;
    return sum16(p, ihl, (p[2] << 8) | p[3]) === 0xffff;
  }
  const len = (p[4] << 8) | p[5];
  return sum16(p, 40, 40 + len, sum16(p, 8, 40, len + 58)) === 0xffff;
}

/** An ICMP echo request (v4 type 8, v6 type 128) with id, sequence and `data`. */
export function echoRequest(src: string, dst: string, id: number, seq: number, data = 'ping'): Buffer {
  const v4 = !src.includes(':');
  const body = Buffer.from(data);
  const h = v4 ? 20 : 40;
  const p = Buffer.alloc(h + 8 + body.length);
  if (v4) {
    p[0] = 0x45;
    p.writeUInt16BE(p.length, 2);
    p[8] = 64;
    p[9] = 1;
    writeWords(p, 12, parseAddress(src)!.words);
    writeWords(p, 16, parseAddress(dst)!.words);
    p.writeUInt16BE(~sum16(p, 0, 20) & 0xffff, 10);
  } else {
    p[0] = 0x60;
    p.writeUInt16BE(8 + body.length, 4);
    p[6] = 58;
    p[7] = 64;
    writeWords(p, 8, parseAddress(src)!.words);
    writeWords(p, 24, parseAddress(dst)!.words);
  }
  p[h] = v4 ? 8 : 128;
  p.writeUInt16BE(id, h + 4);
  p.writeUInt16BE(seq, h + 6);
  body.copy(p, h + 8);
  const sum = v4 ? sum16(p, h, p.length) : sum16(p, 40, p.length, sum16(p, 8, 40, 8 + body.length + 58));
  p.writeUInt16BE(~sum & 0xffff, h + 2);
  return p;
}
