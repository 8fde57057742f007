/**
 * A reader for what `tcpdump -i any -y LINUX_SLL2 --time-stamp-precision nano -w FILE`
 * writes, reduced to what the per-hop figure needs: IPv4 ICMP echoes (tunnel side) and
 * TCP segments that carry data (underlay side), each with its capture time. Everything
 * else (ARP, IPv6, pure ACKs) is skipped.
 */
import { readFileSync } from 'node:fs';

/** An ICMP echo request (type 8) or reply (type 0); `key` is "id:seq". */
export interface IcmpEvent {
  /** Capture time, µs since `Capture.base` seconds. */
  t: number;
  src: number;
  dst: number;
  type: number;
  key: string;
}

/** A TCP segment with payload. */
export interface TcpEvent {
  t: number;
  src: number;
  dst: number;
  sport: number;
  dport: number;
}

export interface Capture {
  /** Seconds of the epoch that every `t` counts from (the first packet's second), so
   * µs stay exact in a double. */
  base: number;
  icmp: IcmpEvent[];
  tcp: TcpEvent[];
}

const MAGIC_NS = 0xa1b23c4d;
const MAGIC_US = 0xa1b2c3d4;
const LINKTYPE_LINUX_SLL = 113;
const LINKTYPE_LINUX_SLL2 = 276;

export function ipv4(dotted: string): number {
  return dotted.split('.').reduce((a, o) => a * 256 + Number(o), 0);
}

/** Parses a classic pcap file (little-endian, as tcpdump writes it here). */
export function readCapture(file: string, base?: number): Capture {
  const b = readFileSync(file);
  const out: Capture = { base: base ?? 0, icmp: [], tcp: [] };
  if (b.length < 24) return out;
  const magic = b.readUInt32LE(0);
  if (magic !== MAGIC_NS && magic !== MAGIC_US) throw new Error(`${file}: not a little-endian pcap file (magic ${magic.toString(16)})`);
  const fracToUs = magic === MAGIC_NS ? 1e-3 : 1;
  const linktype = b.readUInt32LE(20);
  let l3: number;
  let protoAt: number;
  if (linktype === LINKTYPE_LINUX_SLL2) [l3, protoAt] = [20, 0];
  else if (linktype === LINKTYPE_LINUX_SLL) [l3, protoAt] = [16, 14];
  else throw new Error(`${file}: link type ${linktype}, expected LINUX_SLL2 (tcpdump -i any -y LINUX_SLL2)`);
  let first = base === undefined;
  for (let off = 24; off + 16 <= b.length; ) {
    const sec = b.readUInt32LE(off);
    const frac = b.readUInt32LE(off + 4);
    const incl = b.readUInt32LE(off + 8);
    const p = off + 16;
    off = p + incl;
    if (off > b.length) break;
    if (first) {
      out.base = sec;
      first = false;
    }
    if (incl < l3 + 20 || b.readUInt16BE(p + protoAt) !== 0x0800) continue;
    const ip = p + l3;
    if (b[ip] >> 4 !== 4) continue;
    const ihl = (b[ip] & 0x0f) * 4;
    const total = b.readUInt16BE(ip + 2);
    const proto = b[ip + 9];
    const src = b.readUInt32BE(ip + 12);
    const dst = b.readUInt32BE(ip + 16);
    const t = (sec - out.base) * 1e6 + frac * fracToUs;
    const l4 = ip + ihl;
    if (proto === 1 && l4 + 8 <= p + incl) {
      const type = b[l4];
      if (type !== 0 && type !== 8) continue;
      out.icmp.push({ t, src, dst, type, key: `${b.readUInt16BE(l4 + 4)}:${b.readUInt16BE(l4 + 6)}` });
    } else if (proto === 6 && l4 + 20 <= p + incl) {
      const dataOffset = (b[l4 + 12] >> 4) * 4;
      if (total - ihl - dataOffset <= 0) continue;
      out.tcp.push({ t, src, dst, sport: b.readUInt16BE(l4), dport: b.readUInt16BE(l4 + 2) });
    }
  }
  return out;
}
