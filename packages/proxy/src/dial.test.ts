/** dial(): name resolution through the NetLike's lookup, the deadline, failure kinds, abort. */
import * as net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dial, DialError } from './dial.js';
import type { NetLike } from '@elink/protocol';
import { closedPort, echoServer, listening } from './test-support.js';

let echo: net.Server & { port: number };
beforeAll(async () => {
  echo = await listening(echoServer());
});
afterAll(() => void echo.close());

/** node:net with a resolver of its own, as the stack has (names it knows → 127.0.0.1). */
function withLookup(lookup: (host: string) => Promise<string>): NetLike & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    connect: (o, cb) => net.connect(o, cb),
    createServer: (cb) => net.createServer(cb),
    lookup: (h) => {
      asked.push(h);
      return lookup(h);
    },
  };
}

describe('dial', () => {
  it('names go through lookup(), addresses do not', async () => {
    const n = withLookup(async (h) => (h === 'echo.lab' ? '127.0.0.1' : Promise.reject(Object.assign(new Error(`${h}: no such name`), { code: 'ENOTFOUND' }))));
    const s = await dial(n, 'echo.lab', echo.port, 2000);
    expect(s.remoteAddress).toBe('127.0.0.1');
    s.destroy();
    (await dial(n, '127.0.0.1', echo.port, 2000)).destroy();
    expect(n.asked).toEqual(['echo.lab']);
    await expect(dial(n, 'nope.lab', 80, 2000)).rejects.toMatchObject({ kind: 'not_found', message: expect.stringContaining('cannot resolve nope.lab') });
  });

  it('a refused port is "refused"; a lookup that never answers is "timeout" at the deadline', async () => {
    await expect(dial(net, '127.0.0.1', await closedPort(), 2000)).rejects.toMatchObject({ kind: 'refused', code: 'ECONNREFUSED' });
    const slow = withLookup(() => new Promise(() => undefined));
    const t0 = Date.now();
    const err = (await dial(slow, 'slow.lab', 80, 200).catch((e: unknown) => e)) as DialError;
    expect(err).toBeInstanceOf(DialError);
    expect(err.kind).toBe('timeout');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(190);
  });

  it('an abort (the client went away) rejects and leaves no connection behind', async () => {
    let accepted = 0;
    const counting = await listening(net.createServer((s) => (accepted++, s.on('close', () => accepted--))));
    const ac = new AbortController();
    const slow = withLookup(() => new Promise((r) => setTimeout(() => r('127.0.0.1'), 100)));
    const p = dial(slow, 'late.lab', counting.port, 2000, ac.signal);
    ac.abort();
    await expect(p).rejects.toMatchObject({ kind: 'error' });
    await new Promise((r) => setTimeout(r, 300));
    expect(accepted).toBe(0);
    counting.close();
  });
});
