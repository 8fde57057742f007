import { afterAll, describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReplayCache } from './replay-cache.js';
import { COMPACT_MIN_LINES, ReplayJournal } from './replay-journal.js';

describe('ReplayCache', () => {
  it('accepts a ticket id once until it expires', () => {
    let now = 1000;
    const c = new ReplayCache(10, () => now);
    expect(c.check('jti-00001', 1060)).toBe('fresh');
    expect(c.check('jti-00001', 1060)).toBe('replayed');
    now = 1061;
    expect(c.check('jti-00001', 1120)).toBe('fresh');
  });

  it('refuses new ids when full of live ones instead of forgetting them', () => {
    let now = 1000;
    const c = new ReplayCache(2, () => now);
    expect(c.check('a-000000', 1010)).toBe('fresh');
    expect(c.check('b-000000', 1100)).toBe('fresh');
    expect(c.check('c-000000', 1100)).toBe('full');
    expect(c.check('a-000000', 1010)).toBe('replayed');
    now = 1011; // a expired: its room is reused
    expect(c.check('c-000000', 1100)).toBe('fresh');
    expect(c.size).toBe(2);
  });
});

describe('ReplayCache with a ReplayJournal', () => {
  const dir = mkdtempSync(join(tmpdir(), 'elink-replay-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a ticket id used before a restart is refused after it, until it expires', () => {
    const file = join(dir, 'a', 'replay.journal');
    let now = 1000;
    const a = ReplayJournal.open(file, () => now);
    const c1 = new ReplayCache(10, () => now);
    c1.persistTo(a.journal, a.entries);
    expect(c1.check('jti-00001', 1060)).toBe('fresh');
    expect(c1.check('jti/with space\nand newline', 1030)).toBe('fresh');
    // No close(): a killed process never gets to close its journal.
    const b = ReplayJournal.open(file, () => now);
    const c2 = new ReplayCache(10, () => now);
    c2.persistTo(b.journal, b.entries);
    expect(c2.check('jti-00001', 1060)).toBe('replayed');
    expect(c2.check('jti/with space\nand newline', 1030)).toBe('replayed');
    expect(c2.check('jti-00002', 1060)).toBe('fresh');
    now = 1031; // the second id expired: the next open drops it from the file
    const c = ReplayJournal.open(file, () => now);
    expect(c.entries.map((e) => e.jti).sort()).toEqual(['jti-00001', 'jti-00002']);
    expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(2);
    for (const j of [a, b, c]) j.journal.close();
  });

  it('skips a torn last line and garbage, and compacts to the live ids when it has grown', () => {
    const file = join(dir, 'b.journal');
    writeFileSync(file, `${Buffer.from('good-0001').toString('base64url')} 2000\nnot a line\n${Buffer.from('torn-0001').toString('base64url')} 20`);
    let now = 1000;
    const { journal, entries } = ReplayJournal.open(file, () => now);
    expect(entries).toEqual([{ jti: 'good-0001', exp: 2000 }, { jti: 'torn-0001', exp: 20 }].filter((e) => e.exp > now));
    const cache = new ReplayCache(100_000, () => now);
    cache.persistTo(journal, entries);
    // Short-lived ids: once expired they are purged and the file is rewritten with the live ones.
    for (let i = 0; i < COMPACT_MIN_LINES; i++) expect(cache.check(`short-${i}`, now + 1)).toBe('fresh');
    now += 2;
    cache.purge();
    expect(cache.check('last-0001', now + 60)).toBe('fresh');
    expect(journal.size).toBeLessThan(COMPACT_MIN_LINES);
    const again = ReplayJournal.open(file, () => now);
    expect(again.entries.map((e) => e.jti).sort()).toEqual(['good-0001', 'last-0001']);
    journal.close();
    again.journal.close();
  });

  it('refuses (EL_ERR_UNAVAILABLE) rather than accept a ticket it could not record', () => {
    const file = join(dir, 'c.journal');
    const { journal, entries } = ReplayJournal.open(file);
    const cache = new ReplayCache(10);
    cache.persistTo(journal, entries);
    journal.close();
    expect(() => cache.check('jti-00009', Math.floor(Date.now() / 1000) + 60)).toThrow(expect.objectContaining({ code: 'EL_ERR_UNAVAILABLE' }));
    expect(cache.size).toBe(0);
  });
});
