import { describe, expect, it } from 'vitest';
import { editDistance, nearestName } from './nearest-name.js';

describe('nearestName', () => {
  it('finds the key one or two edits away, ignoring case', () => {
    expect(nearestName('drainSecond', ['drainSeconds', 'helloTimeout', 'gso'])).toBe('drainSeconds');
    expect(nearestName('maxSesions', ['maxSessions', 'macsPerSession'])).toBe('maxSessions');
    expect(nearestName('HelloTimeout', ['helloTimeout'])).toBe('helloTimeout');
    expect(nearestName('lisen', ['listen', 'advertise'])).toBe('listen');
  });

  it('suggests nothing for a name unlike every known one', () => {
    expect(nearestName('bandwidth', ['listen', 'gso', 'drainSeconds'])).toBeUndefined();
    expect(nearestName('x', [])).toBeUndefined();
  });

  it('measures edit distance', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('same', 'same')).toBe(0);
    expect(editDistance('abcdef', 'uvwxyz', 2)).toBe(2); // capped
  });
});
