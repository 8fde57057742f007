/**
 * Longest-prefix match for IPv4 (32-bit) and IPv6 (128-bit) without bigint or string
 * keys on the lookup path.
 *
 * Layout: one hash level per prefix length that has routes. An address is a list of
 * 32-bit words (IPv4: one, IPv6: four). A route of length L is stored under its first
 * ceil(L/32) words, the last one masked, in nested Maps keyed by those words (numbers).
 * A lookup checks the lengths present from the longest to the shortest: at most as many
 * probes as there are distinct lengths (typically a handful: /32 or /128 host routes, a
 * /56 or /28 delegation, a /24 LAN), each one to four Map gets, whatever the number of
 * routes. Bounded: insert refuses beyond `maxRoutes`.
 */

type Level<V> = Map<number, V | Level<V>>;

export class PrefixTable<V> {
  readonly words: 1 | 4;
  private readonly bits: number;
  /** By length: the nested maps of that length's routes (undefined when none). */
  private readonly byLength: (Level<V> | undefined)[];
  private readonly countByLength: Int32Array;
  /** A /0 route is kept apart (it has no key words). */
  private defaultRoute: V | undefined;
  /** Lengths with at least one route, longest first. */
  private lengths: number[] = [];
  private count = 0;

  constructor(
    family: 4 | 6,
    readonly maxRoutes = 1_000_000,
  ) {
    this.words = family === 4 ? 1 : 4;
    this.bits = this.words * 32;
    this.byLength = new Array<Level<V> | undefined>(this.bits + 1).fill(undefined);
    this.countByLength = new Int32Array(this.bits + 1);
  }

  get size(): number {
    return this.count;
  }

  /** Adds or replaces a route. Returns false (and changes nothing) when the table is full. */
  insert(addr: ArrayLike<number>, length: number, value: V): boolean {
    this.checkLength(length);
    if (length === 0) {
      if (this.defaultRoute === undefined) {
        if (this.count >= this.maxRoutes) return false;
        this.count++;
        this.noteLength(0, +1);
      }
      this.defaultRoute = value;
      return true;
    }
    const n = (length + 31) >>> 5;
    let level = this.byLength[length];
    if (level === undefined) level = this.byLength[length] = new Map();
    for (let i = 0; i < n - 1; i++) {
      const w = addr[i] >>> 0;
      let next = level.get(w) as Level<V> | undefined;
      if (next === undefined) {
        next = new Map();
        level.set(w, next);
      }
      level = next;
    }
    const key = maskWord(addr[n - 1], length - (n - 1) * 32);
    if (!level.has(key)) {
      if (this.count >= this.maxRoutes) return false;
      this.count++;
      this.noteLength(length, +1);
    }
    level.set(key, value);
    return true;
  }

  /** Removes a route; with `only`, only if it currently points at that value. */
  remove(addr: ArrayLike<number>, length: number, only?: V): boolean {
    this.checkLength(length);
    if (length === 0) {
      if (this.defaultRoute === undefined || (only !== undefined && this.defaultRoute !== only)) return false;
      this.defaultRoute = undefined;
      this.count--;
      this.noteLength(0, -1);
      return true;
    }
    const n = (length + 31) >>> 5;
    const path: Level<V>[] = [];
    let level = this.byLength[length];
    for (let i = 0; i < n - 1 && level !== undefined; i++) {
      path.push(level);
      level = level.get(addr[i] >>> 0) as Level<V> | undefined;
    }
    if (level === undefined) return false;
    const key = maskWord(addr[n - 1], length - (n - 1) * 32);
    if (!level.has(key) || (only !== undefined && level.get(key) !== only)) return false;
    level.delete(key);
    // Prune emptied inner maps so a churn of host routes does not leak memory.
    for (let i = path.length - 1; i >= 0 && level.size === 0; i--) {
      path[i].delete(addr[i] >>> 0);
      level = path[i];
    }
    this.count--;
    this.noteLength(length, -1);
    return true;
  }

  /** The route for exactly this prefix, if any. */
  exact(addr: ArrayLike<number>, length: number): V | undefined {
    this.checkLength(length);
    if (length === 0) return this.defaultRoute;
    const n = (length + 31) >>> 5;
    let level: Level<V> | undefined = this.byLength[length];
    for (let i = 0; i < n - 1 && level !== undefined; i++) level = level.get(addr[i] >>> 0) as Level<V> | undefined;
    return level?.get(maskWord(addr[n - 1], length - (n - 1) * 32)) as V | undefined;
  }

  /** Longest-prefix match for an address given as words. */
  lookup(addr: ArrayLike<number>): V | undefined {
    const lengths = this.lengths;
    for (let li = 0; li < lengths.length; li++) {
      const length = lengths[li];
      if (length === 0) return this.defaultRoute;
      const n = (length + 31) >>> 5;
      let level: Level<V> | undefined = this.byLength[length];
      for (let i = 0; i < n - 1 && level !== undefined; i++) level = level.get(addr[i] >>> 0) as Level<V> | undefined;
      if (level === undefined) continue;
      const hit = level.get(maskWord(addr[n - 1], length - (n - 1) * 32));
      if (hit !== undefined) return hit as V;
    }
    return undefined;
  }

  /** Longest-prefix match for the address at `buf[offset]` (network byte order), no allocation. */
  lookupAt(buf: Uint8Array, offset: number): V | undefined {
    const w = this.scratch;
    for (let i = 0; i < this.words; i++) {
      const o = offset + i * 4;
      w[i] = ((buf[o] << 24) | (buf[o + 1] << 16) | (buf[o + 2] << 8) | buf[o + 3]) >>> 0;
    }
    return this.lookup(w);
  }

  private readonly scratch = [0, 0, 0, 0];

  private noteLength(length: number, delta: 1 | -1): void {
    const before = this.countByLength[length];
    this.countByLength[length] = before + delta;
    if (before === 0 || before + delta === 0) {
      if (before + delta === 0 && length > 0) this.byLength[length] = undefined;
      const present: number[] = [];
      for (let l = this.bits; l >= 0; l--) if (this.countByLength[l] > 0) present.push(l);
      this.lengths = present;
    }
  }

  private checkLength(length: number): void {
    if (!Number.isInteger(length) || length < 0 || length > this.bits) throw new RangeError(`prefix length ${length} is outside 0..${this.bits}`);
  }
}

/** The first `bits` (1..32) bits of `word`, as an unsigned number. */
function maskWord(word: number, bits: number): number {
  return bits >= 32 ? word >>> 0 : (word & (~0 << (32 - bits))) >>> 0;
}
