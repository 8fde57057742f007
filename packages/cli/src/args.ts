import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ElError } from '@elink/protocol';
import type { Overrides } from './config.js';

export type Options = NonNullable<ParseArgsConfig['options']>;

/** Flags every server command takes (override the config file and ELINK_* variables). */
export const serverFlags = {
  config: { type: 'string', short: 'c' },
  state: { type: 'string' },
  'log-level': { type: 'string' },
  'listen-host': { type: 'string' },
  'broker-port': { type: 'string' },
  'switch-port': { type: 'string' },
  'admin-port': { type: 'string' },
  advertise: { type: 'string' },
  'node-id': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} satisfies Options;

export const serverFlagsHelp = `  -c, --config FILE      config file (default: STATE/elink.yaml; env ELINK_CONFIG)
      --state DIR        state directory (default: ./.elink-state; env ELINK_STATE_DIR)
      --log-level LEVEL  fatal|error|warn|info|debug|trace (env ELINK_LOG_LEVEL)
      --listen-host H    address every listener binds (env ELINK_LISTEN_HOST)
      --broker-port N    broker HTTPS port, 0 = any (env ELINK_BROKER_PORT; default 8443)
      --switch-port N    switch TLS port (env ELINK_SWITCH_PORT; default 4443)
      --admin-port N     metrics/health HTTP port (env ELINK_ADMIN_PORT; default 9100)
      --advertise HOST   address clients are sent to (env ELINK_ADVERTISE; default: the
                         address the client reached the broker at)
      --node-id ID       switch node id (env ELINK_NODE_ID; default: host name)`;

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

export function overridesFromFlags(v: Record<string, string | boolean | undefined>): Overrides {
  const s = (k: string) => (typeof v[k] === 'string' ? (v[k] as string) : undefined);
  return {
    logLevel: s('log-level'),
    listenHost: s('listen-host'),
    brokerPort: port(s('broker-port'), 'broker-port'),
    switchPort: port(s('switch-port'), 'switch-port'),
    adminPort: port(s('admin-port'), 'admin-port'),
    advertise: s('advertise'),
    nodeId: s('node-id'),
  };
}
