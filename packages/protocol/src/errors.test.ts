import { readFileSync } from 'node:fs';
import { describe, it, expect } from 'vitest';
import { ElError, ErrorCodes, isErrorCode, type ErrorCode } from './errors.js';

const codes = Object.keys(ErrorCodes) as ErrorCode[];
const errorsDoc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');

describe('error codes', () => {
  it('are all EL_ERR_ upper snake case with a default message', () => {
    expect(codes.length).toBeGreaterThan(0);
    for (const c of codes) {
      expect(c).toMatch(/^EL_ERR_[A-Z]+(_[A-Z]+)*$/);
      expect(ErrorCodes[c].length).toBeGreaterThan(0);
    }
  });

  it('isErrorCode accepts exactly the known codes', () => {
    for (const c of codes) expect(isErrorCode(c)).toBe(true);
    for (const x of ['EL_ERR_NOPE', 'toString', '__proto__', 'hasOwnProperty', '', 7, undefined, null, {}]) expect(isErrorCode(x)).toBe(false);
  });

  it('ElError carries the code, the default message, a cause, and is an Error', () => {
    const cause = new Error('root');
    const e = new ElError('EL_ERR_TICKET_EXPIRED', undefined, { cause });
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('ElError');
    expect(e.code).toBe('EL_ERR_TICKET_EXPIRED');
    expect(e.message).toBe('ticket expired');
    expect(e.cause).toBe(cause);
    expect(new ElError('EL_ERR_AUTH', 'wrong user name or password').message).toBe('wrong user name or password');
  });
});

describe('docs/errors.md', () => {
  it('has a section and a summary row for every code, with its default message', () => {
    for (const c of codes) {
      expect(errorsDoc, c).toContain(`\n### ${c}\n`);
      expect(errorsDoc, c).toContain(`| [\`${c}\`](#${c.toLowerCase()}) | ${ErrorCodes[c]} |`);
    }
  });

  it('documents no code that does not exist', () => {
    const documented = new Set([...errorsDoc.matchAll(/EL_ERR_[A-Z_]*[A-Z]/g)].map((m) => m[0]));
    expect([...documented].filter((c) => !isErrorCode(c))).toEqual([]);
  });
});
