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

  it('recycles the arena when a flush leaves no queue dirty, flushNow() included; not while a queue still holds frames', async () => {
    const s = new FlushScheduler();
    const log: string[] = [];
    const first = s.arena.alloc(64);
    // A busy writer stays dirty after flushNow(): its frames are still queued, so the
    // arena must not be handed out again.
    s.schedule(flushable(false, log, 'busy'));
    s.flushNow();
    const second = s.arena.alloc(64);
    expect(second.byteOffset).not.toBe(first.byteOffset);
    await nextTurn(); // the tick's flush writes it: nothing dirty, recycled
    const third = s.arena.alloc(64);
    expect(third.buffer).toBe(first.buffer);
    expect(third.byteOffset).toBe(first.byteOffset);
    // An idle writer flushed by flushNow() leaves nothing dirty: recycled at once.
    s.schedule(flushable(true, log, 'idle'));
    s.flushNow();
    const fourth = s.arena.alloc(64);
    expect(fourth.byteOffset).toBe(first.byteOffset);
    expect(log).toEqual(['busy', 'idle']);
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
