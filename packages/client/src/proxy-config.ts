/**
 * Which HTTP proxy the client goes through, and for which hosts: `--proxy
 * http://[user:pass@]host:port`, else HTTPS_PROXY / https_proxy from the environment;
 * NO_PROXY / no_proxy names the hosts reached directly (both transports to the switch
 * and the broker's HTTPS alike). Only http:// proxies (the CONNECT request in the clear,
 * as curl and most tools speak to them); credentials are sent as Basic authentication.
 */
import { BlockList, isIP } from 'node:net';
import { ElError } from '@elink/protocol';

export interface HttpProxy {
  host: string;
  port: number;
  /** The Proxy-Authorization header value (Basic), when the URL carried a user. */
  authorization?: string;
  /** For logs and messages: the URL without its password. */
  display: string;
  /** The whole URL, credentials included (for the broker request's proxy agent; never logged). */
  url: string;
}

export interface ProxySettings {
  proxy: HttpProxy | undefined;
  /** Where `proxy` came from, for messages: "--proxy", "HTTPS_PROXY". */
  source?: string;
  /** Hosts reached directly (NO_PROXY). */
  bypass: ProxyBypass;
}

/** Parses a proxy URL; EL_ERR_INVALID naming `source` when it is not http://host[:port]. */
export function parseProxyUrl(text: string, source: string): HttpProxy {
  let url: URL;
  try {
    // "host:port" without a scheme, as some environments set it.
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`);
  } catch {
    throw new ElError('EL_ERR_INVALID', `${source}: "${text}" is not a proxy URL; expected http://[user:password@]host:port`);
  }
  if (url.protocol !== 'http:') throw new ElError('EL_ERR_INVALID', `${source}: only http:// proxies are supported (the CONNECT request goes to the proxy in the clear, the tunnel carries TLS), got ${url.protocol}//`);
  if (!url.hostname) throw new ElError('EL_ERR_INVALID', `${source}: "${text}" names no proxy host`);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = url.port ? Number(url.port) : 80;
  const user = decodeURIComponent(url.username);
  const password = decodeURIComponent(url.password);
  const display = `http://${user ? `${url.username}:***@` : ''}${url.host}`;
  return { host, port, display, url: url.href, ...(user ? { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` } : {}) };
}

/**
 * NO_PROXY: entries separated by commas or spaces; `*` bypasses the proxy for every host;
 * a name matches itself and its subdomains (`example.com`, `.example.com`); an IP address
 * matches itself, a CIDR (`198.18.0.0/16`, `fd00::/8`) the addresses in it; `:port` after
 * an entry limits it to that port.
 */
export class ProxyBypass {
  private readonly all: boolean;
  private readonly names: { suffix: string; port?: number }[] = [];
  private readonly nets: { list: BlockList; port?: number }[] = [];

  constructor(spec = '') {
    let all = false;
    for (const raw of spec.split(/[\s,]+/)) {
      let entry = raw.trim().toLowerCase();
      if (!entry) continue;
      if (entry === '*') {
        all = true;
        continue;
      }
      let port: number | undefined;
      const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(entry);
      if (m) {
        entry = m[1]!;
        port = Number(m[2]);
      }
      entry = entry.replace(/^\[|\]$/g, '');
      const [addr, bits] = entry.split('/');
      const family = isIP(addr ?? '');
      if (family) {
        const list = new BlockList();
        const type = family === 4 ? 'ipv4' : 'ipv6';
        if (bits !== undefined) list.addSubnet(addr!, Number(bits), type);
        else list.addAddress(addr!, type);
        this.nets.push({ list, ...(port !== undefined ? { port } : {}) });
      } else {
        this.names.push({ suffix: entry.replace(/^\*?\./, ''), ...(port !== undefined ? { port } : {}) });
      }
    }
    this.all = all;
  }

  /** True when `host`:`port` is to be reached directly. */
  matches(host: string, port: number): boolean {
    if (this.all) return true;
    const h = host.toLowerCase().replace(/^\[|\]$/g, '');
    const family = isIP(h);
    if (family) return this.nets.some((n) => (n.port === undefined || n.port === port) && n.list.check(h, family === 4 ? 'ipv4' : 'ipv6'));
    return this.names.some((n) => (n.port === undefined || n.port === port) && (h === n.suffix || h.endsWith(`.${n.suffix}`)));
  }
}

/** The proxy settings from the `--proxy` flag (first) and the environment. */
export function proxySettings(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): ProxySettings {
  const bypass = new ProxyBypass(env.NO_PROXY ?? env.no_proxy ?? '');
  if (flag) return { proxy: parseProxyUrl(flag, '--proxy'), source: '--proxy', bypass };
  for (const name of ['HTTPS_PROXY', 'https_proxy'] as const) {
    const v = env[name];
    if (v) return { proxy: parseProxyUrl(v, name), source: name, bypass };
  }
  return { proxy: undefined, bypass };
}

/** The proxy to use for `host`:`port`, or undefined (none set, or NO_PROXY names it). */
export function proxyFor(settings: ProxySettings | undefined, host: string, port: number): HttpProxy | undefined {
  if (!settings?.proxy || settings.bypass.matches(host, port)) return undefined;
  return settings.proxy;
}
