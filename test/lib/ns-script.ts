/**
 * Runs a script (`node -e`, or any command) in a network namespace and resolves with the
 * JSON object on its last line of output: the peers of tcp-stream.ts and udp-burst.ts. It
 * is killed after `timeoutMs`.
 */
import { spawn } from 'node:child_process';

/** A Node.js script; `onListening` runs once, when it prints "listening". */
export function nsScript<T>(ns: string, script: string, args: string[], onListening: (() => void) | undefined, timeoutMs: number): Promise<T> {
  return nsCommand<T>(ns, [process.execPath, '-e', script, ...args], onListening, timeoutMs);
}

/** As nsScript, for any command line (`argv`). */
export function nsCommand<T>(ns: string, argv: string[], onListening: (() => void) | undefined, timeoutMs: number): Promise<T> {
  // The command line without the script text, for the error.
  const what = argv.filter((a) => !a.includes('\n')).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (onListening && out.includes('listening')) {
        const go = onListening;
        onListening = undefined;
        go();
      }
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => {
      clearTimeout(timer);
      const line = out.trim().split('\n').pop() ?? '';
      if (code === 0 && line.startsWith('{')) resolve(JSON.parse(line) as T);
      else reject(new Error(`${what} in ${ns} exited ${code} (killed after ${timeoutMs} ms?): ${err || out}`));
    });
  });
}
