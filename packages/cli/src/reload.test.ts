import { describe, expect, it } from 'vitest';
import { lostAccess } from './reload.js';

const u = (name: string, segments: string[]) => ({ name, password: '$scrypt$x', segments });

describe('lostAccess', () => {
  it('ends a removed user everywhere and a user only in segments that left their list; a password change or another user keeps the session', () => {
    const gone = lostAccess(
      [u('alice', ['lab', 'ops']), u('bob', ['lab']), u('carol', ['lab'])],
      [u('alice', ['lab']), { ...u('carol', ['lab']), password: '$scrypt$y' }],
    );
    expect(gone('alice', 'ops')).toBe(true);
    expect(gone('alice', 'lab')).toBe(false);
    expect(gone('bob', 'lab')).toBe(true);
    expect(gone('carol', 'lab')).toBe(false);
    // Not a user of the file before (the Redis store's, or unknown): not ours to end.
    expect(gone('dave', 'lab')).toBe(false);
  });
});
