/**
 * A reader of the logs that falls behind must not stall the process (packages/cli/src/log-output.ts).
 * `elink up` with `log.buffer` at its minimum (64 KiB) and its standard output a FIFO that
 * this test holds open but does not read, as a stuck journald or container runtime would:
 * 3,000 broker requests (each logged twice at info, ~1.5 MB of lines, far past the FIFO's
 * 64 KiB and the log buffer) must each still be answered within 5 s; the lines that did not
 * fit are counted in el_log_lines_dropped_total; once the FIFO is read, one `warn` line says
 * how many were lost, every line that arrived is whole JSON, and what was logged plus what
 * was dropped is every line; logging goes on. Stuck and full again, SIGTERM still ends it
 * (status 0) within 15 s. Before (pino's default destination): nothing dropped, so the queue
 * grew without bound for as long as the reader was stuck, and at exit the process tried to
 * write it all, forever: SIGTERM never ended it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, constants, createReadStream, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchMetric } from './lib/metrics.js';
import { assertBuilt, CLI, freePort } from './lib/processes.js';
import { initState } from './lib/server.js';

const REQUESTS = 3000;
const AT_ONCE = 4;

describe('a log reader that falls behind', () => {
  let child: ChildProcess;
  let dir = '';
  let fifo = '';
  let brokerPort = 0;
  let adminUrl = '';
  let ca: Buffer;
  let state = '';

  beforeAll(async () => {
    assertBuilt();
    const [broker, sw, admin] = [await freePort(), await freePort(), await freePort()];
    brokerPort = broker;
    adminUrl = `http://127.0.0.1:${admin}`;
    state = initState('elink-logbp-', [], (doc) => {
      doc.setIn(['broker', 'listen'], doc.createNode({ host: '127.0.0.1', port: broker }));
      doc.setIn(['switch', 'listen'], doc.createNode({ host: '127.0.0.1', port: sw }));
      doc.setIn(['admin'], doc.createNode({ host: '127.0.0.1', port: admin }));
      doc.setIn(['log', 'buffer'], 64 * 1024);
      // One source making thousands of requests: the per-source accept limits out of the way.
      doc.setIn(['limits'], doc.createNode({ acceptRate: 100_000, acceptRatePerSource: 100_000, pendingPerSource: 1000 }));
    });
    ca = readFileSync(join(state, 'ca.pem'));
    dir = mkdtempSync(join(tmpdir(), 'elink-logbp-fifo-'));
    fifo = join(dir, 'stdout');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    // Read-write: opening does not wait for a reader, and the FIFO stays open (full, unread) while we hold it.
    const fd = openSync(fifo, constants.O_RDWR);
    child = spawn(process.execPath, [CLI, 'up', '--state', state, '--no-warm-up'], { stdio: ['ignore', fd, 'ignore'] });
    closeSync(fd);
    // Started: its admin API answers (the log cannot be read yet: it is the subject).
    const deadline = Date.now() + 30_000;
    for (;;) {
      const ok = await fetch(`${adminUrl}/healthz`, { signal: AbortSignal.timeout(2000) }).then((r) => r.ok, () => false);
      if (ok) break;
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`elink up did not start (exit ${child.exitCode})`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }, 60_000);

  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
    rmSync(state, { recursive: true, force: true });
  });

  it('answers while its standard output is not read, counts what it dropped, and says so once read again', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: AT_ONCE, ca });
    const get = (i: number) =>
      new Promise<number>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: brokerPort, path: `/no-such-page-${i}`, agent, checkServerIdentity: () => undefined, timeout: 5000 }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('timeout', () => req.destroy(new Error(`request ${i} not answered within 5 s while standard output was not read`)));
        req.on('error', reject);
        req.end();
      });
    // Requests from..to-1, AT_ONCE at a time; each must be answered (404).
    const burst = async (from: number, to: number) => {
      const statuses: number[] = [];
      let next = from;
      await Promise.all(
        Array.from({ length: AT_ONCE }, async () => {
          while (next < to) statuses.push(await get(next++));
        }),
      );
      expect(statuses.length).toBe(to - from);
      expect(statuses.every((s) => s === 404)).toBe(true);
    };
    await burst(0, REQUESTS);

    // The admin API's scrapes are not logged.
    const dropped = await fetchMetric(adminUrl, 'el_log_lines_dropped_total');
    expect(dropped).toBeGreaterThan(0);

    // Read it now.
    const logs: Record<string, unknown>[] = [];
    const torn: string[] = [];
    let rest = '';
    const reader = createReadStream(fifo, { encoding: 'utf8' });
    reader.on('data', (d: string | Buffer) => {
      const parts = (rest + String(d)).split('\n');
      rest = parts.pop()!;
      for (const line of parts) {
        try {
          logs.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          torn.push(line);
        }
      }
    });
    let held: number | undefined;
    const waitFor = async (pred: (l: Record<string, unknown>) => boolean, what: string) => {
      const deadline = Date.now() + 15_000;
      for (;;) {
        const hit = logs.find(pred);
        if (hit) return hit;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last lines: ${JSON.stringify(logs.slice(-3))}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    try {
      const summary = await waitFor((l) => String(l.msg).startsWith('log lines dropped'), 'the dropped-lines summary');
      expect(summary.level).toBe(40);
      expect(summary.dropped).toBe(dropped);
      expect(summary.droppedTotal).toBe(dropped);
      // What fitted arrived whole, and it is all the rest.
      expect(torn).toEqual([]);
      const requestLines = logs.filter((l) => typeof l.req === 'object' || typeof l.res === 'object').length;
      expect(requestLines + dropped).toBe(2 * REQUESTS);

      // And it logs on: the next request's lines arrive, nothing more is dropped.
      await get(REQUESTS);
      await waitFor((l) => (l.req as { url?: string } | undefined)?.url === `/no-such-page-${REQUESTS}`, 'the next request logged');
      expect(await fetchMetric(adminUrl, 'el_log_lines_dropped_total')).toBe(dropped);

      // Stuck again (held open, not read), full again: SIGTERM still ends it, the queue given up after EXIT_FLUSH_MS.
      held = openSync(fifo, constants.O_RDWR);
      reader.destroy();
      await burst(REQUESTS + 1, 2 * REQUESTS);
      expect(await fetchMetric(adminUrl, 'el_log_lines_dropped_total')).toBeGreaterThan(dropped);
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      const t0 = Date.now();
      child.kill('SIGTERM');
      const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('still running 15 s after SIGTERM'), 15_000))]);
      expect(code).toBe(0);
      expect(Date.now() - t0).toBeLessThan(15_000);
    } finally {
      agent.destroy();
      reader.destroy();
      if (held !== undefined) closeSync(held);
    }
  }, 120_000);
});
