/** host:port as a CONNECT request or a forward spec names it ('[v6]:port' for IPv6). */
import { isIPv6 } from 'node:net';

const HOST = /^[A-Za-z0-9._-]{1,253}$/;

export function parsePort(s: string, allowZero: boolean): number | undefined {
  if (!/^\d{1,5}$/.test(s)) return undefined;
  const n = Number(s);
  return n <= 65535 && (allowZero || n > 0) ? n : undefined;
}

/** A host: a name, an IPv4 address, or an IPv6 address in brackets (brackets dropped). */
export function parseHost(s: string): string | undefined {
  if (s.startsWith('[') && s.endsWith(']')) {
    const inner = s.slice(1, -1);
    return isIPv6(inner) ? inner : undefined;
  }
  return HOST.test(s) ? s : undefined;
}

export function parseAuthority(s: string): { host: string; port: number } | undefined {
  const colon = s.lastIndexOf(':');
  if (colon <= 0) return undefined;
  const host = parseHost(s.slice(0, colon));
  const port = parsePort(s.slice(colon + 1), false);
  return host !== undefined && port !== undefined ? { host, port } : undefined;
}

/** For messages: host:port, IPv6 in brackets. */
export function formatAuthority(host: string, port: number): string {
  return isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}
