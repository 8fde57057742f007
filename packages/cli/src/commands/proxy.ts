/**
 * `elink proxy`: joins a segment with the in-process TCP/IP stack (no TAP/TUN, no root)
 * and offers it to local programs as an HTTP proxy, a SOCKS5 server and ssh-style port
 * forwards (@elink/proxy).
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { ElError } from '@elink/protocol';
import { defaultClientStateDir, loadOrCreateDeviceKey, proxySettings, TRANSPORTS, type Transport } from '@elink/client';
import { parseForwardSpec, parseListenAddress, PROXY_DEFAULTS, ProxyApp, readAuthFile, type ProxyLimits } from '@elink/proxy';
import { parse } from '../args.js';
import { SESSION_OPTIONS } from '../session-options.js';
import { createLogger } from '../logger.js';
import { VERSION } from '../version.js';
import { connectExit, exitStatusHelp } from './connect-exit.js';
import { joinSegment, segmentStack } from './proxy-segment.js';
import { parseMetricsAddress, stackClientSource, startClientMetrics } from '../client-metrics.js';

const D = PROXY_DEFAULTS;

export const proxyHelp = `elink proxy — join a segment without a TAP/TUN device or root, and reach it through
an HTTP proxy, a SOCKS5 server and port forwards

Usage: elink proxy --broker URL --user NAME --password-file FILE [--http [HOST:]PORT]
                   [--socks [HOST:]PORT] [-L SPEC]... [-R SPEC]... [options]
The process runs its own TCP/IP stack on the segment, with the addresses the switch gives
it; what local programs send to the listeners below leaves from those addresses.

Listeners (at least one; HOST defaults to 127.0.0.1):
      --http [HOST:]PORT    HTTP proxy: CONNECT host:port (HTTPS and any TCP) and plain
                            http:// requests (absolute URI, keep-alive both ways)
      --socks [HOST:]PORT   SOCKS5 server (RFC 1928): CONNECT to IPv4, IPv6 and names
  -L [BIND:]PORT:HOST:HOSTPORT
                            listen here on BIND:PORT (default 127.0.0.1) and connect
                            through the segment to HOST:HOSTPORT (repeatable)
  -R [BIND:]PORT:HOST:HOSTPORT
                            listen on the segment at PORT (all its addresses, or BIND)
                            and connect from this host to HOST:HOSTPORT (repeatable)
                            IPv6 addresses in brackets: -L [::1]:8080:[fd00:e1::5]:80
      --auth-file FILE      first line user:password: required of HTTP clients
                            (Proxy-Authorization: Basic) and SOCKS5 clients (RFC 1929)
      --dns ADDR[,ADDR]     DNS servers (on the segment or reached through it) for names
                            (SOCKS5 names, CONNECT and URL hosts, -L hosts), instead of
                            those the segment pushes (its dns.servers); with neither,
                            only IP addresses can be reached

Limits:
      --max-connections N   client connections at once, all listeners (default ${D.maxConnections});
                            beyond, HTTP clients get 503, others are closed
      --idle-timeout S      close a connection idle both ways this long (default ${D.idleTimeout})
      --connect-timeout S   to open a connection through the segment (default ${D.connectTimeout});
                            then HTTP 504, SOCKS5 reply 4
      --max-header-size N   bytes of an HTTP request head (default ${D.maxHeaderSize}); beyond, 431

Metrics:
      --metrics [HOST:]PORT serve Prometheus metrics (GET /metrics: el_client_*, as elink
                            connect; the stack stands where the device is; el_proxy_*:
                            connections open, accepted and refused per listener) and /healthz,
                            /readyz (ready: a session is up) over plain HTTP on this
                            address (HOST default 127.0.0.1; env ELINK_METRICS; default
                            off). No authentication: loopback or a management address only

Session (as elink connect):
      --broker URL          broker base URL (env ELINK_BROKER)
      --user NAME           user name (env ELINK_USER)
      --password-file FILE  file whose first line is the password (env ELINK_PASSWORD_FILE)
      --segment NAME        segment to join (default: the user's first)
      --device ID           this client's id (default: the host name); give each its own
      --ca FILE             CA certificate to trust for broker and switch (default: system CAs)
      --state DIR           where the device key is kept (env ELINK_CLIENT_STATE)
      --no-device-key       no device key: every reconnect logs in with the password
      --ciphers LIST        OpenSSL cipher list for the switch connection
      --transport T         tls | ws | auto (default auto; env ELINK_TRANSPORT)
      --proxy URL           HTTP proxy on the way to the broker and switch (CONNECT)
      --log-level LEVEL     fatal|error|warn|info|debug|trace (default info)

${exitStatusHelp()}
Unlike elink connect, elink proxy gives up on its first session after 30 s (EL_ERR_UNAVAILABLE,
status 1); once up, a lost session is retried as above.`;

function seconds(flag: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || n > 86400) throw new ElError('EL_ERR_INVALID', `--${flag} must be seconds in (0, 86400], got "${v}"`);
  return n;
}

function integer(flag: string, v: string | undefined, dflt: number, min: number, max: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new ElError('EL_ERR_INVALID', `--${flag} must be an integer ${min}-${max}, got "${v}"`);
  return n;
}

/** Everything the command line says, checked; no file, network or stack touched but the files it names. */
export function proxyPlan(argv: string[]) {
  const { values } = parse(argv, {
    http: { type: 'string' },
    socks: { type: 'string' },
    L: { type: 'string', short: 'L', multiple: true },
    R: { type: 'string', short: 'R', multiple: true },
    'auth-file': { type: 'string' },
    'max-connections': { type: 'string' },
    'idle-timeout': { type: 'string' },
    'connect-timeout': { type: 'string' },
    'max-header-size': { type: 'string' },
    dns: { type: 'string' },
    metrics: { type: 'string' },
    ...SESSION_OPTIONS,
  });
  if (values.help) return { help: true as const };
  const http = values.http !== undefined ? parseListenAddress('--http', values.http) : undefined;
  const socks = values.socks !== undefined ? parseListenAddress('--socks', values.socks) : undefined;
  const local = (values.L ?? []).map((s) => parseForwardSpec('-L', s));
  const remote = (values.R ?? []).map((s) => parseForwardSpec('-R', s));
  if (!http && !socks && !local.length && !remote.length) throw new ElError('EL_ERR_INVALID', 'nothing to do: give --http, --socks, -L or -R (see --help)');
  const limits: ProxyLimits = {
    ...D,
    maxConnections: integer('max-connections', values['max-connections'], D.maxConnections, 1, 100000),
    idleTimeout: seconds('idle-timeout', values['idle-timeout'], D.idleTimeout),
    connectTimeout: seconds('connect-timeout', values['connect-timeout'], D.connectTimeout),
    maxHeaderSize: integer('max-header-size', values['max-header-size'], D.maxHeaderSize, 1024, 1048576),
  };
  const auth = values['auth-file'] !== undefined ? readAuthFile(values['auth-file']) : undefined;
  const dns = (values.dns ?? '').split(',').map((d) => d.trim()).filter(Boolean);
  for (const d of dns) if (!isIP(d)) throw new ElError('EL_ERR_INVALID', `--dns takes IP addresses, got "${d}"`);
  const broker = values.broker ?? process.env.ELINK_BROKER;
  const user = values.user ?? process.env.ELINK_USER;
  const passwordFile = values['password-file'] ?? process.env.ELINK_PASSWORD_FILE;
  if (!broker || !user || !passwordFile) throw new ElError('EL_ERR_INVALID', '--broker, --user and --password-file are required (see --help)');
  const transport = values.transport ?? process.env.ELINK_TRANSPORT ?? 'auto';
  if (!(TRANSPORTS as readonly string[]).includes(transport)) throw new ElError('EL_ERR_INVALID', `--transport must be one of ${TRANSPORTS.join(', ')}, got "${transport}"`);
  // An empty ELINK_METRICS (an env file's blank line) is off; an empty --metrics is a mistake.
  const metricsValue = values.metrics ?? (process.env.ELINK_METRICS || undefined);
  const metrics = metricsValue !== undefined ? parseMetricsAddress(metricsValue) : undefined;
  return { help: false as const, values, http, socks, local, remote, limits, auth, dns, broker, user, passwordFile, transport: transport as Transport, metrics };
}

export async function proxyCommand(argv: string[]): Promise<void> {
  const plan = proxyPlan(argv);
  if (plan.help) return void console.log(proxyHelp);
  const { values } = plan;
  let password: string;
  let ca: Buffer | undefined;
  try {
    password = readFileSync(plan.passwordFile, 'utf8').split('\n')[0]!.trim();
    ca = values.ca ? readFileSync(values.ca) : undefined;
  } catch (e) {
    throw new ElError('EL_ERR_INVALID', `cannot read ${(e as NodeJS.ErrnoException).path ?? 'file'}: ${(e as Error).message}`);
  }
  if (!password) throw new ElError('EL_ERR_INVALID', `${plan.passwordFile} is empty`);
  const proxy = proxySettings(values.proxy);
  const deviceKey = values['no-device-key'] ? undefined : loadOrCreateDeviceKey(values.state ?? process.env.ELINK_CLIENT_STATE ?? defaultClientStateDir());
  const logger = createLogger(values['log-level'] ?? process.env.ELINK_LOG_LEVEL ?? 'info', 'elink-proxy');
  logger.info({ version: VERSION, node: process.version, broker: plan.broker, user: plan.user, device: values.device, transport: plan.transport }, 'elink proxy starting');

  let metrics: Awaited<ReturnType<typeof startClientMetrics>> | undefined;
  try {
    const stack = segmentStack({
      broker: plan.broker,
      credentials: { user: plan.user, password, ...(values.segment ? { segment: values.segment } : {}), ...(values.device ? { device: values.device } : {}) },
      ...(ca ? { ca } : {}),
      ...(deviceKey ? { deviceKey } : {}),
      ...(values.ciphers ? { ciphers: values.ciphers } : {}),
      transport: plan.transport,
      proxy,
      logger,
      // Only when given: an empty list would hide the servers the segment pushes.
      ...(plan.dns.length ? { dns: plan.dns } : {}),
    });
    // Before the first login: an address that cannot be bound ends it here (EL_ERR_LISTEN).
    let app: ProxyApp | undefined;
    metrics = plan.metrics ? await startClientMetrics(plan.metrics, stackClientSource(stack, () => app?.stats), logger) : undefined;
    const segment = await joinSegment(stack);
    const dns = segment.dns;
    logger.info({ ...segment.addresses, dns: dns.servers, search: dns.search, dnsFrom: dns.from }, 'on the segment');
    segment.on('down', (err) => logger.warn({ code: err?.code, err: err?.message }, 'segment down: connections through it wait or fail until it is back'));
    segment.on('up', () => logger.info({ ...segment.addresses }, 'segment up again'));
    app = new ProxyApp({
      net: segment,
      ...(plan.http ? { http: plan.http } : {}),
      ...(plan.socks ? { socks: plan.socks } : {}),
      local: plan.local,
      remote: plan.remote,
      ...(plan.auth ? { auth: plan.auth } : {}),
      limits: plan.limits,
      logger,
    });
    try {
      await app.start();
    } catch (e) {
      await segment.stop('elink proxy could not listen');
      throw e;
    }
    await new Promise<void>((resolve, reject) => {
      segment.on('fatal', (err) => void app.close().then(() => reject(err)));
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        logger.info({ signal }, 'stopping');
        setTimeout(() => process.exit(1), 5000).unref();
        void app.close().then(() => segment.stop(`elink proxy stopping (${signal})`)).then(resolve, reject);
      };
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGTERM', () => stop('SIGTERM'));
    });
    // Its listener would keep the process alive.
    await metrics?.close();
  } catch (e) {
    await metrics?.close();
    if (!(e instanceof ElError) || e.code === 'EL_ERR_INVALID' || e.code === 'EL_ERR_LISTEN') throw e;
    // A permanent failure of the session: the exit status elink connect gives it.
    const { status, hint } = connectExit(e);
    process.stderr.write(`elink: ${e.code}: ${e.message}\n${hint ? `elink: ${hint} (exit status ${status})\n` : ''}`);
    process.exit(status);
  }
}
