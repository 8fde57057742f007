import { describe, expect, it } from 'vitest';
import { parsePrefix } from '../core/l3/ip.js';
import { firstOverlap, prefixesOverlap } from './static-ranges.js';

const p = (t: string) => parsePrefix(t)!;

describe('static ranges of tunnelonly tunnels', () => {
  it('two prefixes overlap when one contains the other, whatever the order; neighbours and other families do not', () => {
    expect(prefixesOverlap(p('fd00:e1:300::/48'), p('fd00:e1:300:ab00::/56'))).toBe(true);
    expect(prefixesOverlap(p('fd00:e1:300:ab00::/56'), p('fd00:e1:300::/48'))).toBe(true);
    expect(prefixesOverlap(p('fd00:e1:300::/48'), p('fd00:e1:300::/48'))).toBe(true);
    expect(prefixesOverlap(p('fd00:e1:300::/48'), p('fd00:e1:301::/48'))).toBe(false);
    expect(prefixesOverlap(p('fd00:e1:300::/47'), p('fd00:e1:301::/48'))).toBe(true);
    expect(prefixesOverlap(p('fd00:e1:300::5/128'), p('fd00:e1:300::4/127'))).toBe(true);
    expect(prefixesOverlap(p('fd00:e1:300::5/128'), p('fd00:e1:300::6/127'))).toBe(false);
    expect(prefixesOverlap(p('::/0'), p('fd00:e1:300::/48'))).toBe(true);
    expect(prefixesOverlap(p('198.51.100.0/24'), p('fd00:e1:300::/48'))).toBe(false);
  });

  it('firstOverlap names the first clashing range as given, or nothing', () => {
    expect(firstOverlap(['fd00:e1:400::/48', 'fd00:e1:300:ab00::/56'], ['fd00:e1:300::/48'])).toBe('fd00:e1:300:ab00::/56');
    expect(firstOverlap(['fd00:e1:400::/48'], ['fd00:e1:300::/48', 'fd00:e1:401::/48'])).toBeUndefined();
    expect(firstOverlap([], ['fd00:e1:300::/48'])).toBeUndefined();
  });
});
