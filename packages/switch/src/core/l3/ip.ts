/**
 * IP address text ⇄ 32-bit words, for route tables and ICMP. Parsing is for
 * configuration and tickets (not the hot path); packets are read as bytes.
 */
import { isIP } from 'node:net';

export interface Prefix {
  family: 4 | 6;
  /** One word (IPv4) or four (IPv6), unsigned, masked to `length`. */
  words: number[];
  length: number;
}

/** "198.19.0.7" / "fd00::7" → words; undefined if not an address. */
export function parseAddress(text: string): { family: 4 | 6; words: number[] } | undefined {
  const kind = isIP(text);
  if (kind === 4) {
    const [a, b, c, d] = text.split('.').map(Number);
    return { family: 4, words: [((a << 24) | (b << 16) | (c << 8) | d) >>> 0] };
  }
  if (kind === 6) {
    let t = text;
    // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two hex groups.
    const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(t);
    if (v4) {
      const w = parseAddress(v4[1])!.words[0];
      t = t.slice(0, -v4[1].length) + `${(w >>> 16).toString(16)}:${(w & 0xffff).toString(16)}`;
    }
    const [head, tail] = t.includes('::') ? t.split('::') : [t, undefined];
    const h = head ? head.split(':') : [];
    const tl = tail === undefined ? [] : tail ? tail.split(':') : [];
    const groups = tail === undefined ? h : [...h, ...new Array<string>(8 - h.length - tl.length).fill('0'), ...tl];
    const g = groups.map((x) => parseInt(x, 16));
    return { family: 6, words: [0, 1, 2, 3].map((i) => ((g[2 * i] << 16) | g[2 * i + 1]) >>> 0) };
  }
  return undefined;
}

/** "198.19.0.0/16", "fd00:e1::7/64" (host bits are masked off), or a bare address (a host route). */
export function parsePrefix(text: string): Prefix | undefined {
  const [addr, len] = text.split('/');
  const a = parseAddress(addr);
  if (!a) return undefined;
  const max = a.family === 4 ? 32 : 128;
  const length = len === undefined ? max : Number(len);
  if (!Number.isInteger(length) || length < 0 || length > max || (len !== undefined && !/^\d+$/.test(len))) return undefined;
  return { family: a.family, words: maskWords(a.words, length), length };
}

/** The address part of "a/len" as a host route (/32 or /128). */
export function hostOf(cidr: string): Prefix | undefined {
  const a = parseAddress(cidr.split('/')[0]);
  return a && { ...a, length: a.family === 4 ? 32 : 128 };
}

export function maskWords(words: readonly number[], length: number): number[] {
  return words.map((w, i) => {
    const bits = Math.max(0, Math.min(32, length - i * 32));
    return bits === 0 ? 0 : bits === 32 ? w >>> 0 : (w & (~0 << (32 - bits))) >>> 0;
  });
}

/** Writes the address words into `buf` at `offset`, network byte order. */
export function writeWords(buf: Buffer, offset: number, words: readonly number[]): void {
  for (let i = 0; i < words.length; i++) buf.writeUInt32BE(words[i] >>> 0, offset + 4 * i);
}

/** The first address after the network address: the default gateway of a pool. */
export function firstHost(pool: string): number[] | undefined {
  const p = parsePrefix(pool);
  if (!p) return undefined;
  const w = [...p.words];
  w[w.length - 1] = (w[w.length - 1] + 1) >>> 0;
  return w;
}

export function formatPrefix(p: Prefix): string {
  if (p.family === 4) {
    const w = p.words[0];
    return `${w >>> 24}.${(w >>> 16) & 255}.${(w >>> 8) & 255}.${w & 255}/${p.length}`;
  }
  const groups: string[] = [];
  for (const w of p.words) groups.push((w >>> 16).toString(16), (w & 0xffff).toString(16));
  return `${groups.join(':')}/${p.length}`;
}
