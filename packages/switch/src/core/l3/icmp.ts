/**
 * The switch as a router answers with ICMP (RFC 792/1812) and ICMPv6 (RFC 4443)
 * errors: time exceeded when a TTL / hop limit runs out (so traceroute shows the
 * switch as a hop), destination unreachable when no route exists. Errors are never
 * sent about ICMP errors, non-first fragments, or multicast/unspecified sources, and
 * a token bucket limits how many the node sends (RFC 4443 §2.4 f). The gateway address
 * of a segment answers echo requests (ping) from the same budget.
 */

export const ICMP4_DEST_UNREACHABLE = 3;
export const ICMP4_TIME_EXCEEDED = 11;
export const ICMP6_DEST_UNREACHABLE = 1;
export const ICMP6_TIME_EXCEEDED = 3;
export const ICMP6_PACKET_TOO_BIG = 2;
export const ICMP4_ECHO_REQUEST = 8;
export const ICMP6_ECHO_REQUEST = 128;

/** IPv4 TTL - 1 in place, with the incremental header checksum update of RFC 1624
 * (as Linux's ip_decrease_ttl). The caller checked TTL > 1. */
export function decrementTtl4(p: Uint8Array): void {
  p[8]--;
  let check = (p[10] << 8) | p[11];
  check += 0x0100;
  check = (check + (check >= 0xffff ? 1 : 0)) & 0xffff;
  p[10] = check >> 8;
  p[11] = check & 0xff;
}

/** Internet checksum (RFC 1071) over `b`, starting from `sum`. */
function checksum(b: Uint8Array, start: number, end: number, sum = 0): number {
  let i = start;
  for (; i + 1 < end; i += 2) sum += (b[i] << 8) | b[i + 1];
  if (i < end) sum += b[i] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/** True when an ICMP error about this IPv4 packet is allowed at all. */
function mayAnswer4(p: Uint8Array): boolean {
  const fragOffset = ((p[6] & 0x1f) << 8) | p[7];
  if (fragOffset !== 0) return false;
  const src0 = p[12];
  if (src0 === 0 || src0 >= 224 || src0 === 127) return false;
  if (p[9] === 1) {
    const ihl = (p[0] & 0x0f) * 4;
    const type = p[ihl];
    // Only queries (echo, timestamp, …) may cause errors; never errors about errors.
    if (type !== 8 && type !== 13 && type !== 15 && type !== 17) return false;
  }
  return true;
}

/**
 * An ICMPv4 error from `from` (the segment gateway) about `orig`; undefined if none may be
 * sent. Quotes the original header and as much payload as fits in 576 bytes (RFC 1812 §4.3.2.3).
 */
export function icmp4Error(orig: Uint8Array, type: number, code: number, from: number): Buffer | undefined {
  if (!mayAnswer4(orig)) return undefined;
  const quote = Math.min(orig.length, 576 - 28);
  const out = Buffer.alloc(28 + quote);
  out[0] = 0x45;
  out.writeUInt16BE(out.length, 2);
  out[8] = 64; // TTL
  out[9] = 1; // ICMP
  out.writeUInt32BE(from >>> 0, 12);
  out.set(orig.subarray(12, 16), 16); // back to the original source
  out.writeUInt16BE(~checksum(out, 0, 20) & 0xffff, 10);
  out[20] = type;
  out[21] = code;
  out.set(orig.subarray(0, quote), 28);
  out.writeUInt16BE(~checksum(out, 20, out.length) & 0xffff, 22);
  return out;
}

function mayAnswer6(p: Uint8Array): boolean {
  if (p[8] === 0xff) return false; // multicast source
  let unspecified = true;
  for (let i = 8; i < 24; i++) if (p[i] !== 0) unspecified = false;
  if (unspecified) return false;
  // An ICMPv6 error (types 0..127) is never answered with another error.
  if (p[6] === 58 && p.length > 40 && p[40] < 128) return false;
  return true;
}

/** An ICMPv6 error from `from` (four words) about `orig`, at most 1280 bytes (RFC 4443 §2.4 c).
 * `value`: the word after the checksum (packet too big: the MTU; otherwise unused, 0). */
export function icmp6Error(orig: Uint8Array, type: number, code: number, from: readonly number[], value = 0): Buffer | undefined {
  if (!mayAnswer6(orig)) return undefined;
  const quote = Math.min(orig.length, 1280 - 48);
  const out = Buffer.alloc(48 + quote);
  out[0] = 0x60;
  out.writeUInt16BE(8 + quote, 4); // payload length
  out[6] = 58; // next header: ICMPv6
  out[7] = 64; // hop limit
  for (let i = 0; i < 4; i++) out.writeUInt32BE(from[i] >>> 0, 8 + 4 * i);
  out.set(orig.subarray(8, 24), 24);
  out[40] = type;
  out[41] = code;
  out.writeUInt32BE(value >>> 0, 44);
  out.set(orig.subarray(0, quote), 48);
  // Pseudo-header: source, destination, upper-layer length, next header.
  let sum = checksum(out, 8, 40);
  sum += 8 + quote;
  sum += 58;
  out.writeUInt16BE(~checksum(out, 40, out.length, sum) & 0xffff, 42);
  return out;
}

/**
 * The echo reply (RFC 792) to an IPv4 echo request addressed to the gateway: same id,
 * sequence and data, from the gateway back to the sender. A fragment, a request with IP
 * options or a bad ICMP checksum gets no answer. The caller checked protocol and type.
 */
export function icmp4EchoReply(req: Uint8Array): Buffer | undefined {
  const ihl = (req[0] & 0x0f) * 4;
  const total = (req[2] << 8) | req[3];
  if (ihl !== 20 || total < 28 || (req[6] & 0x20) !== 0 || (((req[6] & 0x1f) << 8) | req[7]) !== 0) return undefined;
  if (checksum(req, 20, total) !== 0xffff) return undefined;
  const src0 = req[12];
  if (src0 === 0 || src0 >= 224 || src0 === 127) return undefined;
  const out = Buffer.from(req.subarray(0, total));
  out[1] = 0; // TOS
  out.writeUInt16BE(0, 4); // id
  out.writeUInt16BE(0, 6); // flags, fragment offset
  out[8] = 64; // TTL
  out.set(req.subarray(16, 20), 12);
  out.set(req.subarray(12, 16), 16);
  out.writeUInt16BE(0, 10);
  out.writeUInt16BE(~checksum(out, 0, 20) & 0xffff, 10);
  out[20] = 0; // echo reply
  out[21] = 0;
  out.writeUInt16BE(0, 22);
  out.writeUInt16BE(~checksum(out, 20, total) & 0xffff, 22);
  return out;
}

/**
 * The ICMPv6 echo reply (RFC 4443 §4.2) to an echo request addressed to the gateway
 * (ICMPv6 right after the fixed header; no extension headers); none to a bad checksum.
 * The caller checked next header and type.
 */
export function icmp6EchoReply(req: Uint8Array): Buffer | undefined {
  const payload = (req[4] << 8) | req[5];
  if (payload < 8 || !mayAnswer6(req)) return undefined;
  const total = 40 + payload;
  if (checksum(req, 40, total, checksum(req, 8, 40) + payload + 58) !== 0xffff) return undefined;
  const out = Buffer.from(req.subarray(0, total));
  out[7] = 64; // hop limit
  out.set(req.subarray(24, 40), 8);
  out.set(req.subarray(8, 24), 24);
  out[40] = 129; // echo reply
  out[41] = 0;
  out.writeUInt16BE(0, 42);
  let sum = checksum(out, 8, 40);
  sum += payload;
  sum += 58;
  out.writeUInt16BE(~checksum(out, 40, total, sum) & 0xffff, 42);
  return out;
}

/** A token bucket: `rate` per second, up to `burst` at once. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = burst;
    this.last = now();
  }

  take(): boolean {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) * this.rate) / 1000);
    this.last = t;
    if (this.tokens < 1) return false;
    this.tokens--;
    return true;
  }

  /** Returns a token taken for nothing. */
  give(): void {
    this.tokens = Math.min(this.burst, this.tokens + 1);
  }
}
