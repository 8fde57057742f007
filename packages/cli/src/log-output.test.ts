/**
 * The log writer over a real FIFO (mkfifo): a reader that does not read, one that reads
 * late, one that is gone.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, constants, createReadStream, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { LogOutput, registerLogMetrics } from './log-output.js';

const dirs: string[] = [];
const fds: number[] = [];
afterEach(() => {
  for (const fd of fds.splice(0)) closeSync(fd);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function fifo(): string {
  const d = mkdtempSync(join(tmpdir(), 'elink-log-output-'));
  dirs.push(d);
  const path = join(d, 'fifo');
  expect(spawnSync('mkfifo', [path]).status).toBe(0);
  return path;
}

/** A FIFO's write end that no one reads (opened read-write, so it has a reader: us), non-blocking as Node leaves stdout. */
function stuck(path: string): number {
  const fd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK);
  fds.push(fd);
  return fd;
}

const LINES = 5000;
const PAD = 'x'.repeat(200);

describe('LogOutput', () => {
  it('drops and counts what does not fit while the reader is stuck, and says how many once it reads', async () => {
    const path = fifo();
    const out = new LogOutput({ fd: stuck(path), bufferBytes: 64 * 1024 });
    const logger = pino({ base: null }, out.stream);
    out.attach(logger);
    for (let i = 0; i < LINES; i++) logger.info({ i, pad: PAD }, 'line');
    expect(out.dropped).toBeGreaterThan(0);
    expect(out.dropped).toBeLessThan(LINES);

    const registry = new Registry();
    registerLogMetrics(registry, out);
    expect(await registry.getSingleMetricAsString('el_log_lines_dropped_total')).toContain(`el_log_lines_dropped_total ${out.dropped}`);

    const lines: Record<string, unknown>[] = [];
    let rest = '';
    const reader = createReadStream(path, { encoding: 'utf8' });
    reader.on('data', (d: string | Buffer) => {
      const parts = (rest + String(d)).split('\n');
      rest = parts.pop()!;
      for (const p of parts) lines.push(JSON.parse(p) as Record<string, unknown>);
    });
    try {
      const deadline = Date.now() + 10_000;
      while (!lines.some((l) => String(l.msg).startsWith('log lines dropped')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const summary = lines.find((l) => String(l.msg).startsWith('log lines dropped'));
      expect(summary).toMatchObject({ level: 40, dropped: out.dropped, droppedTotal: out.dropped, bufferBytes: 64 * 1024 });
      // Every line either arrived, whole and in order, or was counted.
      const got = lines.filter((l) => l.msg === 'line').map((l) => l.i as number);
      expect(got.length + out.dropped).toBe(LINES);
      expect(got).toEqual([...got].sort((a, b) => a - b));
      // The summary did not count itself while it waited for room.
      expect(lines.filter((l) => String(l.msg).startsWith('log lines dropped'))).toHaveLength(1);
    } finally {
      reader.destroy();
    }
  });

  it('gives the queue up at exit after the time allowed when the reader takes nothing', () => {
    const out = new LogOutput({ fd: stuck(fifo()), bufferBytes: 1024 * 1024 });
    const logger = pino({ base: null }, out.stream);
    for (let i = 0; i < 2000; i++) logger.info({ i, pad: PAD }, 'line');
    // Without the bound this never returns (sonic-boom retries EAGAIN forever).
    const t0 = Date.now();
    out.flushSync(300);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
  });

  it('counts lines as dropped once the reader is gone, and does not throw', async () => {
    const path = fifo();
    const r = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const w = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
    fds.push(w);
    closeSync(r);
    const out = new LogOutput({ fd: w });
    const logger = pino({ base: null }, out.stream);
    logger.info('first');
    // The first write fails (EPIPE) in the thread pool; lines after it are counted.
    const deadline = Date.now() + 5000;
    while (out.dropped === 0 && Date.now() < deadline) {
      logger.info('again');
      await new Promise((res) => setTimeout(res, 20));
    }
    expect(out.dropped).toBeGreaterThan(0);
    expect(() => out.flushSync(100)).not.toThrow();
  });
});
