/**
 * `elink connect`: the kernel-mode client. Creates a TAP (TUN in L3 segments), logs in,
 * keeps the session up, and removes the device on SIGINT/SIGTERM.
 */
import { readFileSync } from 'node:fs';
import { ElError } from '@elink/protocol';
import { defaultClientStateDir, KernelClient, loadOrCreateDeviceKey, proxySettings, TRANSPORTS, type Transport } from '@elink/client';
import { parse } from '../args.js';
import { SESSION_OPTIONS } from '../session-options.js';
import { createLogger } from '../logger.js';
import { VERSION } from '../version.js';
import { connectExit, exitStatusHelp } from './connect-exit.js';
import { startupTuning } from '../startup-tuning.js';
import { kernelClientSource, parseMetricsAddress, startClientMetrics } from '../client-metrics.js';

export const connectHelp = `elink connect — join a segment through a TAP/TUN device (needs root or CAP_NET_ADMIN)

Usage: elink connect --broker URL --user NAME --password-file FILE [options]
      --broker URL          broker base URL, e.g. https://198.18.0.1:8443 (env ELINK_BROKER)
      --user NAME           user name (env ELINK_USER)
      --password-file FILE  file whose first line is the password (env ELINK_PASSWORD_FILE)
      --segment NAME        segment to join (default: the user's first)
      --device ID           this client's id: the same id gets the same addresses and MAC,
                            and a second client with the same user and id takes over the
                            session (the first exits, status 7). Give each client its own;
                            the default, the host name, is shared by network namespaces
                            and cloned VMs
      --ca FILE             CA certificate to trust for broker and switch (default: system CAs)
      --state DIR           where the client keeps its device key (device-key.pem, made on
                            first use): reconnects then cost a signature, not a password
                            check (env ELINK_CLIENT_STATE; default $STATE_DIRECTORY, else
                            $XDG_STATE_HOME/elink, else ~/.local/state/elink)
      --no-device-key       no device key: every reconnect logs in with the password
      --ifname NAME         interface name or pattern (default el%d, elt%d in L3)
      --prefix              ask for a delegated prefix (L3: a router with a LAN behind it)
      --ciphers LIST        OpenSSL cipher list for the switch connection
      --transport T         tls | ws | auto (default auto; env ELINK_TRANSPORT): raw TLS,
                            EL over WebSocket (wss://NODE:PORT/v1/el, for networks that
                            pass only HTTPS), or raw TLS first and WebSocket when raw TLS
                            fails to connect or handshake (remembered per node)
      --proxy URL           HTTP proxy for the broker and the switch nodes (CONNECT):
                            http://[user:password@]host:port (default: env HTTPS_PROXY or
                            https_proxy; hosts in NO_PROXY / no_proxy are reached directly)
      --no-offload          open the device without TSO/checksum offload and do not offer
                            "gso" to the switch (every frame MTU-sized, as before offload)
      --no-warm-up          do not push throwaway frames through the client's frame path
                            while logging in (a loopback switch of its own in this
                            process, ~250 ms of CPU; nothing reaches a device or the node)
      --no-gc-tuning        keep V8's memory reducer and skip the full collection before
                            the interface gets its addresses (env ELINK_GC_TUNING=0)
      --metrics [HOST:]PORT serve Prometheus metrics (GET /metrics: el_client_*) and
                            /healthz, /readyz (ready: a session is up) over plain HTTP
                            on this address (HOST default 127.0.0.1; env ELINK_METRICS;
                            default off). No authentication: loopback or a management
                            address only
      --log-level LEVEL     fatal|error|warn|info|debug|trace (default info)

DNS: a segment may push DNS servers and search domains (its dns setting). elink connect
does not change the host's resolver; it logs them in its 'link up' line (dns, search).
Apply them yourself, e.g. with systemd-resolved: resolvectl dns el0 ADDR...;
resolvectl domain el0 DOMAIN... (they go when the interface does).

${exitStatusHelp()}`;

/** `bridge`: elink bridge runs this same client with its TAP attached to a Linux bridge. */
export async function connectCommand(argv: string[], bridge?: { attach: string }): Promise<void> {
  const { values } = parse(argv, {
    ...SESSION_OPTIONS,
    ifname: { type: 'string' },
    prefix: { type: 'boolean' },
    'no-offload': { type: 'boolean' },
    'no-warm-up': { type: 'boolean' },
    'no-gc-tuning': { type: 'boolean' },
    metrics: { type: 'string' },
  });
  if (values.help) return void console.log(connectHelp);
  const broker = values.broker ?? process.env.ELINK_BROKER;
  const user = values.user ?? process.env.ELINK_USER;
  const passwordFile = values['password-file'] ?? process.env.ELINK_PASSWORD_FILE;
  if (!broker || !user || !passwordFile) throw new ElError('EL_ERR_INVALID', '--broker, --user and --password-file are required (see --help)');
  let password: string;
  let ca: Buffer | undefined;
  try {
    password = readFileSync(passwordFile, 'utf8').split('\n')[0]!.trim();
    ca = values.ca ? readFileSync(values.ca) : undefined;
  } catch (e) {
    throw new ElError('EL_ERR_INVALID', `cannot read ${(e as NodeJS.ErrnoException).path ?? 'file'}: ${(e as Error).message}`);
  }
  if (!password) throw new ElError('EL_ERR_INVALID', `${passwordFile} is empty`);
  const transport = values.transport ?? process.env.ELINK_TRANSPORT ?? 'auto';
  if (!(TRANSPORTS as readonly string[]).includes(transport)) throw new ElError('EL_ERR_INVALID', `--transport must be one of ${TRANSPORTS.join(', ')}, got "${transport}"`);
  // An empty ELINK_METRICS (an env file's blank line) is off; an empty --metrics is a mistake.
  const metricsValue = values.metrics ?? (process.env.ELINK_METRICS || undefined);
  const metricsAddress = metricsValue !== undefined ? parseMetricsAddress(metricsValue) : undefined;
  const proxy = proxySettings(values.proxy);
  const deviceKey = values['no-device-key'] ? undefined : loadOrCreateDeviceKey(values.state ?? process.env.ELINK_CLIENT_STATE ?? defaultClientStateDir());

  const logger = createLogger(values['log-level'] ?? process.env.ELINK_LOG_LEVEL ?? 'info', 'elink-connect');
  logger.info({ version: VERSION, node: process.version, broker, user, device: values.device, transport, ...(proxy.proxy ? { proxy: proxy.proxy.display, proxyFrom: proxy.source } : {}) }, 'elink connect starting');
  // Runs while the client logs in; awaited before the interface gets its addresses.
  const tuning = startupTuning({ warmUp: !values['no-warm-up'], gc: !values['no-gc-tuning'] && process.env.ELINK_GC_TUNING !== '0', modes: ['l2'], offload: !values['no-offload'], logger });
  const client = new KernelClient({
    broker,
    credentials: { user, password, ...(values.segment ? { segment: values.segment } : {}), ...(values.device ? { device: values.device } : {}), ...(values.prefix ? { prefix: true } : {}) },
    ca,
    ...(deviceKey ? { deviceKey } : {}),
    ciphers: values.ciphers,
    transport: transport as Transport,
    proxy,
    ifname: values.ifname,
    offload: !values['no-offload'],
    beforeConfigure: tuning.ready,
    ...(bridge ? { attach: bridge.attach } : {}),
    logger,
  });
  // Before the client starts: an address that cannot be bound ends it here (EL_ERR_LISTEN).
  const metrics = metricsAddress ? await startClientMetrics(metricsAddress, kernelClientSource(client), logger) : undefined;
  client.on('up', (welcome, ifname: string) => {
    logger.info({ ifname, segment: welcome.segment, ipv4: welcome.ipv4?.address, ipv6: welcome.ipv6?.address, prefix: welcome.prefix, prefix4: welcome.prefix4, node: welcome.node, software: welcome.software, caps: welcome.caps ?? [], dns: welcome.dns?.servers, search: welcome.dns?.search }, 'link up');
  });
  client.on('down', (err?: ElError) => logger.warn({ code: err?.code, err: err?.message }, 'link down'));
  const exited = new Promise<void>((resolve, reject) => {
    client.on('fatal', (err: ElError) => reject(err));
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'disconnecting');
      setTimeout(() => process.exit(1), 5000).unref();
      client.stop(`client stopping (${signal})`).then(resolve, reject);
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  });
  client.start();
  try {
    await exited;
  } catch (e) {
    if (!(e instanceof ElError)) throw e;
    // A permanent failure (the client has stopped): its own exit status, and what to change.
    const { status, hint } = connectExit(e);
    process.stderr.write(`elink: ${e.code}: ${e.message}\n${hint ? `elink: ${hint} (exit status ${status})\n` : ''}`);
    process.exit(status);
  }
  // Its listener would keep the process alive.
  await metrics?.close();
}
