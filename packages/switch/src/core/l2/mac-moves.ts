/**
 * MAC mobility between nodes and loop freezing (RFC 7432 §15.1): every time a MAC moves
 * from a peer node to this one or back, note() counts it; more than `maxMoves` within
 * `windowMs` freezes it for `freezeMs`. A frozen MAC is neither announced nor taken from
 * peers, and frames from trunks with it as source are dropped, so a loop through two
 * nodes cannot amplify (docs/cluster.md "Loop freezing").
 *
 * Bounded: move histories for at most `capacity` MACs (the oldest history gives way), and
 * at most `capacity` frozen MACs (the one frozen longest ago thaws first).
 */
export interface MacMoveOptions {
  maxMoves: number;
  windowMs: number;
  freezeMs: number;
  capacity: number;
  now: () => number;
}

export const DEFAULT_MAC_MOVES = { maxMoves: 5, windowSeconds: 180, freezeSeconds: 300 } as const;

export class MacMoves {
  private readonly history = new Map<number, number[]>();
  private readonly frozenUntil = new Map<number, number>();
  /** MACs frozen since start (el_trunk_mac_freezes_total). */
  freezes = 0;

  constructor(private readonly opts: MacMoveOptions) {}

  /** Counts one move of `mac`; returns the moves in the window when this one froze it. */
  note(mac: number): number | undefined {
    const now = this.opts.now();
    let h = this.history.get(mac);
    if (h === undefined) {
      if (this.history.size >= this.opts.capacity) this.history.delete(this.history.keys().next().value!);
      h = [];
    } else this.history.delete(mac); // re-inserted below: Map order is recency
    this.history.set(mac, h);
    const from = now - this.opts.windowMs;
    while (h.length > 0 && h[0] < from) h.shift();
    h.push(now);
    // At most maxMoves + 1 times kept: the window's count is all that matters.
    if (h.length > this.opts.maxMoves + 1) h.shift();
    if (h.length <= this.opts.maxMoves || this.isFrozen(mac)) return undefined;
    if (this.frozenUntil.size >= this.opts.capacity) this.frozenUntil.delete(this.frozenUntil.keys().next().value!);
    this.frozenUntil.set(mac, now + this.opts.freezeMs);
    this.history.delete(mac);
    this.freezes++;
    return h.length;
  }

  isFrozen(mac: number): boolean {
    if (this.frozenUntil.size === 0) return false;
    const until = this.frozenUntil.get(mac);
    if (until === undefined) return false;
    if (this.opts.now() < until) return true;
    this.frozenUntil.delete(mac);
    return false;
  }

  /** Frozen now (thawed ones are forgotten). */
  get frozen(): number {
    const now = this.opts.now();
    for (const [mac, until] of this.frozenUntil) if (now >= until) this.frozenUntil.delete(mac);
    return this.frozenUntil.size;
  }
}
