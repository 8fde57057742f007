/**
 * Tests only: a real redis-server on a free port of 127.0.0.1, in a temp directory,
 * without persistence; stopped (and restartable on the same port) by the test.
 * When redis-server is missing, `redisOrSkip()` says so; in CI (CI=true) it throws.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const REDIS_SERVER = process.env.ELINK_REDIS_SERVER ?? 'redis-server';

export function redisOrSkip(): boolean {
  const ok = spawnSync(REDIS_SERVER, ['--version']).status === 0;
  if (!ok && process.env.CI === 'true') throw new Error('CI=true but redis-server is missing (scripts/install-test-deps.sh installs it)');
  return ok;
}

export async function freeTcpPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

export interface TestRedis {
  port: number;
  url: string;
  /** (Re)starts the server on the same port; resolves when it accepts commands. */
  start(): Promise<void>;
  /** Stops it (SIGKILL: an outage, not a shutdown). */
  stop(): Promise<void>;
  /** Stops it and removes its directory. */
  destroy(): Promise<void>;
}

export async function startTestRedis(extraArgs: string[] = []): Promise<TestRedis> {
  const port = await freeTcpPort();
  const dir = mkdtempSync(join(tmpdir(), 'elink-redis-'));
  let child: ChildProcess | undefined;
  const r: TestRedis = {
    port,
    url: `redis://127.0.0.1:${port}`,
    async start() {
      child = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...extraArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`redis-server did not start within 10 s:\n${out}`)), 10_000);
        const onData = (d: Buffer) => {
          out += d;
          if (out.includes('Ready to accept connections')) {
            clearTimeout(timer);
            resolve();
          }
        };
        child!.stdout!.on('data', onData);
        child!.stderr!.on('data', onData);
        child!.once('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`redis-server exited with ${code}:\n${out}`));
        });
      });
    },
    async stop() {
      const c = child;
      child = undefined;
      if (!c || c.exitCode !== null) return;
      const gone = new Promise((res) => c.once('exit', res));
      c.kill('SIGKILL');
      await gone;
    },
    async destroy() {
      await r.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await r.start();
  return r;
}
