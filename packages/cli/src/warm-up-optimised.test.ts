/**
 * What the start-up tuning is for: when a process starts serving, the frame path runs
 * optimised code. Checked in a child process with V8's natives syntax
 * (%GetOptimizationStatus), on the built packages (dist), after startupTuning().ready() —
 * the warm-up's first part, the full collection, its last part — and after one more full
 * collection, as comes some time into serving. Without the last round trips after the
 * collection, it threw the compiled code of these functions away (measured with
 * --log-deopt: "embedded weak objects cleared"), so the first real packets ran in the
 * interpreter; without the warm-up's objects kept alive, the next collection did.
 */
import { execFile } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const dist = (pkg: string, file: string): string => new URL(`../../${pkg}/dist/${file}`, import.meta.url).href;

// V8's OptimizationStatus bit "optimised" (src/runtime/runtime-test.cc).
const OPTIMISED = 1 << 4;

const script = `
import { pino } from 'pino';
import { startupTuning } from '${dist('cli', 'startup-tuning.js')}';
import { RecordWriter, OutputQueue, DeviceWriter } from '${dist('transport', 'index.js')}';
import { RecordReader } from '${dist('protocol', 'index.js')}';
import { Session } from '${dist('switch', 'index.js')}';
const fns = {
  'RecordWriter.write': RecordWriter.prototype.write,
  'OutputQueue.push': OutputQueue.prototype.push,
  'DeviceWriter.write': DeviceWriter.prototype.write,
  'RecordReader.push': RecordReader.prototype.push,
  'Session.onRecord': Session.prototype.onRecord,
};
// A budget that lets every round trip run, also on a busy machine.
const tuning = startupTuning({ warmUp: true, gc: true, modes: ['l2'], offload: true, budgetMs: 10000, maxWallMs: 60000, logger: pino({ level: 'silent' }) });
await tuning.ready();
const status = () => Object.fromEntries(Object.entries(fns).map(([k, f]) => [k, %GetOptimizationStatus(f)]));
const ready = status();
// The next full collection, some time into serving: it must not throw the code away either.
globalThis.gc();
console.log(JSON.stringify({ report: tuning.report, ready, later: status() }));
`;

type Status = Record<string, number>;

function run(): Promise<{ report: { stoppedBy: string; roundTrips: number }; ready: Status; later: Status }> {
  return new Promise((resolve, reject) => {
    // cwd: the cli package, so that the script's bare imports (pino) resolve.
    execFile(process.execPath, ['--allow-natives-syntax', '--expose-gc', '--input-type=module', '-e', script], { cwd: new URL('..', import.meta.url), timeout: 90_000 }, (err, out, errOut) => {
      if (err) return reject(new Error(`${err.message}\n${errOut}`));
      resolve(JSON.parse(out.trim().split('\n').at(-1)!));
    });
  });
}

describe('start-up tuning', () => {
  it('leaves the frame path optimised when the process starts serving', async () => {
    const { report, ready, later } = await run();
    expect(report).toMatchObject({ stoppedBy: 'round-trips', roundTrips: 1500 });
    const notOptimised = (status: Status): string[] => Object.entries(status).filter(([, s]) => (s & OPTIMISED) === 0).map(([k]) => k);
    expect(notOptimised(ready)).toEqual([]);
    // RecordReader.push calls the warm-up links' own record handlers, which die with them:
    // its code is compiled for the real links' handlers at their first records in any case.
    expect(notOptimised(later).filter((k) => k !== 'RecordReader.push')).toEqual([]);
  }, 100_000);
});
