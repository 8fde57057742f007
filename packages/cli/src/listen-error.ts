/**
 * A listener that cannot bind (port in use, address not on this host, privileged port)
 * becomes EL_ERR_LISTEN naming the flag, variable and config key that move it.
 */
import { ElError } from '@elink/protocol';
import type { Config } from './config.js';

type Listener = 'broker' | 'switch' | 'admin';

const KNOBS: Record<Listener, { port: string; host: string; what: string }> = {
  broker: { port: '--broker-port, ELINK_BROKER_PORT or broker.listen.port', host: 'broker.listen.host', what: 'broker (HTTPS)' },
  switch: { port: '--switch-port, ELINK_SWITCH_PORT or switch.listen.port', host: 'switch.listen.host', what: 'switch (TLS)' },
  admin: { port: '--admin-port, ELINK_ADMIN_PORT or admin.port', host: 'admin.host', what: 'admin (metrics and health)' },
};

/** Why a bind failed, by its errno code (the first half of an EL_ERR_LISTEN's advice). */
export const BIND_CAUSES: Readonly<Record<string, string>> = {
  EADDRINUSE: 'another process holds the port',
  EADDRNOTAVAIL: 'the address is not on this host',
  EACCES: 'ports below 1024 need root or CAP_NET_BIND_SERVICE',
};

const CODES = new Set(Object.keys(BIND_CAUSES));

function errnoOf(err: unknown): (NodeJS.ErrnoException & { address?: string; port?: number }) | undefined {
  for (let e = err, i = 0; e instanceof Error && i < 4; e = e.cause, i++) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code && CODES.has(code)) return e as NodeJS.ErrnoException & { address?: string; port?: number };
  }
  return undefined;
}

/** EL_ERR_LISTEN for a bind failure of one of the process's listeners; undefined for any other error. */
export function listenError(err: unknown, config: Config, running: readonly Listener[], configFile: string): ElError | undefined {
  const e = errnoOf(err);
  if (!e) return undefined;
  const ports: Record<Listener, number> = { broker: config.broker.listen.port, switch: config.switch.listen.port, admin: config.admin.port };
  const candidates = running.filter((l) => ports[l] === e.port);
  const which = candidates.length ? candidates : [...running];
  const where = `${e.address ?? config.broker.listen.host}${e.port !== undefined ? `:${e.port}` : ""}`;
  const names = which.map((l) => KNOBS[l].what).join(' or ');
  let fix: string;
  if (e.code === 'EADDRINUSE') fix = `${BIND_CAUSES.EADDRINUSE}. Stop it, or choose another port with ${which.map((l) => KNOBS[l].port).join('; or ')}`;
  else if (e.code === 'EADDRNOTAVAIL') fix = `${BIND_CAUSES.EADDRNOTAVAIL}. Choose one of its addresses (or 0.0.0.0) with --listen-host, ELINK_LISTEN_HOST or ${which.map((l) => KNOBS[l].host).join(', ')}`;
  else fix = `${BIND_CAUSES.EACCES}. Choose a higher port with ${which.map((l) => KNOBS[l].port).join('; or ')}`;
  return new ElError('EL_ERR_LISTEN', `cannot listen on ${where} for the ${names} listener (${e.code}): ${fix} (config file ${configFile}).`, { cause: err });
}
