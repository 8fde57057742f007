/**
 * `tunnelonly` tunnels carry their users' static IPv6 ranges (docs/dtcp.md): the broker keeps
 * them off the segment's pools, but only the node sees which other static ranges are up, and
 * the segment's route table refuses only an exact duplicate. Two sites' ranges that overlap
 * (a /48 and a /56 inside it) would split one site's traffic by longest-prefix match: found
 * here, at tunnel set-up (a control-plane scan of the node's tunnelonly tunnels, not the data path).
 */
import { parsePrefix, type Prefix } from '../core/l3/ip.js';

/** True when one prefix contains the other (same family). */
export function prefixesOverlap(a: Prefix, b: Prefix): boolean {
  if (a.family !== b.family) return false;
  let bits = Math.min(a.length, b.length);
  for (let i = 0; i < a.words.length && bits > 0; i++, bits -= 32) {
    const mask = bits >= 32 ? 0xffffffff : (~0 << (32 - bits)) >>> 0;
    if (((a.words[i]! & mask) >>> 0) !== ((b.words[i]! & mask) >>> 0)) return false;
  }
  return true;
}

/** The first of `mine` that overlaps one of `theirs` (CIDR texts), as given; undefined when none. */
export function firstOverlap(mine: readonly string[], theirs: readonly string[]): string | undefined {
  const others = theirs.map((t) => parsePrefix(t)).filter((p): p is Prefix => p !== undefined);
  for (const text of mine) {
    const p = parsePrefix(text);
    if (p && others.some((o) => prefixesOverlap(p, o))) return text;
  }
  return undefined;
}
