import { describe, expect, it } from 'vitest';
import { LineReader } from './line-reader.js';

const b = (s: string) => Buffer.from(s, 'utf8');
function drain(r: LineReader): (string | 'too_long')[] {
  const out: (string | 'too_long')[] = [];
  for (let l = r.next(); l !== undefined; l = r.next()) {
    out.push(l);
    if (l === 'too_long') break;
  }
  return out;
}

describe('LineReader', () => {
  it('splits on LF, drops one CR before it, joins lines across chunks', () => {
    const r = new LineReader(16, 64);
    r.push(b('ping\r\npi'));
    expect(drain(r)).toEqual(['ping']);
    r.push(b('ng\nhelp\r'));
    expect(drain(r)).toEqual(['ping']);
    r.push(b('\n\r\n'));
    expect(drain(r)).toEqual(['help', '']);
    expect(r.buffered).toBe(0);
  });

  it('a line of exactly maxLine bytes passes; one more is too_long, with or without its LF yet', () => {
    const r = new LineReader(8, 64);
    r.push(b('12345678\r\n123456789\n'));
    expect(drain(r)).toEqual(['12345678', 'too_long']);
    const s = new LineReader(8, 64);
    s.push(b('12345678\r'));
    expect(drain(s)).toEqual([]);
    s.push(b('x'));
    expect(drain(s)).toEqual(['too_long']);
  });

  it('refuses to hold more than maxBuffered bytes of lines not taken', () => {
    const r = new LineReader(8, 16);
    expect(r.push(b('a\nb\nc\nd\n'))).toBe(true);
    expect(r.push(b('e\nf\ng\nh\n'))).toBe(true);
    expect(r.push(b('i\n'))).toBe(false);
    expect(r.next()).toBe('a');
    expect(r.push(b('i\n'))).toBe(true);
    expect(r.buffered).toBe(16);
  });
});
