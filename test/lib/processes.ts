/**
 * Running the real `elink` command (the built CLI) in the root namespace or inside a
 * test host, and waiting on its JSON logs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CLI = fileURLToPath(new URL('../../packages/cli/dist/main.js', import.meta.url));

export function assertBuilt(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npx tsc -b\` (make test does) before the end-to-end tests`);
}

export interface Proc {
  child: ChildProcess;
  /** Parsed JSON log lines so far. */
  logs: Record<string, unknown>[];
  /** Non-JSON output (stderr and anything else). */
  text: string[];
  waitFor(pred: (log: Record<string, unknown>) => boolean, timeoutMs?: number, what?: string): Promise<Record<string, unknown>>;
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>;
}

const running = new Set<Proc>();

/** Clients keep their device key here, not in the home of whoever runs the tests; gone at exit. */
let clientState: string | undefined;
function testClientState(): string {
  if (!clientState) {
    const dir = mkdtempSync(join(tmpdir(), 'elink-client-state-'));
    clientState = dir;
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return clientState;
}

/** Starts `node CLI ...args`, inside namespace `ns` when given, under `wrap` when given. */
export function elink(args: string[], opts: { ns?: string; env?: NodeJS.ProcessEnv; wrap?: string[] } = {}): Proc {
  // `wrap`: a command that runs node, e.g. ['prlimit', '--nofile=256:256'].
  const node = [...(opts.wrap ?? []), process.execPath, CLI, ...args];
  const argv = opts.ns ? ['ip', 'netns', 'exec', opts.ns, ...node] : node;
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: { ELINK_CLIENT_STATE: testClientState(), ...process.env, ...opts.env } });
  const logs: Record<string, unknown>[] = [];
  const text: string[] = [];
  // The last lines of both kinds in the order they came, for a failure's message: an
  // error printed on stderr must not be cut off behind the JSON logs before it.
  const recent: string[] = [];
  const waiters = new Set<() => void>();
  const onLine = (line: string) => {
    if (!line.trim()) return;
    recent.push(line);
    if (recent.length > 30) recent.shift();
    try {
      logs.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      text.push(line);
    }
    for (const w of waiters) w();
  };
  const lines = (stream: NodeJS.ReadableStream) => {
    let rest = '';
    stream.setEncoding('utf8');
    stream.on('data', (d: string) => {
      rest += d;
      const parts = rest.split('\n');
      rest = parts.pop()!;
      parts.forEach(onLine);
    });
  };
  lines(child.stdout!);
  lines(child.stderr!);
  let exitedWith = '';
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code, signal) => {
      exitedWith = signal ? `signal ${signal}` : `status ${code}`;
      resolve(code ?? (signal ? -1 : null));
    }),
  );
  const proc: Proc = {
    child,
    logs,
    text,
    exited,
    waitFor(pred, timeoutMs = 20_000, what = 'log line') {
      return new Promise((resolve, reject) => {
        const check = () => {
          const hit = logs.find(pred);
          if (hit) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(hit);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; output:\n${recent.join('\n')}`));
        }, timeoutMs);
        waiters.add(check);
        check();
        void exited.then(() => {
          if (waiters.has(check)) {
            check();
            if (waiters.has(check)) {
              waiters.delete(check);
              clearTimeout(timer);
              reject(new Error(`process exited (${exitedWith}) while waiting for ${what}; output:\n${recent.join('\n')}`));
            }
          }
        });
      });
    },
    async stop(signal = 'SIGTERM', timeoutMs = 10_000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
        const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
        await exited;
        clearTimeout(t);
      }
      running.delete(proc);
      return exited;
    },
  };
  running.add(proc);
  return proc;
}

/** `elink args` (up, broker, switch) as elink() starts it; resolves once it logs that it started. */
export async function startElink(args: string[], what: string, opts: Parameters<typeof elink>[1] = {}): Promise<Proc> {
  const proc = elink(args, opts);
  await proc.waitFor((l) => l.msg === 'emotion link started', 30_000, what);
  return proc;
}

export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((p) => p.stop('SIGTERM', 5000)));
}

/** A TCP port free a moment ago, which no outbound connection can take before a process binds it. */
export { freePort } from '../../packages/transport/src/test-free-port.js';
