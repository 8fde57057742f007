/**
 * Pure IPv4/IPv6 address arithmetic. IPv4 addresses are unsigned 32-bit numbers,
 * IPv6 addresses BigInts; `Cidr` holds both as BigInt so pool code is family-blind.
 * Parse errors throw ElError EL_ERR_CONFIG: these strings come from configuration.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { ElError } from '@elink/protocol';

export type IpFamily = 4 | 6;

export interface Cidr {
  family: IpFamily;
  /** The network address (host bits cleared). */
  network: bigint;
  prefixLength: number;
}

export function parseIPv4(text: string): number {
  if (!isIPv4(text)) throw new ElError('EL_ERR_CONFIG', `not an IPv4 address: ${JSON.stringify(text)}`);
  return text.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

export function formatIPv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff].join('.');
}

export function parseIPv6(text: string): bigint {
  if (!isIPv6(text)) throw new ElError('EL_ERR_CONFIG', `not an IPv6 address: ${JSON.stringify(text)}`);
  let s = text.toLowerCase();
  // An embedded IPv4 tail (::ffff:192.0.2.1) becomes two hex groups.
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (dotted) {
    const v4 = parseIPv4(dotted[1]);
    s = s.slice(0, dotted.index) + `${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined];
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const zeros = tail === undefined ? 0 : 8 - headGroups.length - tailGroups.length;
  const groups = [...headGroups, ...Array<string>(zeros).fill('0'), ...tailGroups];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

/** RFC 5952 text: lower case, no leading zeros, the longest run (≥ 2) of zero groups as `::`. */
export function formatIPv6(value: bigint): string {
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((value >> BigInt(i * 16)) & 0xffffn));
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

export function parseAddress(text: string, family: IpFamily): bigint {
  return family === 4 ? BigInt(parseIPv4(text)) : parseIPv6(text);
}

export function formatAddress(value: bigint, family: IpFamily): string {
  return family === 4 ? formatIPv4(Number(value)) : formatIPv6(value);
}

export function addressBits(family: IpFamily): number {
  return family === 4 ? 32 : 128;
}

/** Parses "a.b.c.d/len" or "x::y/len"; host bits set in the text are cleared. */
export function parseCidr(text: string): Cidr {
  const slash = text.indexOf('/');
  const addr = slash < 0 ? '' : text.slice(0, slash);
  const len = slash < 0 ? '' : text.slice(slash + 1);
  const family: IpFamily | 0 = isIPv4(addr) ? 4 : isIPv6(addr) ? 6 : 0;
  if (!family || !/^\d{1,3}$/.test(len) || Number(len) > addressBits(family)) {
    throw new ElError('EL_ERR_CONFIG', `not a prefix like 198.19.0.0/16 or fd00:e1::/64: ${JSON.stringify(text)}`);
  }
  const prefixLength = Number(len);
  return { family, network: parseAddress(addr, family) & prefixMask(family, prefixLength), prefixLength };
}

export function prefixMask(family: IpFamily, prefixLength: number): bigint {
  const bits = addressBits(family);
  const all = (1n << BigInt(bits)) - 1n;
  return (all << BigInt(bits - prefixLength)) & all;
}

/** The last address of the prefix (the IPv4 broadcast address). */
export function lastAddress(cidr: Cidr): bigint {
  return cidr.network | ((1n << BigInt(addressBits(cidr.family) - cidr.prefixLength)) - 1n);
}

export function contains(cidr: Cidr, address: bigint): boolean {
  return (address & prefixMask(cidr.family, cidr.prefixLength)) === cidr.network;
}

export function formatCidr(cidr: Cidr): string {
  return `${formatAddress(cidr.network, cidr.family)}/${cidr.prefixLength}`;
}
