/**
 * The collector's part of the small-packet tail (issue 14): V8's memory reducer runs a
 * major GC (5–14 ms here) some 15–25 s after start once allocation slows down, exactly
 * while the first real traffic flows; and the garbage of start-up (config, TLS set-up, the
 * warm-up) is better collected once, before serving, than at a random packet later.
 *
 * `--no-memory-reducer` (and EXTERNAL_FLAG, below) are V8 flags that must be set before the
 * heap is set up (setting them later with v8.setFlagsFromString has no effect, and
 * NODE_OPTIONS refuses them), so a serving command re-executes itself once with them: process.execve replaces the process
 * image (same pid, same stdio, same environment), before anything else happens.
 * `--no-gc-tuning` (or ELINK_GC_TUNING=0) leaves the process as it is.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Commands that serve traffic: what is re-executed with the flag. */
const SERVING = new Set(['up', 'switch', 'connect', 'bridge']);

export const GC_FLAG = '--no-memory-reducer';
/**
 * Count external memory (ArrayBuffer backing stores: socket reads, TLS records) against the
 * heap's global limit instead of its own 64 MB "external memory pressure" trigger. A node
 * setting up sessions allocates external memory fast and frees it only with the garbage
 * that holds it: the separate trigger started a major collection every 200–300 ms (16–25
 * in 10 s on a node taking 5,000 sessions, each marking the whole heap on V8's helper
 * threads); counted in the global limit, 4–5 (docs/benchmarks.md, "The collector in the storm").
 */
export const EXTERNAL_FLAG = '--external-memory-accounted-in-global-limit';
/** What a serving command is re-executed with; GC_FLAG first marks a re-executed process. */
export const GC_FLAGS = [GC_FLAG, EXTERNAL_FLAG];

/** Whether `argv` (the command and its arguments) asks for the GC tuning. */
export function gcTuningWanted(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): boolean {
  return SERVING.has(argv[0] ?? '') && !argv.includes('--no-gc-tuning') && !argv.includes('--help') && !argv.includes('-h') && env.ELINK_GC_TUNING !== '0';
}

/** The argv of the re-executed process, or undefined when no re-execution is due (already
 * flagged, not a serving command, tuning off). */
export function reexecArgs(argv: readonly string[], execArgv: readonly string[], script: string, env: NodeJS.ProcessEnv = process.env): string[] | undefined {
  if (execArgv.includes(GC_FLAG) || !gcTuningWanted(argv, env)) return undefined;
  return [...GC_FLAGS, ...execArgv, script, ...argv];
}

/** Re-executes this process with the flag when due; returns only when not (or when the
 * platform has no execve: then the process runs on without the flag). */
export function reexecWithGcFlags(argv: readonly string[]): void {
  const args = reexecArgs(argv, process.execArgv, process.argv[1] ?? '');
  if (!args || typeof process.execve !== 'function') return;
  process.execve(process.execPath, [process.execPath, ...args], process.env);
}

let gc: (() => void) | undefined;

/** A full collection now: before a client configures its address and before a node accepts
 * sessions, so start-up's garbage is not collected while packets flow. */
export function collectGarbage(): void {
  if (!gc) {
    // The documented way to reach the collector without --expose-gc on the command line:
    // the flag makes new contexts get `gc`.
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  gc();
}
