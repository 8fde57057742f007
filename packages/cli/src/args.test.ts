import { describe, expect, it } from 'vitest';
import { parse, serverFlags, serverFlagsHelp, type ServerKind } from './args.js';

describe('server flags', () => {
  const kinds: ServerKind[] = ['up', 'broker', 'switch'];
  it.each(kinds)('elink %s --help lists exactly the flags it accepts', (kind) => {
    const listed = [...serverFlagsHelp(kind).matchAll(/--([a-z-]+)/g)].map((m) => m[1]).sort();
    expect(listed).toEqual(Object.keys(serverFlags(kind)).sort());
  });

  it('gives the broker no switch flags and the switch no broker port', () => {
    expect(Object.keys(serverFlags('broker'))).not.toContain('switch-port');
    expect(Object.keys(serverFlags('broker'))).not.toContain('advertise');
    expect(Object.keys(serverFlags('switch'))).not.toContain('broker-port');
    expect(Object.keys(serverFlags('up'))).toEqual(expect.arrayContaining(['broker-port', 'switch-port', 'advertise']));
    expect(() => parse(['--switch-port', '5'], serverFlags('broker'))).toThrow(expect.objectContaining({ code: 'EL_ERR_INVALID', message: expect.stringContaining("'--switch-port'") }));
  });
});
