/**
 * Runs a Node.js script (`node -e`) in a network namespace and resolves with the JSON
 * object on its last line of output: the peers of tcp-stream.ts and udp-burst.ts. It is
 * killed after `timeoutMs`.
 */
import { spawn } from 'node:child_process';

/** `onListening` runs once, when the script prints "listening". */
export function nsScript<T>(ns: string, script: string, args: string[], onListening: (() => void) | undefined, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
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
      else reject(new Error(`${args[0]} in ${ns} exited ${code} (killed after ${timeoutMs} ms?): ${err || out}`));
    });
  });
}
