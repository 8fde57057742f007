import { describe, expect, it } from 'vitest';
import { EarlyHeartbeat, type BeatTimers } from './early-heartbeat.js';

/** Timers driven by hand: `run(t)` moves the clock to `t` and fires what is due by then. */
function manualTimers(clock: { t: number }): BeatTimers & { run(to: number): Promise<void>; pending(): number[] } {
  let id = 0;
  const due = new Map<number, { at: number; fn: () => void }>();
  return {
    set(fn, ms) {
      due.set(++id, { at: clock.t + ms, fn });
      return id;
    },
    clear(h) {
      due.delete(h as number);
    },
    pending: () => [...due.values()].map((d) => d.at),
    async run(to) {
      for (;;) {
        const next = [...due.entries()].filter(([, d]) => d.at <= to).sort((a, b) => a[1].at - b[1].at)[0];
        if (!next) break;
        due.delete(next[0]);
        clock.t = next[1].at;
        next[1].fn();
        // Let the beat's promise settle (its finally may ask for the next one).
        for (let i = 0; i < 5; i++) await Promise.resolve();
      }
      clock.t = to;
    },
  };
}

describe('EarlyHeartbeat', () => {
  it('beats at once, then at most once a second however many losses come; none is left unsaid', async () => {
    const clock = { t: 10_000 };
    const timers = manualTimers(clock);
    const beats: number[] = [];
    const early = new EarlyHeartbeat({ beat: async () => void beats.push(clock.t), now: () => clock.t, timers });
    // Three trunks drop in the same instant: one beat.
    early.request();
    early.request();
    early.request();
    await timers.run(10_000);
    expect(beats).toEqual([10_000]);
    // Another loss 200 ms later waits for the rest of the second, and two more fold into it.
    await timers.run(10_200);
    early.request();
    await timers.run(10_500);
    early.request();
    early.request();
    expect(timers.pending()).toEqual([11_000]);
    await timers.run(12_000);
    expect(beats).toEqual([10_000, 11_000]);
    // Quiet for a while: the next loss is told at once again.
    await timers.run(15_000);
    early.request();
    await timers.run(15_000);
    expect(beats).toEqual([10_000, 11_000, 15_000]);
    expect(early.sent).toBe(3);
  });

  it('a loss during a beat under way gets a beat after it (that one was built before), still one a second', async () => {
    const clock = { t: 0 };
    const timers = manualTimers(clock);
    let finish: (() => void) | undefined;
    const beats: number[] = [];
    const early = new EarlyHeartbeat({
      beat: () => {
        beats.push(clock.t);
        return new Promise<void>((r) => (finish = r));
      },
      now: () => clock.t,
      timers,
    });
    early.request();
    await timers.run(0);
    expect(beats).toEqual([0]);
    early.request();
    early.request();
    expect(timers.pending()).toEqual([]);
    clock.t = 300;
    finish!();
    for (let i = 0; i < 5; i++) await Promise.resolve();
    expect(timers.pending()).toEqual([1000]);
    await timers.run(1000);
    expect(beats).toEqual([0, 1000]);
    finish!();
  });

  it('a failed beat does not stop the next; stop() cancels what waits', async () => {
    const clock = { t: 0 };
    const timers = manualTimers(clock);
    let calls = 0;
    const early = new EarlyHeartbeat({
      beat: async () => {
        calls++;
        throw new Error('every broker away');
      },
      now: () => clock.t,
      timers,
    });
    early.request();
    await timers.run(0);
    early.request();
    await timers.run(1000);
    expect(calls).toBe(2);
    early.request();
    expect(timers.pending()).toEqual([2000]);
    early.stop();
    expect(timers.pending()).toEqual([]);
    early.request();
    await timers.run(5000);
    expect(calls).toBe(2);
  });
});
