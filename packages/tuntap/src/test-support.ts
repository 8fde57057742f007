// Helpers for the kernel tests: packet builders/parsers, unique names, and
// bounded waits on a device's 'packets' events. Not part of the package build.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { internetChecksum } from '../../protocol/src/test-datagrams.js';
import type { TunTapDevice } from './device.js';

const isRoot = process.getuid?.() === 0;
const hasTun = existsSync('/dev/net/tun');

/** Why the kernel tests cannot run here, or undefined. With CI=true they run regardless (and fail if they cannot). */
export const kernelSkipReason: string | undefined =
  process.env.CI === 'true' || (isRoot && hasTun)
    ? undefined
    : !isRoot
      ? 'needs root (CAP_NET_ADMIN) to create TAP/TUN devices; run as root or set CI=true to force'
      : 'needs /dev/net/tun; load the tun module or run with --device /dev/net/tun';

/** A fresh interface name: 'eltt' + 8 hex digits (12 characters). */
export function uniqueName(prefix = 'eltt'): string {
  return prefix + randomBytes(4).toString('hex');
}

export function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export function linkExists(name: string): boolean {
  return existsSync(`/sys/class/net/${name}`);
}

/** Keeps IPv6 autoconfiguration chatter (router solicitations, MLD) off the test device. */
export function disableIpv6(name: string): void {
  const file = `/proc/sys/net/ipv6/conf/${name}/disable_ipv6`;
  if (existsSync(file)) writeFileSync(file, '1');
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function ipv4Bytes(addr: string): Buffer {
  return Buffer.from(addr.split('.').map(Number));
}

export function macText(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex').replace(/(..)(?!$)/g, '$1:');
}

export function ethernet(dst: Uint8Array, src: Uint8Array, etherType: number, payload: Uint8Array): Buffer {
  const frame = Buffer.alloc(14 + payload.length);
  frame.set(dst, 0);
  frame.set(src, 6);
  frame.writeUInt16BE(etherType, 12);
  frame.set(payload, 14);
  return frame;
}

/** An ARP request (who has targetIp? tell senderIp) inside a broadcast Ethernet frame. */
export function arpRequest(senderMac: Uint8Array, senderIp: string, targetIp: string): Buffer {
  const arp = Buffer.alloc(28);
  arp.writeUInt16BE(1, 0); // Ethernet
  arp.writeUInt16BE(0x0800, 2); // IPv4
  arp[4] = 6;
  arp[5] = 4;
  arp.writeUInt16BE(1, 6); // request
  arp.set(senderMac, 8);
  arp.set(ipv4Bytes(senderIp), 14);
  arp.set(ipv4Bytes(targetIp), 24); // target MAC (18..23) left zero
  return ethernet(Buffer.alloc(6, 0xff), senderMac, 0x0806, arp);
}

export interface Arp {
  op: number;
  senderMac: string;
  senderIp: string;
  targetMac: string;
  targetIp: string;
}

export function parseArp(frame: Buffer): Arp | undefined {
  if (frame.length < 42 || frame.readUInt16BE(12) !== 0x0806) return undefined;
  const a = frame.subarray(14);
  return {
    op: a.readUInt16BE(6),
    senderMac: macText(a.subarray(8, 14)),
    senderIp: [...a.subarray(14, 18)].join('.'),
    targetMac: macText(a.subarray(18, 24)),
    targetIp: [...a.subarray(24, 28)].join('.'),
  };
}

/** An IPv4 packet carrying an ICMP echo request, both checksums computed. */
export function icmpEchoRequest(src: string, dst: string, id: number, seq: number, payload: Uint8Array): Buffer {
  const packet = Buffer.alloc(20 + 8 + payload.length);
  packet[0] = 0x45;
  packet.writeUInt16BE(packet.length, 2);
  packet.writeUInt16BE(seq & 0xffff, 4); // IP identification
  packet.writeUInt16BE(0x4000, 6); // don't fragment
  packet[8] = 64; // TTL
  packet[9] = 1; // ICMP
  packet.set(ipv4Bytes(src), 12);
  packet.set(ipv4Bytes(dst), 16);
  packet.writeUInt16BE(internetChecksum(packet.subarray(0, 20)), 10);
  packet[20] = 8; // echo request
  packet.writeUInt16BE(id, 24);
  packet.writeUInt16BE(seq, 26);
  packet.set(payload, 28);
  packet.writeUInt16BE(internetChecksum(packet.subarray(20)), 22);
  return packet;
}

export interface IcmpEcho {
  type: number;
  src: string;
  dst: string;
  id: number;
  seq: number;
  payload: Buffer;
  /** Both the IPv4 header and the ICMP checksums verify. */
  checksumsOk: boolean;
}

/** Parses an IPv4 ICMP echo request/reply; undefined for anything else. */
export function parseIcmpEcho(packet: Buffer): IcmpEcho | undefined {
  if (packet.length < 28 || packet[0] >> 4 !== 4 || packet[9] !== 1) return undefined;
  const ihl = (packet[0] & 0x0f) * 4;
  const total = packet.readUInt16BE(2);
  const icmp = packet.subarray(ihl, total);
  if (icmp.length < 8 || (icmp[0] !== 0 && icmp[0] !== 8)) return undefined;
  return {
    type: icmp[0],
    src: [...packet.subarray(12, 16)].join('.'),
    dst: [...packet.subarray(16, 20)].join('.'),
    id: icmp.readUInt16BE(4),
    seq: icmp.readUInt16BE(6),
    payload: icmp.subarray(8),
    checksumsOk: internetChecksum(packet.subarray(0, ihl)) === 0 && internetChecksum(icmp) === 0,
  };
}

/**
 * Records every 'packets' event until `done(events)` holds, or rejects after
 * `timeoutMs` saying how much arrived.
 */
export function collectUntil(
  device: TunTapDevice,
  done: (events: Buffer[][]) => boolean,
  timeoutMs = 3000,
): Promise<Buffer[][]> {
  return new Promise((resolve, reject) => {
    const events: Buffer[][] = [];
    const finish = (err?: Error) => {
      clearTimeout(timer);
      device.off('packets', onPackets);
      if (err) reject(err);
      else resolve(events);
    };
    const onPackets = (packets: Buffer[]) => {
      events.push(packets);
      if (done(events)) finish();
    };
    const timer = setTimeout(() => {
      const total = events.reduce((n, e) => n + e.length, 0);
      finish(new Error(`timed out after ${timeoutMs} ms: ${events.length} events, ${total} packets`));
    }, timeoutMs);
    device.on('packets', onPackets);
  });
}

/** Waits for the first packet `pick` accepts. */
export async function waitForPacket<T>(device: TunTapDevice, pick: (p: Buffer) => T | undefined, timeoutMs = 3000): Promise<T> {
  let found: T | undefined;
  await collectUntil(
    device,
    (events) => {
      for (const p of events[events.length - 1]) {
        found ??= pick(p);
      }
      return found !== undefined;
    },
    timeoutMs,
  );
  return found as T;
}
