import { describe, expect, it } from 'vitest';
import { PERMANENT_FAILURES } from '@elink/client';
import { ElError, ErrorCodes, type ErrorCode } from '@elink/protocol';
import { CONNECT_EXIT_STATUSES, connectExit } from './connect-exit.js';
import { connectHelp } from './connect.js';

describe('elink connect exit statuses', () => {
  it('give every permanent failure a status of its own kind (2-7) and a hint; every other code 1', () => {
    for (const code of Object.keys(ErrorCodes) as ErrorCode[]) {
      const { status, hint } = connectExit(new ElError(code));
      if (PERMANENT_FAILURES.has(code)) {
        expect(status, code).toBeGreaterThanOrEqual(2);
        expect(status, code).toBeLessThanOrEqual(7);
        expect(hint, code).toMatch(/--\w/);
      } else {
        expect(status, code).toBe(1);
      }
    }
  });

  it('name the flag to change: --ca for a certificate, --password-file for auth, --device for superseded', () => {
    expect(connectExit(new ElError('EL_ERR_CERTIFICATE'))).toMatchObject({ status: 3, hint: expect.stringContaining('--ca must name') });
    expect(connectExit(new ElError('EL_ERR_AUTH'))).toMatchObject({ status: 4, hint: expect.stringContaining('--password-file') });
    expect(connectExit(new ElError('EL_ERR_PROXY_AUTH'))).toMatchObject({ status: 4, hint: expect.stringContaining('--proxy') });
    expect(connectExit(new ElError('EL_ERR_SUPERSEDED'))).toMatchObject({ status: 7, hint: expect.stringContaining('--device') });

  });

  it('are listed in --help, each with its codes', () => {
    for (const e of CONNECT_EXIT_STATUSES) expect(connectHelp).toContain(`      ${e.status}  ${e.meaning} (${e.codes.join(', ')})`);
    expect(new Set(CONNECT_EXIT_STATUSES.map((e) => e.status)).size).toBe(CONNECT_EXIT_STATUSES.length);
  });
});
