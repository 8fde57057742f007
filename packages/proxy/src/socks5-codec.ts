/**
 * SOCKS5 messages (RFC 1928) and username/password authentication (RFC 1929), as pure
 * functions over a buffer: each parser answers "need more bytes", a message with the
 * bytes it used, or an error naming the reply the server should send. No message is
 * longer than MAX_HANDSHAKE_MESSAGE, so a server buffers at most that much.
 */
import { isIPv4, isIPv6 } from 'node:net';

export const SOCKS_VERSION = 5;
export const AUTH_VERSION = 1;

export const Method = { NO_AUTH: 0x00, USER_PASS: 0x02, NONE_ACCEPTABLE: 0xff } as const;
export const Command = { CONNECT: 0x01, BIND: 0x02, UDP_ASSOCIATE: 0x03 } as const;
export const AddressType = { IPV4: 0x01, DOMAIN: 0x03, IPV6: 0x04 } as const;

/** Reply codes (RFC 1928 §6). */
export const Reply = {
  SUCCEEDED: 0x00,
  GENERAL_FAILURE: 0x01,
  NOT_ALLOWED: 0x02,
  NETWORK_UNREACHABLE: 0x03,
  HOST_UNREACHABLE: 0x04,
  CONNECTION_REFUSED: 0x05,
  TTL_EXPIRED: 0x06,
  COMMAND_NOT_SUPPORTED: 0x07,
  ADDRESS_TYPE_NOT_SUPPORTED: 0x08,
} as const;

/** The longest message a client sends before its connection is relayed (RFC 1929 auth: 3 + 255 + 255). */
export const MAX_HANDSHAKE_MESSAGE = 513;

export type Parsed<T> = { need: true } | { value: T; used: number } | { error: string; reply?: number };

const NEED = { need: true } as const;

export interface Greeting {
  methods: number[];
}

export function parseGreeting(b: Uint8Array): Parsed<Greeting> {
  if (b.length < 1) return NEED;
  if (b[0] !== SOCKS_VERSION) return { error: `not SOCKS5 (version byte ${b[0]})` };
  if (b.length < 2) return NEED;
  const n = b[1]!;
  if (n === 0) return { error: 'greeting offers no authentication method' };
  if (b.length < 2 + n) return NEED;
  return { value: { methods: [...b.subarray(2, 2 + n)] }, used: 2 + n };
}

export interface Credentials {
  user: Buffer;
  password: Buffer;
}

export function parseUserPass(b: Uint8Array): Parsed<Credentials> {
  if (b.length < 1) return NEED;
  if (b[0] !== AUTH_VERSION) return { error: `username/password version ${b[0]} (want 1)` };
  if (b.length < 2) return NEED;
  const ulen = b[1]!;
  if (b.length < 3 + ulen) return NEED;
  const plen = b[2 + ulen]!;
  if (b.length < 3 + ulen + plen) return NEED;
  return {
    value: { user: Buffer.from(b.subarray(2, 2 + ulen)), password: Buffer.from(b.subarray(3 + ulen, 3 + ulen + plen)) },
    used: 3 + ulen + plen,
  };
}

export interface SocksRequest {
  command: number;
  addressType: number;
  host: string;
  port: number;
}

/** A domain name as a client may send it: letters, digits, '.', '-', '_' (and ':' of an IPv6 literal some clients send as a name). */
const NAME = /^[A-Za-z0-9._:-]{1,255}$/;

export function parseRequest(b: Uint8Array): Parsed<SocksRequest> {
  if (b.length < 1) return NEED;
  if (b[0] !== SOCKS_VERSION) return { error: `request version ${b[0]} (want 5)`, reply: Reply.GENERAL_FAILURE };
  if (b.length < 4) return NEED;
  const command = b[1]!;
  const addressType = b[3]!;
  let host: string;
  let at: number;
  if (addressType === AddressType.IPV4) {
    if (b.length < 10) return NEED;
    host = `${b[4]}.${b[5]}.${b[6]}.${b[7]}`;
    at = 8;
  } else if (addressType === AddressType.IPV6) {
    if (b.length < 22) return NEED;
    host = ipv6Text(b.subarray(4, 20));
    at = 20;
  } else if (addressType === AddressType.DOMAIN) {
    if (b.length < 5) return NEED;
    const len = b[4]!;
    if (b.length < 5 + len + 2) return NEED;
    host = Buffer.from(b.subarray(5, 5 + len)).toString('latin1');
    at = 5 + len;
    if (!NAME.test(host)) return { error: `bad domain name in request (${len} bytes)`, reply: Reply.HOST_UNREACHABLE };
  } else {
    return { error: `address type ${addressType}`, reply: Reply.ADDRESS_TYPE_NOT_SUPPORTED };
  }
  const port = (b[at]! << 8) | b[at + 1]!;
  return { value: { command, addressType, host, port }, used: at + 2 };
}

function ipv6Text(b: Uint8Array): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((b[i]! << 8) | b[i + 1]!).toString(16));
  return groups.join(':');
}

/** The 16 bytes of an IPv6 address in text form ('::' and a trailing dotted IPv4 allowed); undefined if it is not one. */
export function ipv6Bytes(text: string): Buffer | undefined {
  const addr = text.replace(/%.*$/, '');
  if (!isIPv6(addr)) return undefined;
  let head = addr;
  const out = Buffer.alloc(16);
  const m = /(\d+\.\d+\.\d+\.\d+)$/.exec(addr);
  let tailV4: number[] = [];
  if (m) {
    tailV4 = m[1]!.split('.').map(Number);
    head = addr.slice(0, -m[1]!.length) + '0:0';
  }
  const [left, right] = head.includes('::') ? head.split('::') : [head, undefined];
  const l = left ? left.split(':') : [];
  const r = right !== undefined && right !== '' ? right.split(':') : [];
  const groups = right === undefined ? l : [...l, ...Array<string>(8 - l.length - r.length).fill('0'), ...r];
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  if (m) Buffer.from(tailV4).copy(out, 12);
  return out;
}

export function encodeMethodChoice(method: number): Buffer {
  return Buffer.from([SOCKS_VERSION, method]);
}

export function encodeAuthStatus(ok: boolean): Buffer {
  return Buffer.from([AUTH_VERSION, ok ? 0 : 1]);
}

/** A reply; BND.ADDR/BND.PORT from the bound address when it is an IP, else 0.0.0.0:0. */
export function encodeReply(reply: number, bound?: { address?: string; port?: number }): Buffer {
  const port = bound?.port ?? 0;
  const address = bound?.address ?? '';
  if (isIPv4(address)) return Buffer.from([SOCKS_VERSION, reply, 0, AddressType.IPV4, ...address.split('.').map(Number), port >> 8, port & 0xff]);
  const v6 = ipv6Bytes(address);
  if (v6) return Buffer.from([SOCKS_VERSION, reply, 0, AddressType.IPV6, ...v6, port >> 8, port & 0xff]);
  return Buffer.from([SOCKS_VERSION, reply, 0, AddressType.IPV4, 0, 0, 0, 0, 0, 0]);
}

/** A client's request (tests, and any client of ours). */
export function encodeRequest(r: SocksRequest): Buffer {
  let addr: Buffer;
  if (r.addressType === AddressType.IPV4) addr = Buffer.from(r.host.split('.').map(Number));
  else if (r.addressType === AddressType.IPV6) addr = ipv6Bytes(r.host)!;
  else addr = Buffer.concat([Buffer.from([Buffer.byteLength(r.host, 'latin1')]), Buffer.from(r.host, 'latin1')]);
  return Buffer.concat([Buffer.from([SOCKS_VERSION, r.command, 0, r.addressType]), addr, Buffer.from([r.port >> 8, r.port & 0xff])]);
}
