import { describe, expect, it } from 'vitest';
import { FlushScheduler, type Flushable } from './flush-scheduler.js';
import { nextTurn } from './test-frames.js';

function flushable(willing: boolean, log: string[], name: string, fail = false): Flushable {
  return {
    flushPending: false,
    flush: () => {
      log.push(name);
      if (fail) throw new Error('writer broke');
    },
    wantsFlushNow: () => willing,
  };
}

describe('FlushScheduler', () => {
  it('flushes each dirty queue once per tick, however often it was scheduled', async () => {
    const s = new FlushScheduler();
    const log: string[] = [];
    const a = flushable(true, log, 'a');
    s.schedule(a);
    s.schedule(a);
    expect(a.flushPending).toBe(true);
    expect(log).toEqual([]);
    await nextTurn();
    expect(log).toEqual(['a']);
    expect(a.flushPending).toBe(false);
  });

  it('flushNow() flushes the willing queues at once and leaves the others to the tick', async () => {
    const s = new FlushScheduler();
    const log: string[] = [];
    const idle = flushable(true, log, 'idle');
    const busy = flushable(false, log, 'busy');
    s.schedule(idle);
    s.schedule(busy);
    s.flushNow();
    expect(log).toEqual(['idle']);
    expect(busy.flushPending).toBe(true);
    await nextTurn();
    expect(log).toEqual(['idle', 'busy']);
  });

  it('recycles the arena only after the full flush of the tick, not after flushNow()', async () => {
    const s = new FlushScheduler();
    const log: string[] = [];
    const first = s.arena.alloc(64);
    first.fill(1);
    s.schedule(flushable(true, log, 'a'));
    s.flushNow();
    const second = s.arena.alloc(64); // not recycled: new memory after the first
    expect(second.byteOffset).not.toBe(first.byteOffset);
    s.schedule(flushable(true, log, 'b'));
    await nextTurn();
    const third = s.arena.alloc(64); // recycled by the tick's flush
    expect(third.buffer).toBe(first.buffer);
    expect(third.byteOffset).toBe(first.byteOffset);
  });

  it('a queue whose flush throws does not keep the others from flushing', async () => {
    const s = new FlushScheduler();
    const log: string[] = [];
    s.schedule(flushable(true, log, 'broken', true));
    s.schedule(flushable(true, log, 'fine'));
    await nextTurn();
    expect(log).toEqual(['broken', 'fine']);
  });
});
