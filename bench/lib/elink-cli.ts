/**
 * Emotion Link started as a user would, for the benchmarks: the built `elink` CLI,
 * `elink init` with the bench's config, users added with `elink user add`, the server
 * processes (`elink up`, `broker`, `switch`) and `elink connect` (kernel TAP/TUN
 * client) in their namespaces. Shared by elink.ts, elink-cluster.ts and dtcp-bench.ts.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument, type Document } from 'yaml';
import { daemon, type Daemon } from './proc.js';

export const CLI = fileURLToPath(new URL('../../../packages/cli/dist/main.js', import.meta.url));

/** The password of the bench users (`bench1`, `bench2`, …), in `<work>/pw`. */
export const PASSWORD = 'bench horse battery staple';

/** Runs `elink args` to completion (in namespace `ns` if given; `bin`: another build's CLI); throws with its output unless it succeeds. */
export function cli(args: string[], ns?: string, bin = CLI): void {
  const argv = [bin, ...args];
  const r = ns
    ? spawnSync('ip', ['netns', 'exec', ns, process.execPath, ...argv], { encoding: 'utf8', timeout: 30_000 })
    : spawnSync(process.execPath, argv, { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`elink ${args.join(' ')} failed: ${r.stderr}${r.stdout}`);
}

/** The line of a JSON log whose msg is `msg`, parsed. */
export function logLine(out: string, msg: string): Record<string, unknown> | undefined {
  for (const line of out.split('\n')) {
    if (!line.includes(`"${msg}"`)) continue;
    try {
      const l = JSON.parse(line) as Record<string, unknown>;
      if (l.msg === msg) return l;
    } catch {
      // not JSON
    }
  }
  return undefined;
}

/**
 * `elink init --state work` (in namespace `ns` if given: the certificate then names an
 * address of it), the settings every bench run shares, then `edit`'s; writes the password
 * file `<work>/pw` and adds `users` to `segment`. Returns the config file's path.
 */
export function initState(work: string, opts: { users: string[]; segment: string; ns?: string; edit?: (doc: Document) => void; bin?: string }): string {
  const bin = opts.bin ?? CLI;
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run \`npx tsc -b\` first`);
  cli(['init', '--state', work], opts.ns, bin);
  const configFile = join(work, 'elink.yaml');
  const doc = parseDocument(readFileSync(configFile, 'utf8'));
  doc.setIn(['admin', 'host'], '127.0.0.1');
  doc.setIn(['log', 'level'], 'info');
  // The benchmarks and the soak open hundreds of sessions from a few loopback sources
  // at once: they measure the data plane, not admission, so the caps are out of the way.
  doc.setIn(['limits'], doc.createNode({ pending: 100_000, pendingPerSource: 100_000, acceptRate: 100_000, acceptRatePerSource: 100_000 }));
  opts.edit?.(doc);
  writeFileSync(configFile, doc.toString());
  writeFileSync(join(work, 'pw'), `${PASSWORD}\n`);
  for (const user of opts.users) cli(['user', 'add', user, '--segment', opts.segment, '--password-file', join(work, 'pw'), '--state', work], undefined, bin);
  return configFile;
}

/** The version in the repository's package.json. */
export function elinkVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

export interface ConnectOptions {
  /** https://host:port of the broker. */
  broker: string;
  /** The state directory of `initState` (its ca.pem and pw). */
  work: string;
  user: string;
  /** The underlay device of the client's namespace. */
  device: string;
  /** The client's own state directory, if any. */
  state?: string;
  /** Node flags before the CLI (e.g. --cpu-prof). */
  nodeArgs?: string[];
  /** More `elink connect` options. */
  args?: string[];
}

/**
 * The EL processes of one bench run. stop() stops the clients first, so they say bye
 * and remove their devices, then the servers, each group last started first.
 */
export class ElinkProcesses {
  #servers: Daemon[] = [];
  #clients: Daemon[] = [];

  /** `bin`: the packages/cli/dist/main.js to run (another build's, to pair two builds). */
  constructor(private readonly bin = CLI) {}

  /** `elink args` (up, broker, switch) in `ns`; resolves once it logs that it started. */
  async server(ns: string, args: string[], what: string, opts: { nodeArgs?: string[]; timeoutMs?: number } = {}): Promise<Daemon> {
    const proc = daemon(process.execPath, [...(opts.nodeArgs ?? []), this.bin, ...args], { ns });
    this.#servers.push(proc);
    await proc.waitFor(/"emotion link started"/, opts.timeoutMs ?? 30_000, what);
    return proc;
  }

  /** `elink connect` in `ns` as `opts.user`; resolves with its "link up" log line once the link is up. */
  async connect(ns: string, opts: ConnectOptions): Promise<{ proc: Daemon; up: Record<string, unknown> }> {
    const state = opts.state === undefined ? [] : ['--state', opts.state];
    const proc = this.client(
      daemon(
        process.execPath,
        [...(opts.nodeArgs ?? []), this.bin, 'connect', '--broker', opts.broker, '--ca', join(opts.work, 'ca.pem'), '--user', opts.user, '--password-file', join(opts.work, 'pw'), '--ifname', 'el0', '--device', opts.device, ...state, ...(opts.args ?? [])],
        { ns },
      ),
    );
    await proc.waitFor(/"link up"/, 30_000, `elink connect in ${ns}`);
    const up = logLine(proc.output(), 'link up');
    if (up === undefined) throw new Error(`no "link up" log line from elink connect in ${ns}`);
    return { proc, up };
  }

  /** A client started some other way: stopped with the clients. */
  client(proc: Daemon): Daemon {
    this.#clients.push(proc);
    return proc;
  }

  async stop(): Promise<void> {
    for (const p of this.#clients.splice(0).reverse()) await p.stop();
    for (const p of this.#servers.splice(0).reverse()) await p.stop();
  }
}
