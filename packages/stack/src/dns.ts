/**
 * A stub resolver over the stack's UDP: one A query (then AAAA) per server in turn,
 * 2 s each, the first address of the answer. Enough for `elink proxy` to reach named
 * hosts on the segment; search domains for names without a dot; no cache, no TCP fallback.
 */
import { randomInt } from 'node:crypto';
import { isIP } from 'node:net';
import { ElError, type WelcomeDns } from '@elink/protocol';
import { ipv6String } from './lwip.js';
import type { StackUdpSocket, UdpType } from './udp-socket.js';

interface UdpFactory {
  createSocket(type: UdpType): StackUdpSocket;
}

const QUERY_TIMEOUT_MS = 2000;
const TYPE_A = 1;
const TYPE_AAAA = 28;

export function encodeQuery(id: number, name: string, type: number): Buffer {
  const labels = name.replace(/\.$/, '').split('.');
  const parts: Buffer[] = [Buffer.from([id >> 8, id & 0xff, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0])];
  for (const l of labels) {
    const b = Buffer.from(l, 'ascii');
    if (b.length === 0 || b.length > 63) throw new ElError('EL_ERR_INVALID', `not a host name: ${name}`);
    parts.push(Buffer.from([b.length]), b);
  }
  parts.push(Buffer.from([0, type >> 8, type & 0xff, 0, 1]));
  return Buffer.concat(parts);
}

/** The first address of `type` in a reply to query `id`; undefined if none (or not our reply). */
export function firstAddress(msg: Buffer, id: number, type: number): string | undefined {
  if (msg.length < 12 || msg.readUInt16BE(0) !== id || (msg[2] & 0x80) === 0) return undefined;
  const qd = msg.readUInt16BE(4);
  const an = msg.readUInt16BE(6);
  let p = 12;
  const skipName = () => {
    while (p < msg.length) {
      const len = msg[p];
      if (len === 0) return void p++;
      if ((len & 0xc0) === 0xc0) return void (p += 2);
      p += len + 1;
    }
  };
  for (let i = 0; i < qd; i++) {
    skipName();
    p += 4;
  }
  for (let i = 0; i < an && p < msg.length; i++) {
    skipName();
    if (p + 10 > msg.length) return undefined;
    const t = msg.readUInt16BE(p);
    const len = msg.readUInt16BE(p + 8);
    p += 10;
    if (p + len > msg.length) return undefined;
    if (t === type && type === TYPE_A && len === 4) return `${msg[p]}.${msg[p + 1]}.${msg[p + 2]}.${msg[p + 3]}`;
    if (t === type && type === TYPE_AAAA && len === 16) return ipv6String(msg.subarray(p, p + 16));
    p += len;
  }
  return undefined;
}

function query(stack: UdpFactory, server: string, name: string, type: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const sock = stack.createSocket(isIP(server) === 6 ? 'udp6' : 'udp4');
    const id = randomInt(0x10000);
    const done = (v: string | undefined) => {
      clearTimeout(timer);
      sock.close();
      resolve(v);
    };
    const timer = setTimeout(() => done(undefined), QUERY_TIMEOUT_MS);
    sock.on('error', () => done(undefined));
    sock.on('message', (msg: Buffer, rinfo) => {
      if (rinfo.address !== server || rinfo.port !== 53) return;
      if (msg.length >= 2 && msg.readUInt16BE(0) === id) done(firstAddress(msg, id, type));
    });
    sock.send(encodeQuery(id, name, type), 53, server, (err) => {
      if (err) done(undefined);
    });
  });
}

/** `search`: domains to try `name` in first (`name.domain`), then `name` itself. */
export async function resolveName(stack: UdpFactory, name: string, servers: readonly string[], search: readonly string[] = []): Promise<string> {
  if (servers.length === 0) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${name} (no DNS server: none given, none pushed by the segment)`), { code: 'ENOTFOUND', hostname: name });
  for (const candidate of [...search.map((d) => `${name}.${d}`), name]) {
    for (const server of servers) {
      for (const type of [TYPE_A, TYPE_AAAA]) {
        const a = await query(stack, server, candidate, type);
        if (a) return a;
      }
    }
  }
  throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: 'ENOTFOUND', hostname: name });
}

/** The servers lookup() uses and whence: given ones (non-empty) win over those welcome pushed. */
export interface ChosenDns {
  servers: readonly string[];
  search: readonly string[];
  from: 'option' | 'welcome' | 'none';
}

export function chooseDns(given: readonly string[] | undefined, pushed: WelcomeDns | undefined): ChosenDns {
  // Search domains come with the segment's servers: they name the segment's zones.
  if (given?.length) return { servers: given, search: [], from: 'option' };
  if (pushed) return { servers: pushed.servers, search: pushed.search ?? [], from: 'welcome' };
  return { servers: [], search: [], from: 'none' };
}
