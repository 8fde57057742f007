/**
 * `-L`/`-R` arguments as ssh writes them: [bind:]port:host:hostport, IPv6 addresses in
 * brackets, `*` for every address.
 */
import { ElError } from '@elink/protocol';
import { parseHost, parsePort } from './authority.js';

export interface ForwardSpec {
  /** Address the listener binds; undefined: the default of its side. */
  bind?: string;
  /** 0: any free port (the one taken is logged). */
  port: number;
  host: string;
  hostPort: number;
}

/** Splits at ':' outside brackets. */
function fields(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let depth = 0;
  for (const ch of s) {
    if (ch === '[') depth++;
    else if (ch === ']') depth--;
    if (ch === ':' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

export function parseForwardSpec(flag: '-L' | '-R', s: string): ForwardSpec {
  const bad = (why: string) => new ElError('EL_ERR_INVALID', `${flag} ${s}: ${why}; write ${flag} [bind:]port:host:hostport, e.g. ${flag} 127.0.0.1:8022:198.19.0.5:22 ([::1] for IPv6)`);
  const f = fields(s);
  if (f.length !== 3 && f.length !== 4) throw bad(`${f.length} fields`);
  const [bindText, portText, hostText, hostPortText] = f.length === 4 ? f : [undefined, ...f];
  let bind: string | undefined;
  if (bindText !== undefined && bindText !== '') {
    bind = bindText === '*' ? '0.0.0.0' : parseHost(bindText);
    if (bind === undefined) throw bad(`bad bind address "${bindText}"`);
  }
  const port = parsePort(portText!, true);
  if (port === undefined) throw bad(`bad port "${portText}"`);
  const host = parseHost(hostText!);
  if (host === undefined) throw bad(`bad host "${hostText}"`);
  const hostPort = parsePort(hostPortText!, false);
  if (hostPort === undefined) throw bad(`bad host port "${hostPortText}"`);
  return { ...(bind !== undefined ? { bind } : {}), port, host, hostPort };
}

/** [host:]port for --http and --socks (default host 127.0.0.1). */
export function parseListenAddress(flag: string, s: string): { host: string; port: number } {
  const f = fields(s);
  const bad = () => new ElError('EL_ERR_INVALID', `${flag} ${s}: write [host:]port, e.g. ${flag} 127.0.0.1:1080`);
  if (f.length > 2) throw bad();
  const host = f.length === 2 ? (f[0] === '*' ? '0.0.0.0' : parseHost(f[0]!)) : '127.0.0.1';
  const port = parsePort(f[f.length - 1]!, true);
  if (host === undefined || port === undefined) throw bad();
  return { host, port };
}
