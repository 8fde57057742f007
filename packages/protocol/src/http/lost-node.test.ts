import { describe, expect, it } from 'vitest';
import { canNameLostNode, parseLostNodeHeader } from './lost-node.js';

describe('EL-Lost-Node header', () => {
  it('takes a node id of 1..64 visible ASCII characters', () => {
    expect(parseLostNodeHeader('sw-0')).toEqual({ node: 'sw-0' });
    expect(parseLostNodeHeader('elink-switch-2.elink-switch-trunk.elink.svc')).toEqual({ node: 'elink-switch-2.elink-switch-trunk.elink.svc' });
    expect(parseLostNodeHeader('n'.repeat(64))).toEqual({ node: 'n'.repeat(64) });
  });

  it('ignores an absent, empty, repeated, too long or odd value, never throwing', () => {
    expect(parseLostNodeHeader(undefined)).toEqual({ ignored: 'absent' });
    for (const bad of ['', 'n'.repeat(65), 'sw 0', 'sw-0\t', 'sw-é', 'a\u0000b', ' sw-0']) expect(parseLostNodeHeader(bad), JSON.stringify(bad)).toEqual({ ignored: 'invalid' });
    expect(parseLostNodeHeader(['sw-0', 'sw-1'])).toEqual({ ignored: 'invalid' });
  });

  it('says which node ids a client can name', () => {
    expect(canNameLostNode('sw-0')).toBe(true);
    expect(canNameLostNode('my node')).toBe(false);
    expect(canNameLostNode('x'.repeat(65))).toBe(false);
  });
});
