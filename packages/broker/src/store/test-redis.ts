/**
 * Tests only: a real redis-server on a free port of 127.0.0.1, in a temp directory,
 * without persistence; stopped (and restartable on the same port) by the test. Also a
 * Sentinel setup (master, replica, sentinel) and a 3-master Cluster, same rules, and a
 * gate that holds their writes (to play a race between two clients in a chosen order).
 * When redis-server is missing, `redisOrSkip()` says so; in CI (CI=true) it throws.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// Tests only (excluded from the package build): ports no outbound connection can take first.
import { freePort } from '../../../transport/src/test-free-port.js';

export const REDIS_SERVER = process.env.ELINK_REDIS_SERVER ?? 'redis-server';

export function redisOrSkip(): boolean {
  const ok = spawnSync(REDIS_SERVER, ['--version']).status === 0;
  if (!ok && process.env.CI === 'true') throw new Error('CI=true but redis-server is missing (scripts/install-test-deps.sh installs it)');
  return ok;
}


export interface TestRedis {
  port: number;
  url: string;
  /** (Re)starts the server on the same port; resolves when it accepts commands. */
  start(): Promise<void>;
  /** Stops it (SIGKILL: an outage, not a shutdown). */
  stop(): Promise<void>;
  /** Freezes it (SIGSTOP: a hung server whose connections stay open) or thaws it (SIGCONT). */
  pause(): void;
  resume(): void;
  /** Stops it and removes its directory. */
  destroy(): Promise<void>;
}

export async function startTestRedis(extraArgs: string[] = []): Promise<TestRedis> {
  const port = await freePort();
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
    pause() {
      child?.kill('SIGSTOP');
    },
    resume() {
      child?.kill('SIGCONT');
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

/** Spawns one redis-server process and resolves when it accepts connections. */
function spawnRedis(args: string[], ready: RegExp): Promise<ChildProcess> {
  const child = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`redis-server ${args.join(' ')} did not start within 10 s:\n${out}`));
    }, 10_000);
    const onData = (d: Buffer) => {
      out += d;
      if (ready.test(out)) {
        clearTimeout(timer);
        resolve(child);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${code}:\n${out}`));
    });
  });
}

async function kill(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return;
  const gone = new Promise((res) => c.once('exit', res));
  c.kill('SIGKILL');
  await gone;
}

/** Runs redis-cli with a time limit; returns stdout (throws on a non-zero exit). */
export function redisCli(args: string[], timeoutMs = 10_000): string {
  const r = spawnSync(process.env.ELINK_REDIS_CLI ?? 'redis-cli', args, { timeout: timeoutMs, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`redis-cli ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr}${r.stdout}`);
  return r.stdout;
}

const NO_PERSISTENCE = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];

async function until(what: string, timeoutMs: number, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface TestSentinel {
  name: string;
  sentinels: Array<{ host: string; port: number }>;
  /** Port of the server that is master now, as the sentinel sees it. */
  masterPort(): number;
  /** `SENTINEL FAILOVER`; resolves when the sentinel names the other server as master. */
  failover(): Promise<number>;
  destroy(): Promise<void>;
}

/**
 * A master, one replica and one sentinel (quorum 1) on free loopback ports, each in
 * its own temp directory. Failover timings are short so a test takes seconds.
 */
export async function startTestSentinel(name = 'elmaster'): Promise<TestSentinel> {
  const dir = mkdtempSync(join(tmpdir(), 'elink-sentinel-'));
  const children: ChildProcess[] = [];
  try {
    const [pm, pr, ps] = [await freePort(), await freePort(), await freePort()];
    for (const [port, extra] of [[pm, []], [pr, ['--replicaof', '127.0.0.1', String(pm)]]] as const) {
      const d = join(dir, String(port));
      mkdirSync(d);
      children.push(await spawnRedis(['--port', String(port), ...NO_PERSISTENCE, '--dir', d, ...extra], /Ready to accept connections/));
    }
    await until('the replica to sync', 10_000, () => /master_link_status:up/.test(redisCli(['-p', String(pr), 'info', 'replication'])));
    const conf = join(dir, 'sentinel.conf');
    writeFileSync(
      conf,
      [
        `port ${ps}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `sentinel monitor ${name} 127.0.0.1 ${pm} 1`,
        `sentinel down-after-milliseconds ${name} 1000`,
        `sentinel failover-timeout ${name} 5000`,
        '',
      ].join('\n'),
    );
    children.push(await spawnRedis([conf, '--sentinel'], /Sentinel ID is|monitor master/));
    const masterPort = () => Number(redisCli(['-p', String(ps), 'sentinel', 'get-master-addr-by-name', name]).trim().split('\n')[1]);
    // The sentinel must know the replica before a failover can pick it.
    await until('the sentinel to see the replica', 10_000, () => redisCli(['-p', String(ps), 'sentinel', 'replicas', name]).includes(String(pr)));
    return {
      name,
      sentinels: [{ host: '127.0.0.1', port: ps }],
      masterPort,
      async failover() {
        const before = masterPort();
        // Refused (NOGOODSLAVE) until the sentinel has seen the replica healthy: retry.
        await until('the sentinel to accept the failover', 15_000, () => redisCli(['-p', String(ps), 'sentinel', 'failover', name]).trim() === 'OK');
        await until('the failover', 15_000, () => masterPort() !== before);
        const now = masterPort();
        await until('the new master to take writes', 10_000, () => /role:master/.test(redisCli(['-p', String(now), 'info', 'replication'])));
        return now;
      },
      destroy: () => removeAll(children, dir),
    };
  } catch (err) {
    await removeAll(children, dir);
    throw err;
  }
}

/** Kills the servers of a Sentinel set or cluster and removes their directory. */
async function removeAll(children: ChildProcess[], dir: string): Promise<void> {
  for (const c of children) await kill(c);
  rmSync(dir, { recursive: true, force: true });
}

export interface TestCluster {
  nodes: Array<{ host: string; port: number }>;
  destroy(): Promise<void>;
}

/** Three cluster-enabled masters (no replicas) joined by `redis-cli --cluster create`. */
export async function startTestCluster(): Promise<TestCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'elink-cluster-'));
  const children: ChildProcess[] = [];
  try {
    const nodes: Array<{ host: string; port: number }> = [];
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      // The bus port is chosen too: port + 10000 may be taken or out of range.
      const bus = await freePort();
      const d = join(dir, String(port));
      mkdirSync(d);
      children.push(
        await spawnRedis(
          ['--port', String(port), '--cluster-port', String(bus), ...NO_PERSISTENCE, '--dir', d, '--cluster-enabled', 'yes', '--cluster-config-file', join(d, 'nodes.conf'), '--cluster-node-timeout', '2000'],
          /Ready to accept connections/,
        ),
      );
      nodes.push({ host: '127.0.0.1', port });
    }
    redisCli(['--cluster', 'create', ...nodes.map((n) => `${n.host}:${n.port}`), '--cluster-replicas', '0', '--cluster-yes'], 30_000);
    for (const n of nodes) await until(`cluster_state:ok on ${n.port}`, 15_000, () => /cluster_state:ok/.test(redisCli(['-p', String(n.port), 'cluster', 'info'])));
    return {
      nodes,
      destroy: () => removeAll(children, dir),
    };
  } catch (err) {
    await removeAll(children, dir);
    throw err;
  }
}

/** Holds the writes of redis-servers, to play a race between two clients in a chosen order. */
export interface WriteGate {
  /** From now every write waits (CLIENT PAUSE … WRITE: reads and pings go on; any script waits). */
  hold(): Promise<void>;
  /** Resolves once `n` clients wait at the gate in all (INFO clients: blocked_clients). */
  waiting(n: number): Promise<void>;
  /** Lets the waiting writes go, in the order they came (CLIENT UNPAUSE), and disconnects. */
  release(): Promise<void>;
}

/**
 * A gate over these servers (the master, or every master of a cluster). Held at most 5 s
 * (then Redis lets go by itself); a store's command times out after 1 s, so `waiting`
 * polls every few ms and gives up after 800 ms.
 */
export function writeGate(servers: ReadonlyArray<{ host: string; port: number }>): WriteGate {
  const clients = servers.map(({ host, port }) => new Redis({ host, port, lazyConnect: true, maxRetriesPerRequest: 1 }));
  const blocked = async () => {
    let n = 0;
    for (const c of clients) n += Number(/blocked_clients:(\d+)/.exec(await c.info('clients'))?.[1] ?? 0);
    return n;
  };
  return {
    async hold() {
      for (const c of clients) await c.call('CLIENT', 'PAUSE', '5000', 'WRITE');
    },
    async waiting(n) {
      const deadline = Date.now() + 800;
      while ((await blocked()) < n) {
        if (Date.now() > deadline) throw new Error(`${n} writes were not held at the gate within 800 ms`);
        await new Promise((r) => setTimeout(r, 2));
      }
    },
    async release() {
      try {
        for (const c of clients) await c.call('CLIENT', 'UNPAUSE');
      } finally {
        for (const c of clients) c.disconnect();
      }
    },
  };
}
