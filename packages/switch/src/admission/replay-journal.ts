/**
 * The replay cache on disk, so that a ticket stays single-use across a restart (or a
 * crash, or SIGKILL): every accepted ticket id is appended as "jti exp\n" before the
 * session gets its welcome, and read back at start. The file is bounded by ticket
 * expiry: at open and whenever it has grown to twice the live entries (and at least
 * COMPACT_MIN_LINES), it is rewritten with the live ones only (temp file + rename).
 *
 * An append is a write(2) on a descriptor held open from the start (so a process out of
 * descriptors can still journal), not an fsync: the data is in the kernel once written,
 * which a killed process cannot undo. Only a power loss could lose the last lines, and a
 * host takes longer to come back than a ticket lives (broker.ticketTtl, 60 s by default).
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { ElError } from '@elink/protocol';

/** Compaction is not worth it below this many lines. */
export const COMPACT_MIN_LINES = 4096;
/** "base64url(jti) exp": the id is encoded, so no ticket can break a line. Anything else is skipped. */
const LINE = /^([A-Za-z0-9_-]{1,128}) (\d{1,12})$/;

export interface JournalEntry {
  jti: string;
  exp: number;
}

export class ReplayJournal {
  private fd: number | undefined;
  private lines = 0;

  private constructor(
    readonly file: string,
    private readonly nowSeconds: () => number,
  ) {}

  /** Opens (creating) the journal, returns its live entries, and compacts it. */
  static open(file: string, nowSeconds: () => number = () => Math.floor(Date.now() / 1000)): { journal: ReplayJournal; entries: JournalEntry[] } {
    const journal = new ReplayJournal(file, nowSeconds);
    let entries: JournalEntry[];
    try {
      mkdirSync(dirname(file), { recursive: true });
      entries = existsSync(file) ? journal.parse(readFileSync(file, 'utf8')) : [];
      journal.rewrite(entries);
    } catch (e) {
      throw new ElError('EL_ERR_CONFIG', `cannot use the replay journal ${file}: ${(e as Error).message}; it must be writable (switch.replayJournal)`, { cause: e });
    }
    return { journal, entries };
  }

  /** Records a used ticket id; throws EL_ERR_UNAVAILABLE when it cannot (the ticket must then be refused). */
  append(jti: string, exp: number): void {
    if (this.fd === undefined) throw new ElError('EL_ERR_UNAVAILABLE', 'the replay journal is closed');
    try {
      writeSync(this.fd, line(jti, exp));
    } catch (e) {
      throw new ElError('EL_ERR_UNAVAILABLE', `cannot record the ticket in the replay journal (${(e as Error).message}); try another node`, { cause: e });
    }
    this.lines++;
  }

  /** Rewrites the file with `live` if it has grown enough; a failure keeps the old file (it only grows). */
  maybeCompact(live: () => Iterable<JournalEntry>, liveCount: number): boolean {
    if (this.lines < COMPACT_MIN_LINES || this.lines < 2 * liveCount) return false;
    try {
      this.rewrite([...live()]);
      return true;
    } catch {
      return false;
    }
  }

  /** Lines in the file now (tests, metrics). */
  get size(): number {
    return this.lines;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private parse(text: string): JournalEntry[] {
    const now = this.nowSeconds();
    const live = new Map<string, number>();
    for (const line of text.split('\n')) {
      const m = LINE.exec(line);
      if (!m) continue; // a torn last line after a crash, or garbage: nothing to honour
      const exp = Number(m[2]);
      if (exp > now) live.set(Buffer.from(m[1]!, 'base64url').toString('utf8'), exp);
    }
    return [...live].map(([jti, exp]) => ({ jti, exp }));
  }

  private rewrite(entries: JournalEntry[]): void {
    const now = this.nowSeconds();
    const keep = entries.filter((e) => e.exp > now);
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, keep.map((e) => line(e.jti, e.exp)).join(''), { mode: 0o600 });
    renameSync(tmp, this.file);
    const fd = openSync(this.file, 'a', 0o600);
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = fd;
    this.lines = keep.length;
  }
}

function line(jti: string, exp: number): string {
  return `${Buffer.from(jti, 'utf8').toString('base64url')} ${exp}\n`;
}
