import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { installLastResort, LAST_RESORT_LOGS_PER_MINUTE } from './last-resort.js';

describe('installLastResort', () => {
  it('logs an uncaught exception or rejection at fatal, counts it, and leaves the process running', async () => {
    const logs: Array<{ level: number; msg: string; kind: string; err?: { message: string } }> = [];
    const sink = new Writable({
      write(chunk: Buffer, _e, cb) {
        for (const l of chunk.toString().split('\n')) if (l) logs.push(JSON.parse(l));
        cb();
      },
    });
    const registry = new Registry();
    // The test runner listens for these too: step aside while ours alone is installed.
    const saved = { exception: process.listeners('uncaughtException'), rejection: process.listeners('unhandledRejection') };
    process.removeAllListeners('uncaughtException');
    process.removeAllListeners('unhandledRejection');
    const uninstall = installLastResort(pino({ level: 'info' }, sink), registry);
    try {
      // @types/node does not list 'uncaughtException' among emit's events; Node dispatches it like any other.
      (process.emit as (event: string, ...args: unknown[]) => boolean)('uncaughtException', new Error('EMFILE: too many open files, open store.json.tmp'), 'uncaughtException');
      process.emit('unhandledRejection', new Error('a promise nobody awaited'), Promise.resolve());
    } finally {
      uninstall();
      for (const l of saved.exception) process.on('uncaughtException', l);
      for (const l of saved.rejection) process.on('unhandledRejection', l as NodeJS.UnhandledRejectionListener);
    }
    await new Promise((r) => setImmediate(r));
    expect(logs.map((l) => [l.level, l.kind, l.err?.message])).toEqual([
      [60, 'exception', 'EMFILE: too many open files, open store.json.tmp'],
      [60, 'rejection', 'a promise nobody awaited'],
    ]);
    const values = (await registry.getSingleMetric('el_process_uncaught_errors_total')!.get()).values;
    expect(Object.fromEntries(values.map((v) => [v.labels.kind, v.value]))).toEqual({ exception: 1, rejection: 1 });
    expect(process.listenerCount('uncaughtException')).toBe(saved.exception.length);
  });

  it('logs at most LAST_RESORT_LOGS_PER_MINUTE a minute and says how many it held back; counts every one', async () => {
    const logs: Array<{ level: number; suppressed?: number }> = [];
    const sink = new Writable({
      write(chunk: Buffer, _e, cb) {
        for (const l of chunk.toString().split('\n')) if (l) logs.push(JSON.parse(l));
        cb();
      },
    });
    const registry = new Registry();
    let t = 1_000_000;
    const saved = process.listeners('unhandledRejection');
    process.removeAllListeners('unhandledRejection');
    const uninstall = installLastResort(pino({ level: 'info' }, sink), registry, () => t);
    try {
      for (let i = 0; i < 500; i++) process.emit('unhandledRejection', new Error(`bug ${i}`), Promise.resolve());
      t += 60_000;
      process.emit('unhandledRejection', new Error('a minute later'), Promise.resolve());
    } finally {
      uninstall();
      for (const l of saved) process.on('unhandledRejection', l as NodeJS.UnhandledRejectionListener);
    }
    await new Promise((r) => setImmediate(r));
    expect(logs).toHaveLength(LAST_RESORT_LOGS_PER_MINUTE + 1);
    expect(logs.at(-1)!.suppressed).toBe(500 - LAST_RESORT_LOGS_PER_MINUTE);
    const values = (await registry.getSingleMetric('el_process_uncaught_errors_total')!.get()).values;
    expect(values.find((v) => v.labels.kind === 'rejection')!.value).toBe(501);
  });
});
