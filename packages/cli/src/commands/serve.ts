/**
 * `elink up` (broker + switch in one process), `elink broker`, `elink switch`.
 */
import { resolve, join } from 'node:path';
import { readFileSync } from 'node:fs';
import { overridesFromFlags, parse, serverFlags, serverFlagsHelp } from '../args.js';
import { loadConfig, overridesFromEnv } from '../config.js';
import { installLastResort } from '../last-resort.js';
import { createLogger } from '../logger.js';
import { pidFilePath, writePidFile } from '../pid-file.js';
import { ConfigReloader } from '../reload.js';
import { startServices, type ServiceSelection } from '../services.js';
import { CONFIG_FILE, DEMO_PASSWORD_FILE, DEMO_USER, ensureAdminToken, initState, localNames } from '../state.js';
import { connectHosts, urlHost } from '../connect-host.js';
import { listenError } from '../listen-error.js';
import { startupTuning } from '../startup-tuning.js';
import { ensureAdvertisedNames, missingNamesMessage } from '../server-cert.js';
import { VERSION } from '../version.js';

/** Every server command reloads the same way (reload.ts). */
const reloadNote = `SIGHUP, \`elink reload\` or a change of the config file reloads users, new segments,
TLS certificate/key and log level live; the log names what needs a restart.`;

export const upHelp = `elink up — broker and switch node in one process (the embedded default)

On first start it creates the state directory: a private CA (ca.pem), a server
certificate, the ticket signing key, and elink.yaml with one L2 segment "lab" and a
user "demo" whose password is in demo.password.

Usage: elink up [options]
${serverFlagsHelp('up')}
${reloadNote}`;

export const brokerHelp = `elink broker — the broker alone (login, tickets, addresses)

Usage: elink broker --config FILE [options]
${serverFlagsHelp('broker')}
${reloadNote}`;

export const switchHelp = `elink switch — a switch node alone (needs switch.ticketKeys in the config)

Usage: elink switch --config FILE [options]
${serverFlagsHelp('switch')}
${reloadNote}`;

export const initHelp = `elink init — create the state directory (CA, certificates, keys, elink.yaml) and exit

Usage: elink init [--state DIR] [--advertise HOST]
      --state DIR        state directory (default: ./.elink-state; env ELINK_STATE_DIR)
      --advertise HOST   a name or address clients use, put into the server certificate
                         (env ELINK_ADVERTISE; also switch.advertise of an existing elink.yaml)
  -h, --help             this help
Prints the demo user's password file on first creation; changes nothing else that exists,
except a server certificate of this directory's CA that lacks a name: it is re-issued.`;

export async function initCommand(argv: string[]): Promise<void> {
  const { values } = parse(argv, { state: { type: 'string' }, advertise: { type: 'string' }, help: { type: 'boolean', short: 'h' } });
  if (values.help) return void console.log(initHelp);
  const stateDir = resolve(values.state ?? process.env.ELINK_STATE_DIR ?? '.elink-state');
  const env = overridesFromEnv();
  const advertise = values.advertise ?? env.advertise;
  const init = await initState(stateDir, advertise ? [advertise] : []);
  // The file's own switch.advertise (or the override) must be in the certificate too.
  const loaded = loadConfig(join(stateDir, CONFIG_FILE), env, advertise ? { advertise, sources: { advertise: values.advertise ? 'flag --advertise' : 'environment variable ELINK_ADVERTISE' } } : {});
  const check = await ensureAdvertisedNames(loaded);
  if (init.reissued || check.state === 'reissued') console.log(`re-issued ${join(stateDir, 'server.pem')} to name every address of this host${advertise || check.state === 'reissued' ? ' and the advertised name' : ''}`);
  if (check.state === 'missing') console.error(`elink: warning: ${missingNamesMessage(check)}`);
  console.log(init.created ? `created ${join(stateDir, CONFIG_FILE)}; demo password in ${join(stateDir, DEMO_PASSWORD_FILE)}` : `${stateDir} exists; certificates checked`);
}

export async function serve(kind: 'up' | 'broker' | 'switch', argv: string[]): Promise<void> {
  const { values } = parse(argv, serverFlags(kind));
  const str = (k: string) => (typeof values[k] === 'string' ? values[k] : undefined);
  if (values.help) {
    console.log(kind === 'up' ? upHelp : kind === 'broker' ? brokerHelp : switchHelp);
    return;
  }
  const stateDir = resolve(str('state') ?? process.env.ELINK_STATE_DIR ?? '.elink-state');
  const configFile = str('config') ?? process.env.ELINK_CONFIG ?? join(stateDir, CONFIG_FILE);
  const flags = overridesFromFlags(values);
  const env = overridesFromEnv();
  let init: Awaited<ReturnType<typeof initState>> | undefined;
  if (kind === 'up' && !str('config') && !process.env.ELINK_CONFIG) {
    const advertise = flags.advertise ?? env.advertise;
    init = await initState(stateDir, advertise ? [advertise] : []);
  }
  const load = () => loadConfig(configFile, overridesFromEnv(), flags);
  let loaded = load();
  let adminTokenFile: string | undefined;
  if (kind === 'up' && loaded.config.broker.adminToken === undefined) {
    // No token configured: one of its own in the state directory, so the console and `elink status` work at once.
    try {
      const admin = ensureAdminToken(loaded.stateDir);
      adminTokenFile = admin.file;
      flags.adminToken = admin.token;
      flags.sources = { ...flags.sources, adminToken: `the file ${admin.file}` };
      loaded = load();
    } catch (err) {
      // A read-only state directory: everything else still works; the console then needs broker.adminToken or an admin user.
      process.stderr.write(`elink: warning: no admin token (cannot write ${join(loaded.stateDir, 'admin-token')}: ${(err as Error).message}); set broker.adminToken or ELINK_ADMIN_TOKEN for the console and elink status\n`);
    }
  }
  const logger = createLogger(loaded.config.log.level, 'elink', loaded.config.log.buffer);
  if (init?.reissued) logger.info({ cert: loaded.path(loaded.config.tls.cert) }, 'server certificate re-issued to name every address of this host and the advertised name');
  if (kind === 'up') {
    // A certificate without the advertised name fails every outside client (e.g. ELINK_ADVERTISE in Kubernetes).
    const check = await ensureAdvertisedNames(loaded);
    if (check.state === 'reissued') logger.info({ cert: check.cert, names: check.names }, 'server certificate re-issued to name the advertised address');
    if (check.state === 'missing') logger.warn({ code: 'EL_ERR_CONFIG', cert: check.cert, names: check.names }, missingNamesMessage(check));
  }
  // SIGHUP reloads (below); until then it must not end the process as its default action does.
  let reloader: ConfigReloader | undefined;
  let stopping = false;
  process.on('SIGHUP', () => {
    if (stopping) return;
    if (!reloader) return void logger.warn('SIGHUP while starting: ignored, nothing to reload yet');
    logger.info({ signal: 'SIGHUP' }, 'reloading the configuration');
    reloader.reload('signal');
  });
  const which: ServiceSelection = { broker: kind !== 'switch', switch: kind !== 'broker' };
  let services: Awaited<ReturnType<typeof startServices>>;
  try {
    // The warm-up runs while the services are set up; the switch awaits it before it listens.
    const tuning = which.switch
      ? startupTuning({ warmUp: !values['no-warm-up'], gc: !values['no-gc-tuning'] && process.env.ELINK_GC_TUNING !== '0', modes: [...new Set(loaded.config.segments.map((s) => s.mode))], offload: true, logger })
      : undefined;
    services = await startServices(loaded, which, logger, tuning?.ready);
  } catch (err) {
    const running = [...(which.switch ? (['switch'] as const) : []), ...(which.broker ? (['broker'] as const) : []), 'admin' as const];
    throw listenError(err, loaded.config, running, loaded.file) ?? err;
  }
  installLastResort(logger, services.registry);
  reloader = new ConfigReloader({ current: loaded, load, services, kinds: which, logger, registry: services.registry });
  reloader.watch();
  let removePidFile = () => {};
  try {
    removePidFile = writePidFile(loaded.stateDir, kind);
  } catch (err) {
    // A read-only config mount: SIGHUP and the file watch still work, only `elink reload` cannot find us.
    logger.warn({ err: (err as Error).message, file: pidFilePath(loaded.stateDir, kind) }, 'pid file not written; `elink reload` will not find this process (send SIGHUP instead)');
  }
  const { endpoints } = services;
  logger.info({ endpoints, config: loaded.file, pid: process.pid, version: VERSION, node: process.version }, 'emotion link started');

  if (kind === 'up') printConnectHelp(loaded.stateDir, endpoints.broker!.port, connectHosts(loaded.config.broker.listen.host, loaded.config.switch.advertise, localNames()), loaded.config.segments[0]!.name, init?.demoPassword !== undefined, adminTokenFile);

  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    reloader?.stop();
    removePidFile();
    const force = setTimeout(() => process.exit(1), 10_000 + loaded.config.switch.drainSeconds * 1000);
    force.unref();
    services.stop(`node shutting down (${signal})`).then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

function printConnectHelp(stateDir: string, brokerPort: number, hosts: string[], segment: string, firstStart: boolean, adminTokenFile: string | undefined): void {
  const host = urlHost(hosts[0] ?? '127.0.0.1');
  const hasDemo = (() => {
    try {
      readFileSync(join(stateDir, DEMO_PASSWORD_FILE));
      return true;
    } catch {
      return false;
    }
  })();
  const lines = [
    '',
    `Emotion Link is up${firstStart ? ' (state created in ' + stateDir + ')' : ''}. To connect a client, as root on another host or network namespace:`,
    '',
    `  elink connect --broker https://${host}:${brokerPort} --ca ${join(stateDir, 'ca.pem')} \\`,
    `    --user ${hasDemo ? DEMO_USER : '<user>'} --password-file ${hasDemo ? join(stateDir, DEMO_PASSWORD_FILE) : '<file>'} --segment ${segment} --device <name>`,
    '',
    '  --device <name>: a name of its own for each client. A second client with the same user and device',
    '  takes the session over, and the first exits (status 7).',
    hosts.length > 1 ? `  (this host's other addresses: ${hosts.slice(1).join(', ')})` : '',
    `  Add users: elink user add NAME --state ${stateDir}   Metrics: /metrics on the admin port.`,
    '',
    `Web console: https://${host}:${brokerPort}/console/ (trust ${join(stateDir, 'ca.pem')} in the browser, or accept its warning)`,
    adminTokenFile ? `  sign in with the admin token in ${adminTokenFile}, or as a user with admin: true.` : '  sign in with broker.adminToken, or as a user with admin: true.',
    `  From this shell: elink status / elink sessions / elink kick <session-id>   (--state ${stateDir})`,
    '',
  ];
  process.stderr.write(lines.filter((l, i, a) => l !== '' || a[i - 1] !== '').join('\n') + '\n');
}
