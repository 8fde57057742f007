/**
 * Emotion Link under test, started exactly as a user would: the built `elink` CLI,
 * `elink init`, users added with `elink user add`, `elink up` in the server's
 * namespace and `elink connect` (kernel TAP/TUN client) in each client's.
 */
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { CLI, ElinkProcesses, elinkVersion, initState } from './elink-cli.js';
import type { RunningSystem, SystemDef } from './system.js';
import type { Topology } from './topology.js';

export { CLI, PASSWORD } from './elink-cli.js';

let baseCli: string | undefined;

/** The packages/cli/dist/main.js of the build the `base` variant runs. */
export function setBaseCli(path: string): void {
  if (!existsSync(path)) throw new Error(`--base-cli: ${path} does not exist`);
  baseCli = path;
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
      const procs = new ElinkProcesses(bin);
      const stop = () => procs.stop();
      try {
        const segment = mode === 'l2' ? 'lab' : 'lab3';
        initState(work, {
          bin,
          users: ['bench1', 'bench2'],
          segment,
          edit: (doc) => {
            if (mode === 'l3') {
              (doc.get('segments') as { add(v: unknown): void }).add(
                doc.createNode({ name: 'lab3', mode: 'l3', ipv4: { pool: '198.19.64.0/24' }, ipv6: { pool: 'fd00:e1:0:64::/64' } }),
              );
            }
          },
        });

        await procs.server(topo.server.ns, ['up', '--state', work, ...tuning], 'elink up', { nodeArgs: prof('server') });
        const broker = `https://${topo.server.address}:8443`;
        const addresses = await Promise.all(
          topo.clients.map(async (c, i) => {
            const { up } = await procs.connect(c.ns, {
              broker,
              work,
              user: `bench${i + 1}`,
              device: c.name,
              state: join(work, 'client-state'),
              nodeArgs: prof(`client${i + 1}`),
              args: ['--transport', transport, ...(noOffload ? ['--no-offload'] : []), ...tuning],
            });
            const v4 = String(up.ipv4 ?? '').split('/')[0];
            if (!v4) throw new Error(`no IPv4 address in ${JSON.stringify(up)}`);
            return v4;
          }),
        );
        return { addresses: [addresses[0], addresses[1]], notes: [`emotion-link ${elinkVersion()}, ${process.version}, ${transport === 'ws' ? 'WebSocket over TLS over TCP (one binary message per batch)' : 'TLS over TCP'}, kernel ${mode === 'l2' ? 'TAP' : 'TUN'} clients, ${noOffload ? 'no offload' : 'TSO offload (FRAME_GSO)'}`], stop };
      } catch (err) {
        await stop();
        throw err;
      }
    },
  };
}
