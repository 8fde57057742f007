/**
 * Bounded time series for the live charts: the last `capacity` samples per key, in columns
 * uPlot draws as they are (x = seconds since the epoch). Old samples give way; keys beyond
 * `maxKeys` (sessions come and go) push out the least recently updated.
 */
export class Series {
  readonly t: number[] = [];
  readonly columns: number[][];

  constructor(
    readonly names: readonly string[],
    readonly capacity: number,
  ) {
    this.columns = names.map(() => []);
  }

  push(tSeconds: number, values: readonly number[]): void {
    // A sample for a time already drawn (a replayed event) would bend the line back.
    if (this.t.length > 0 && tSeconds <= this.t[this.t.length - 1]!) return;
    this.t.push(tSeconds);
    this.columns.forEach((c, i) => c.push(values[i] ?? 0));
    if (this.t.length > this.capacity) {
      this.t.shift();
      for (const c of this.columns) c.shift();
    }
  }

  get length(): number {
    return this.t.length;
  }

  /** The newest value of each column (0 when empty). */
  latest(): number[] {
    return this.columns.map((c) => c[c.length - 1] ?? 0);
  }

  /** [x, ...columns] as uPlot.AlignedData wants it. */
  data(): number[][] {
    return [this.t, ...this.columns];
  }
}

export class SeriesMap {
  private readonly map = new Map<string, Series>();

  constructor(
    readonly capacity: number,
    readonly maxKeys: number,
  ) {}

  /** The series of `key`, made with `names` on first use (a different set of names starts over). */
  get(key: string, names: readonly string[]): Series {
    let s = this.map.get(key);
    if (!s || s.names.length !== names.length || s.names.some((n, i) => n !== names[i])) {
      s = new Series(names, this.capacity);
      this.map.set(key, s);
    }
    this.touch(key, s);
    return s;
  }

  peek(key: string): Series | undefined {
    return this.map.get(key);
  }

  get size(): number {
    return this.map.size;
  }

  private touch(key: string, s: Series): void {
    this.map.delete(key);
    this.map.set(key, s);
    while (this.map.size > this.maxKeys) this.map.delete(this.map.keys().next().value!);
  }
}
