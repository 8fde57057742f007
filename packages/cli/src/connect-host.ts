/**
 * The host a client should use in the broker URL `elink up` prints: the advertised
 * name, else the listen address when it is a specific one (nothing listens on the
 * host's other addresses), else this host's IPv4 addresses.
 */
import { isIPv6 } from 'node:net';

const WILDCARDS = new Set(['', '0.0.0.0', '::', '::0', '0:0:0:0:0:0:0:0']);

export function connectHosts(listenHost: string, advertise: string | undefined, localNames: readonly string[]): string[] {
  if (advertise) {
    const list = advertise.split(',').map((h) => h.trim()).filter(Boolean);
    if (list.length) return list;
  }
  if (!WILDCARDS.has(listenHost)) return [listenHost];
  const v4 = localNames.filter((n) => /^\d+\.\d+\.\d+\.\d+$/.test(n) && n !== '127.0.0.1');
  return v4.length ? v4 : ['127.0.0.1'];
}

/** A host as it goes into a URL: IPv6 addresses in brackets. */
export function urlHost(host: string): string {
  return isIPv6(host) ? `[${host}]` : host;
}
