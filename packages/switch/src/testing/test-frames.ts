/** Test helper: Ethernet frames from numeric MACs. Only for tests. */
import { macBytes } from '@elink/protocol';
import { parseAddress, writeWords } from '../core/l3/ip.js';

export const BROADCAST = 0xffffffffffff;

export function ethFrame(dst: number, src: number, payload: string | Buffer = 'hello', ethertype = 0x88b5): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const f = Buffer.alloc(14 + body.length);
  macBytes(dst).copy(f, 0);
  macBytes(src).copy(f, 6);
  f.writeUInt16BE(ethertype, 12);
  body.copy(f, 14);
  return f;
}

export function mac(n: number): number {
  return 0x020000000000 + n;
}

/** An ARP frame (op 1 request, 2 reply) from `src`, sender hardware address `sha` (default `src`). */
export function arpFrame(opts: { dst?: number; src: number; op?: number; spa: string; tpa: string; sha?: number; tha?: number }): Buffer {
  const body = Buffer.alloc(28);
  body.writeUInt16BE(1, 0);
  body.writeUInt16BE(0x0800, 2);
  body[4] = 6;
  body[5] = 4;
  body.writeUInt16BE(opts.op ?? 2, 6);
  macBytes(opts.sha ?? opts.src).copy(body, 8);
  writeWords(body, 14, parseAddress(opts.spa)!.words);
  macBytes(opts.tha ?? 0).copy(body, 18);
  writeWords(body, 24, parseAddress(opts.tpa)!.words);
  return ethFrame(opts.dst ?? BROADCAST, opts.src, body, 0x0806);
}

/**
 * An ICMPv6 neighbour discovery frame: NS (135) or NA (136) for `target`, RS (133), RA (134),
 * with a source (NS, RS, RA) or target (NA) link-layer address option of `ll` (default
 * `src`; null: none). `extension`: a hop-by-hop header before it; `fragment`: in a first
 * fragment. The ICMPv6 checksum is not filled in (the switch does not read it).
 */
export function ndFrame(opts: {
  type: 133 | 134 | 135 | 136;
  src: number;
  dst?: number;
  from: string;
  to?: string;
  target?: string;
  ll?: number | null;
  hopByHop?: boolean;
  fragment?: boolean;
}): Buffer {
  const fixed = opts.type === 135 || opts.type === 136 ? 24 : opts.type === 134 ? 16 : 8;
  const ll = opts.ll === null ? undefined : (opts.ll ?? opts.src);
  const icmp = Buffer.alloc(fixed + (ll === undefined ? 0 : 8));
  icmp[0] = opts.type;
  if (fixed === 24) writeWords(icmp, 8, parseAddress(opts.target ?? opts.from)!.words);
  if (ll !== undefined) {
    icmp[fixed] = opts.type === 136 ? 2 : 1;
    icmp[fixed + 1] = 1;
    macBytes(ll).copy(icmp, fixed + 2);
  }
  const ext = opts.hopByHop ? Buffer.from([58, 0, 1, 4, 0, 0, 0, 0]) : opts.fragment ? Buffer.from([58, 0, 0, 1, 0, 0, 0, 7]) : Buffer.alloc(0);
  const ip = Buffer.alloc(40 + ext.length + icmp.length);
  ip[0] = 0x60;
  ip.writeUInt16BE(ext.length + icmp.length, 4);
  ip[6] = opts.hopByHop ? 0 : opts.fragment ? 44 : 58;
  ip[7] = 255;
  writeWords(ip, 8, parseAddress(opts.from)!.words);
  writeWords(ip, 24, parseAddress(opts.to ?? 'ff02::1')!.words);
  ext.copy(ip, 40);
  icmp.copy(ip, 40 + ext.length);
  return ethFrame(opts.dst ?? 0x333300000001, opts.src, ip, 0x86dd);
}

/** `frame` with an 802.1Q tag (VLAN `vid`) after the source MAC. */
export function vlanTagged(frame: Buffer, vid: number): Buffer {
  const tag = Buffer.from([0x81, 0x00, vid >> 8, vid & 0xff]);
  return Buffer.concat([frame.subarray(0, 12), tag, frame.subarray(12)]);
}
