/**
 * Emotion Link under test, started exactly as a user would: the built `elink` CLI,
 * `elink init`, users added with `elink user add`, `elink up` in the server's
 * namespace and `elink connect` (kernel TAP/TUN client) in each client's.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import { daemon, type Daemon } from './proc.js';
import type { RunningSystem, SystemDef } from './system.js';
import type { Topology } from './topology.js';

export const CLI = fileURLToPath(new URL('../../../packages/cli/dist/main.js', import.meta.url));

/** The password of the users `bench1` and `bench2`. */
export const PASSWORD = 'bench horse battery staple';

let baseCli: string | undefined;

/** The packages/cli/dist/main.js of the build the `base` variant runs. */
export function setBaseCli(path: string): void {
  if (!existsSync(path)) throw new Error(`--base-cli: ${path} does not exist`);
  baseCli = path;
}

function cli(bin: string, args: string[]): void {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`elink ${args.join(' ')} failed: ${r.stderr}${r.stdout}`);
}

/** The line of a JSON log whose msg is `msg`, parsed. */
function logLine(out: string, msg: string): Record<string, unknown> | undefined {
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

/** Start-up tuning (issue 14): all of it (the default), none, only the warm-up, only the GC
 * part; `base`: all of it, with the `elink` of another build (--base-cli), so an old build
 * and this one are measured paired. */
export type TuningVariant = 'tuned' | 'untuned' | 'warm-up-only' | 'gc-only' | 'base';
export const TUNING_FLAGS: Record<TuningVariant, string[]> = {
  tuned: [],
  base: [],
  untuned: ['--no-warm-up', '--no-gc-tuning'],
  'warm-up-only': ['--no-gc-tuning'],
  'gc-only': ['--no-warm-up'],
};

/** `profileDir`: run server and clients under `node --cpu-prof`, one subdirectory per role.
 * `transport`: the clients' `--transport` (raw TLS, or EL over WebSocket on the same port).
 * `variant`: which start-up tuning server and clients run with (issue 14; default all of it). */
export function elinkSystem(mode: 'l2' | 'l3', profileDir?: string, noOffload = false, transport: 'tls' | 'ws' = 'tls', variant: TuningVariant = 'tuned'): SystemDef {
  const tuning = TUNING_FLAGS[variant];
  if (variant === 'base' && baseCli === undefined) throw new Error('the base variant needs --base-cli');
  const bin = variant === 'base' ? baseCli! : CLI;
  // Node flags, not NODE_OPTIONS: --cpu-prof is not allowed there.
  const prof = (role: string): string[] => (profileDir ? ['--cpu-prof', `--cpu-prof-dir=${join(profileDir, role)}`] : []);
  return {
    id: `elink-${mode}${transport === 'ws' ? '-ws' : ''}`,
    label: `Emotion Link ${mode.toUpperCase()}${transport === 'ws' ? ' over WebSocket' : ''}${variant === 'tuned' ? '' : ` (${variant})`}`,
    async start(topo: Topology, work: string): Promise<RunningSystem> {
      if (!existsSync(bin)) throw new Error(`${bin} is missing: run \`npx tsc -b\` first`);
      const procs: Daemon[] = [];
      const stop = async () => {
        // Clients first, so they say bye and remove their devices.
        for (const p of procs.slice(1).reverse()) await p.stop();
        await procs[0]?.stop();
      };
      try {
        cli(bin, ['init', '--state', work]);
        const configFile = join(work, 'elink.yaml');
        const doc = parseDocument(readFileSync(configFile, 'utf8'));
        doc.setIn(['admin', 'host'], '127.0.0.1');
        doc.setIn(['log', 'level'], 'info');
        // The benchmarks and the soak open hundreds of sessions from a few loopback sources
        // at once: they measure the data plane, not admission, so the caps are out of the way.
        doc.setIn(['limits'], doc.createNode({ pending: 100_000, pendingPerSource: 100_000, acceptRate: 100_000, acceptRatePerSource: 100_000 }));
        const segment = mode === 'l2' ? 'lab' : 'lab3';
        if (mode === 'l3') {
          (doc.get('segments') as { add(v: unknown): void }).add(
            doc.createNode({ name: 'lab3', mode: 'l3', ipv4: { pool: '198.19.64.0/24' }, ipv6: { pool: 'fd00:e1:0:64::/64' } }),
          );
        }
        writeFileSync(configFile, doc.toString());
        writeFileSync(join(work, 'pw'), `${PASSWORD}\n`);
        for (const user of ['bench1', 'bench2']) cli(bin, ['user', 'add', user, '--segment', segment, '--password-file', join(work, 'pw'), '--state', work]);

        const server = daemon(process.execPath, [...prof('server'), bin, 'up', '--state', work, ...tuning], { ns: topo.server.ns });
        procs.push(server);
        await server.waitFor(/"emotion link started"/, 30_000, 'elink up');
        const broker = `https://${topo.server.address}:8443`;
        const addresses = await Promise.all(
          topo.clients.map(async (c, i) => {
            const client = daemon(
              process.execPath,
              [...prof(`client${i + 1}`), bin, 'connect', '--broker', broker, '--ca', join(work, 'ca.pem'), '--user', `bench${i + 1}`, '--password-file', join(work, 'pw'), '--ifname', 'el0', '--device', c.name, '--state', join(work, 'client-state'), '--transport', transport, ...(noOffload ? ['--no-offload'] : []), ...tuning],
              { ns: c.ns },
            );
            procs.push(client);
            await client.waitFor(/"link up"/, 30_000, `elink connect in ${c.ns}`);
            const up = logLine(client.output(), 'link up');
            const v4 = String(up?.ipv4 ?? '').split('/')[0];
            if (!v4) throw new Error(`no IPv4 address in ${JSON.stringify(up)}`);
            return v4;
          }),
        );
        const version = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
        return { addresses: [addresses[0], addresses[1]], notes: [`emotion-link ${version}, ${process.version}, ${transport === 'ws' ? 'WebSocket over TLS over TCP (one binary message per batch)' : 'TLS over TCP'}, kernel ${mode === 'l2' ? 'TAP' : 'TUN'} clients, ${noOffload ? 'no offload' : 'TSO offload (FRAME_GSO)'}`], stop };
      } catch (err) {
        await stop();
        throw err;
      }
    },
  };
}
