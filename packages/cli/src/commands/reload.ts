/**
 * `elink reload`: sends SIGHUP to the servers running on a state directory (their pid
 * files), which then read the config file again (reload.ts).
 */
import { dirname, join, resolve } from 'node:path';
import { ElError } from '@elink/protocol';
import { parse } from '../args.js';
import { runningServers, SERVER_KINDS } from '../pid-file.js';
import { CONFIG_FILE } from '../state.js';

export const reloadHelp = `elink reload — make the servers of a state directory read their config again

Sends SIGHUP to every elink up / broker / switch whose pid file (elink-up.pid,
elink-broker.pid, elink-switch.pid) is in the state directory. They apply users, TLS
certificates and keys and the log level live, log "config reloaded" with what changed
and "restart needed for: …" for settings that need a restart; a config that does not
validate is logged and the old one stays. The servers also reload by themselves when
the config file changes; use this when that watch is not possible (NFS, some containers).

Usage: elink reload [--state DIR | --config FILE]
  -c, --config FILE   the servers' config file; its directory holds the pid files
      --state DIR     state directory (default: ./.elink-state; env ELINK_STATE_DIR)`;

export function reloadCommand(argv: string[]): void {
  const { values } = parse(argv, { config: { type: 'string', short: 'c' }, state: { type: 'string' }, help: { type: 'boolean', short: 'h' } });
  if (values.help) return void console.log(reloadHelp);
  const config = values.config ?? process.env.ELINK_CONFIG;
  const stateDir = config ? dirname(resolve(config)) : resolve(values.state ?? process.env.ELINK_STATE_DIR ?? '.elink-state');
  const servers = runningServers(stateDir);
  if (servers.length === 0) {
    throw new ElError(
      'EL_ERR_UNAVAILABLE',
      `no running elink server found for ${config ? resolve(config) : join(stateDir, CONFIG_FILE)} (no live ${SERVER_KINDS.map((k) => `elink-${k}.pid`).join(', ')} in ${stateDir}); start one, or send SIGHUP to its process yourself`,
    );
  }
  for (const s of servers) {
    process.kill(s.pid, 'SIGHUP');
    console.log(`sent SIGHUP to elink ${s.kind} (pid ${s.pid}); its log says "config reloaded" or why not (metric el_config_reloads_total)`);
  }
}
