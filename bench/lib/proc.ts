/**
 * Child processes for the harness: run to completion with a timeout, or keep running
 * (optionally inside a network namespace) with their output collected. Every process
 * started here is stopped by stopAll(), so a failed run leaves nothing behind.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `cmd args` (in namespace `ns` if given) to completion; bounded by `timeoutMs`. */
export function run(cmd: string, args: string[], opts: { ns?: string; timeoutMs?: number } = {}): RunResult {
  const [bin, argv] = opts.ns ? ['ip', ['netns', 'exec', opts.ns, cmd, ...args]] : [cmd, args];
  // stdin is /dev/null: some tools (vpncmd) spin when a prompt meets a closed pipe.
  const r = spawnSync(bin, argv, { encoding: 'utf8', timeout: opts.timeoutMs ?? 30_000, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
  return { status: r.error ? null : r.status, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? String(r.error.message) : '') };
}

/** Like run() but throws, with the output, unless the exit status is 0. */
export function must(cmd: string, args: string[], opts: { ns?: string; timeoutMs?: number } = {}): string {
  const r = run(cmd, args, opts);
  if (r.status !== 0) throw new Error(`${opts.ns ? `[${opts.ns}] ` : ''}${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr.trim()} ${r.stdout.trim()}`.slice(0, 2000));
  return r.stdout;
}

export interface Daemon {
  child: ChildProcess;
  /** Everything it printed (stdout and stderr), bounded to the last 256 KiB. */
  output(): string;
  /** Resolves when `pattern` appears in the output; rejects on exit or after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs: number, what: string): Promise<RegExpMatchArray>;
  stop(timeoutMs?: number): Promise<void>;
}

const running = new Set<Daemon>();

export function daemon(cmd: string, args: string[], opts: { ns?: string; env?: NodeJS.ProcessEnv } = {}): Daemon {
  const [bin, argv] = opts.ns ? ['ip', ['netns', 'exec', opts.ns, cmd, ...args]] : [cmd, args];
  const child = spawn(bin, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } });
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (d: Buffer) => {
    // Trimmed only past twice the kept tail: slicing at every chunk flattened 256 KiB per
    // chunk, and a daemon logging fast (a switch in a reconnect storm) then blocked on a full pipe.
    out += d.toString('utf8');
    if (out.length > 512 << 10) out = out.slice(-(256 << 10));
    for (const l of listeners) l();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  const d: Daemon = {
    child,
    output: () => out,
    waitFor(pattern, timeoutMs, what) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = pattern.exec(out);
          if (m) {
            done();
            resolve(m);
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last output:\n${out.slice(-3000)}`));
        }, timeoutMs);
        const onExit = () => {
          check();
          if (listeners.has(check)) {
            done();
            reject(new Error(`${cmd} exited while waiting for ${what}; last output:\n${out.slice(-3000)}`));
          }
        };
        const done = () => {
          listeners.delete(check);
          clearTimeout(timer);
        };
        listeners.add(check);
        void exited.then(onExit);
        check();
      });
    },
    async stop(timeoutMs = 5000) {
      running.delete(d);
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(t);
    },
  };
  running.add(d);
  return d;
}

export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((d) => d.stop()));
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
