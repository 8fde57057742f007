/**
 * `elink config check`: validates a configuration as `elink up|broker|switch` would load
 * it (file, then ELINK_* variables) and prints the effective result with secrets redacted.
 */
import { accessSync, constants } from 'node:fs';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { ElError } from '@elink/protocol';
import { parse } from '../args.js';
import { loadConfig, overridesFromEnv } from '../config.js';
import { redactConfig } from '../redact.js';
import { CONFIG_FILE } from '../state.js';

export const configHelp = `elink config — check a configuration file

Usage: elink config check [--config FILE | --state DIR]
  -c, --config FILE   config file (default: STATE/elink.yaml; env ELINK_CONFIG)
      --state DIR     state directory (default: ./.elink-state; env ELINK_STATE_DIR)
  -h, --help          this help
Validates the file with the ELINK_* environment applied over it, as a server would load
it, checks that the TLS certificate and key it names are readable, and prints the
effective configuration (defaults filled in, secrets redacted). Exit status 0 when valid,
1 with every EL_ERR_CONFIG problem listed otherwise.`;

export async function configCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parse(argv, { config: { type: 'string', short: 'c' }, state: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, true);
  const [action, ...extra] = positionals;
  if (values.help || !action) return void console.log(configHelp);
  if (action !== 'check') throw new ElError('EL_ERR_INVALID', `unknown action "${action}" (check)`);
  if (extra.length) throw new ElError('EL_ERR_INVALID', `unexpected argument "${extra[0]}" (use --config FILE)`);
  const file = resolve(values.config ?? process.env.ELINK_CONFIG ?? join(values.state ?? process.env.ELINK_STATE_DIR ?? '.elink-state', CONFIG_FILE));
  const loaded = loadConfig(file, overridesFromEnv());
  const unreadable = [
    ['tls.cert', loaded.config.tls.cert],
    ['tls.key', loaded.config.tls.key],
  ].flatMap(([key, p]) => {
    try {
      accessSync(loaded.path(p!), constants.R_OK);
      return [];
    } catch (e) {
      return [`  ${key}: cannot read ${loaded.path(p!)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`];
    }
  });
  if (unreadable.length) throw new ElError('EL_ERR_CONFIG', `invalid configuration in ${file}:\n${unreadable.join('\n')}`);
  process.stdout.write(`# ${file}: valid. Effective configuration (defaults and ELINK_* variables applied, secrets redacted):\n${stringify(redactConfig(loaded.config), { lineWidth: 0 })}`);
}
