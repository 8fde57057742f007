#!/usr/bin/env node
/**
 * The one `elink` command.
 */
// First: a serving command may re-execute itself with a V8 flag before anything else loads.
import './gc-reexec.js';
import { ElError } from '@elink/protocol';
import { initCommand, serve } from './commands/serve.js';
import { connectCommand } from './commands/connect.js';
import { bridgeCommand } from './commands/bridge.js';
import { userCommand } from './commands/user.js';
import { statusCommand } from './commands/status.js';
import { revokeCommand } from './commands/revoke.js';
import { kickCommand, sessionsCommand } from './commands/sessions.js';
import { trunksCommand } from './commands/trunks.js';
import { trunkCaCommand } from './commands/trunk-ca.js';
import { adminCommand } from './commands/admin.js';
import { configCommand } from './commands/config.js';
import { versionLine } from './version.js';
import { reloadCommand } from './commands/reload.js';
import { proxyCommand } from './commands/proxy.js';

const usage = `elink — Emotion Link, an L2/L3 virtual switch VPN over TLS

Usage: elink <command> [options]     (elink <command> --help for its options)
       elink --version

  up        broker + switch node in one process (memory store, self-signed CA)
  init      create the state directory for 'up' without starting anything
  broker    the broker alone
  switch    a switch node alone
  connect   join a segment through a TAP/TUN device
  bridge    attach a Linux bridge (a LAN) to an L2 segment through a TAP
  proxy     join a segment without TAP/TUN or root: HTTP proxy, SOCKS5, -L/-R forwards
  user      add, change, delete and list users
  reload    make running servers read their config again (users, TLS, log level)
  status    nodes, sessions and leases at a glance (a broker's admin API)
  sessions  live sessions with bytes and rates (a broker's admin API)
  kick      end a session (a broker's admin API)
  trunks    every switch node's trunks to its peer nodes (a broker's admin API)
  trunk-ca  the cluster CA for trunks and each node's trunk certificate (files, no server)
  admin     users, drain, audit log: the console's actions from the shell (a broker's admin API)
  revoke    revoke a device's key or a user's keys (a broker's admin API)
  config    check a configuration file and print the effective configuration`;

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'up':
    case 'broker':
    case 'switch':
      return serve(command, rest);
    case 'init':
      return initCommand(rest);
    case 'connect':
      return connectCommand(rest);
    case 'bridge':
      return bridgeCommand(rest);
    case 'proxy':
      return proxyCommand(rest);
    case 'user':
      return userCommand(rest);
    case 'status':
      return statusCommand(rest);
    case 'revoke':
      return revokeCommand(rest);
    case 'sessions':
      return sessionsCommand(rest);
    case 'kick':
      return kickCommand(rest);
    case 'trunks':
      return trunksCommand(rest);
    case 'trunk-ca':
      return trunkCaCommand(rest);
    case 'admin':
      return adminCommand(rest);
    case 'reload':
      return reloadCommand(rest);
    case 'config':
      return configCommand(rest);
    case '-V':
    case '--version':
    case 'version':
      console.log(versionLine());
      return;
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      console.log(usage);
      return;
    default:
      throw new ElError('EL_ERR_INVALID', `unknown command "${command}"\n\n${usage}`);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  const code = err instanceof ElError ? err.code : 'EL_ERR_INTERNAL';
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`elink: ${code}: ${message}\n`);
  process.exit(code === 'EL_ERR_INVALID' ? 2 : 1);
});
