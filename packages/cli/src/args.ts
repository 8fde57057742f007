import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ElError } from '@elink/protocol';
import type { OverrideKey, Overrides } from './config.js';

export type Options = NonNullable<ParseArgsConfig['options']>;

export type ServerKind = 'up' | 'broker' | 'switch';

interface ServerFlag {
  option: Options[string];
  help: string;
  /** The commands that take it (a broker has no switch port, a switch no broker port). */
  kinds: readonly ServerKind[];
}

const ALL: readonly ServerKind[] = ['up', 'broker', 'switch'];

/** Flags of the server commands (they override the config file and ELINK_* variables). */
const SERVER_FLAGS: Record<string, ServerFlag> = {
  config: { option: { type: 'string', short: 'c' }, kinds: ALL, help: '  -c, --config FILE      config file (default: STATE/elink.yaml; env ELINK_CONFIG)' },
  state: { option: { type: 'string' }, kinds: ALL, help: '      --state DIR        state directory (default: ./.elink-state; env ELINK_STATE_DIR)' },
  'log-level': { option: { type: 'string' }, kinds: ALL, help: '      --log-level LEVEL  fatal|error|warn|info|debug|trace (env ELINK_LOG_LEVEL)' },
  'listen-host': { option: { type: 'string' }, kinds: ALL, help: '      --listen-host H    address every listener binds (env ELINK_LISTEN_HOST)' },
  'broker-port': { option: { type: 'string' }, kinds: ['up', 'broker'], help: '      --broker-port N    broker HTTPS port, 0 = any (env ELINK_BROKER_PORT; default 8443)' },
  'switch-port': { option: { type: 'string' }, kinds: ['up', 'switch'], help: '      --switch-port N    switch TLS port (env ELINK_SWITCH_PORT; default 4443)' },
  'admin-port': { option: { type: 'string' }, kinds: ALL, help: '      --admin-port N     metrics/health HTTP port (env ELINK_ADMIN_PORT; default 9100)' },
  advertise: {
    option: { type: 'string' },
    kinds: ['up', 'switch'],
    help: '      --advertise HOST   address clients are sent to (env ELINK_ADVERTISE; default: the\n                         address the client reached the broker at)',
  },
  'node-id': { option: { type: 'string' }, kinds: ['up', 'switch'], help: '      --node-id ID       switch node id (env ELINK_NODE_ID; default: host name)' },
  // Issue 14: the first packets after a start find warm code and no memory-reducer GC.
  'no-warm-up': { option: { type: 'boolean' }, kinds: ['up', 'switch'], help: '      --no-warm-up       do not push throwaway frames through the frame path before\n                         serving (a loopback switch of its own, ~250 ms; docs/benchmarks.md)' },
  'no-gc-tuning': {
    option: { type: 'boolean' },
    kinds: ['up', 'switch'],
    help: '      --no-gc-tuning     keep V8\'s memory reducer and skip the full collection before\n                         the switch listens (env ELINK_GC_TUNING=0)',
  },
  help: { option: { type: 'boolean', short: 'h' }, kinds: ALL, help: '  -h, --help             this help' },
};

/** The flags `elink <kind>` accepts: only its own, so parseArgs refuses the others. */
export function serverFlags(kind: ServerKind): Options {
  return Object.fromEntries(Object.entries(SERVER_FLAGS).filter(([, f]) => f.kinds.includes(kind)).map(([name, f]) => [name, f.option]));
}

/** The option lines of `elink <kind> --help`, exactly the flags serverFlags(kind) accepts. */
export function serverFlagsHelp(kind: ServerKind): string {
  return Object.values(SERVER_FLAGS)
    .filter((f) => f.kinds.includes(kind))
    .map((f) => f.help)
    .join('\n');
}

export function parse<O extends Options>(argv: string[], options: O, allowPositionals = false) {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (e) {
    throw new ElError('EL_ERR_INVALID', `${(e as Error).message} (see --help)`);
  }
}

function port(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new ElError('EL_ERR_INVALID', `--${flag} must be a port number 0-65535, got "${v}"`);
  return n;
}

export function overridesFromFlags(v: Record<string, unknown>): Overrides {
  const s = (k: string) => (typeof v[k] === 'string' ? (v[k] as string) : undefined);
  const sources: Overrides['sources'] = {};
  const from: Record<string, OverrideKey> = { 'log-level': 'logLevel', 'listen-host': 'listenHost', 'broker-port': 'brokerPort', 'switch-port': 'switchPort', 'admin-port': 'adminPort', advertise: 'advertise', 'node-id': 'nodeId' };
  for (const [flag, key] of Object.entries(from)) if (s(flag) !== undefined) sources[key] = `flag --${flag}`;
  return {
    sources,
    logLevel: s('log-level'),
    listenHost: s('listen-host'),
    brokerPort: port(s('broker-port'), 'broker-port'),
    switchPort: port(s('switch-port'), 'switch-port'),
    adminPort: port(s('admin-port'), 'admin-port'),
    advertise: s('advertise'),
    nodeId: s('node-id'),
  };
}
