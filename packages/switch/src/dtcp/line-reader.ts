/**
 * Bytes in, lines (ending in LF; a CR before it is dropped) out one at a time, bounded
 * twice: a line longer than `maxLine` (without its line end) is 'too_long' as soon as that
 * many bytes wait without an LF, and more than `maxBuffered` bytes waiting (lines the
 * reader's owner has not taken yet) make push() refuse, so a peer cannot make it buffer more.
 */
export class LineReader {
  #buf: Buffer = Buffer.alloc(0);
  #start = 0;

  constructor(
    readonly maxLine: number,
    readonly maxBuffered: number,
  ) {}

  /** Bytes waiting (not yet taken as lines). */
  get buffered(): number {
    return this.#buf.length - this.#start;
  }

  /** Appends `chunk` (copied); false when that would leave more than maxBuffered bytes waiting. */
  push(chunk: Buffer): boolean {
    if (this.buffered + chunk.length > this.maxBuffered) return false;
    this.#buf = Buffer.concat([this.#buf.subarray(this.#start), chunk]);
    this.#start = 0;
    return true;
  }

  /** The next complete line, undefined when none is complete yet, or 'too_long'. */
  next(): string | undefined | 'too_long' {
    const i = this.#buf.indexOf(0x0a, this.#start);
    // One byte of slack: the CR of a line exactly maxLine long may wait for its LF.
    if (i === -1) return this.buffered > this.maxLine + 1 ? 'too_long' : undefined;
    let end = i;
    if (end > this.#start && this.#buf[end - 1] === 0x0d) end--;
    if (end - this.#start > this.maxLine) return 'too_long';
    const line = this.#buf.toString('utf8', this.#start, end);
    this.#start = i + 1;
    return line;
  }
}
