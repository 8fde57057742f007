import { describe, expect, it } from 'vitest';
import { endToEndHeaders } from './hop-by-hop.js';

describe('hop-by-hop headers', () => {
  it('drops the fixed set and those Connection names, any case; keeps order and repeats', () => {
    const raw = ['Host', 'a', 'Connection', 'keep-alive, X-Trace', 'Proxy-Connection', 'keep-alive', 'x-trace', '1', 'Set-Cookie', 'a=1', 'TE', 'trailers', 'Set-Cookie', 'b=2', 'Proxy-Authorization', 'Basic eA==', 'Transfer-Encoding', 'chunked', 'Keep-Alive', 'timeout=5', 'Upgrade', 'h2c', 'Trailer', 'x'];
    expect(endToEndHeaders(raw)).toEqual(['Host', 'a', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2']);
    expect(endToEndHeaders(raw, ['host'])).toEqual(['Set-Cookie', 'a=1', 'Set-Cookie', 'b=2']);
  });
});
