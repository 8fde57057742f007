/**
 * PROXY protocol v1 (text) and v2 (binary) headers, as load balancers (HAProxy
 * `send-proxy` / `send-proxy-v2`) put them in front of a TCP stream. One reader for
 * the switch's client port and the broker's HTTPS port: parseProxyHeader is pure (and
 * fuzzed), readProxyHeader reads it off a raw socket within a deadline and puts back
 * whatever followed it.
 */
import { BlockList, isIP, type Socket } from 'node:net';

/** v1: the whole line, CRLF included, is at most 107 bytes. */
export const PROXY_V1_MAX = 107;
/** v2 TLVs beyond this many bytes are refused (HAProxy sends a handful at most). */
export const DEFAULT_PROXY_MAX_TLV = 512;
const V2_SIG = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V1_SIG = Buffer.from('PROXY ', 'latin1');

export type ProxyRefusal = 'missing' | 'malformed' | 'too_large' | 'timeout' | 'closed' | 'untrusted';

/** The source the load balancer reports; undefined for v2 LOCAL and v1 UNKNOWN (keep the LB's address). */
export interface ProxySource {
  address: string;
  port: number;
  family: 'IPv4' | 'IPv6';
}

export type ProxyParse =
  | { kind: 'more' }
  | { kind: 'none' }
  | { kind: 'invalid'; reason: 'malformed' | 'too_large' }
  | { kind: 'header'; version: 1 | 2; length: number; source: ProxySource | undefined };

/** True if `buf` starts like a PROXY header (as far as it goes). */
function prefixOf(buf: Buffer, sig: Buffer): boolean {
  const n = Math.min(buf.length, sig.length);
  return buf.subarray(0, n).equals(sig.subarray(0, n));
}

function port(text: string): number | undefined {
  if (!/^(0|[1-9][0-9]{0,4})$/.test(text)) return undefined;
  const n = Number(text);
  return n <= 65535 ? n : undefined;
}

function parseV1(buf: Buffer): ProxyParse {
  const end = buf.indexOf('\r\n', 0, 'latin1');
  if (end < 0) return buf.length >= PROXY_V1_MAX ? { kind: 'invalid', reason: 'too_large' } : { kind: 'more' };
  const length = end + 2;
  if (length > PROXY_V1_MAX) return { kind: 'invalid', reason: 'too_large' };
  const parts = buf.toString('latin1', 0, end).split(' ');
  if (parts[0] !== 'PROXY') return { kind: 'invalid', reason: 'malformed' };
  if (parts[1] === 'UNKNOWN') return { kind: 'header', version: 1, length, source: undefined };
  if (parts.length !== 6) return { kind: 'invalid', reason: 'malformed' };
  const [, proto, src, dst, sport, dport] = parts as [string, string, string, string, string, string];
  const fam = proto === 'TCP4' ? 4 : proto === 'TCP6' ? 6 : 0;
  const sp = port(sport);
  if (fam === 0 || isIP(src) !== fam || isIP(dst) !== fam || sp === undefined || port(dport) === undefined) return { kind: 'invalid', reason: 'malformed' };
  return { kind: 'header', version: 1, length, source: { address: src, port: sp, family: fam === 4 ? 'IPv4' : 'IPv6' } };
}

function ipv6(buf: Buffer, at: number): string {
  const words: string[] = [];
  for (let i = 0; i < 8; i++) words.push(buf.readUInt16BE(at + i * 2).toString(16));
  // Canonical text through the URL parser's compression rules.
  return new URL(`http://[${words.join(':')}]/`).hostname.slice(1, -1);
}

function parseV2(buf: Buffer, maxTlv: number): ProxyParse {
  if (buf.length < 16) return { kind: 'more' };
  const verCmd = buf[12]!;
  const fam = buf[13]!;
  const len = buf.readUInt16BE(14);
  if (verCmd >> 4 !== 2) return { kind: 'invalid', reason: 'malformed' };
  const cmd = verCmd & 0x0f;
  if (cmd > 1) return { kind: 'invalid', reason: 'malformed' };
  const addrLen = fam === 0x11 ? 12 : fam === 0x21 ? 36 : fam === 0x00 ? 0 : -1;
  if (cmd === 1 && addrLen < 0) return { kind: 'invalid', reason: 'malformed' };
  if (len - Math.max(addrLen, 0) > maxTlv) return { kind: 'invalid', reason: 'too_large' };
  if (len < addrLen) return { kind: 'invalid', reason: 'malformed' };
  if (buf.length < 16 + len) return { kind: 'more' };
  const length = 16 + len;
  if (cmd === 0 || fam === 0x00) return { kind: 'header', version: 2, length, source: undefined };
  if (fam === 0x11) {
    const address = `${buf[16]}.${buf[17]}.${buf[18]}.${buf[19]}`;
    return { kind: 'header', version: 2, length, source: { address, port: buf.readUInt16BE(24), family: 'IPv4' } };
  }
  return { kind: 'header', version: 2, length, source: { address: ipv6(buf, 16), port: buf.readUInt16BE(48), family: 'IPv6' } };
}

/**
 * Parses the start of a stream: 'more' (could still be a header), 'none' (not a PROXY
 * header), 'invalid', or the header with its length in bytes. Never throws.
 */
export function parseProxyHeader(buf: Buffer, maxTlv = DEFAULT_PROXY_MAX_TLV): ProxyParse {
  if (buf.length === 0) return { kind: 'more' };
  if (prefixOf(buf, V2_SIG)) return buf.length < V2_SIG.length ? { kind: 'more' } : parseV2(buf, maxTlv);
  if (prefixOf(buf, V1_SIG)) return buf.length < V1_SIG.length ? { kind: 'more' } : parseV1(buf);
  return { kind: 'none' };
}

/** The trusted source ranges (CIDR text, IPv4 or IPv6); IPv4-mapped IPv6 peers match IPv4 ranges. */
export class TrustedSources {
  private readonly list = new BlockList();
  readonly size: number;
  constructor(cidrs: readonly string[]) {
    for (const c of cidrs) {
      const [net, bits] = c.split('/');
      const fam = isIP(net ?? '');
      if (fam === 0) throw new Error(`not a CIDR: ${c}`);
      const prefix = bits === undefined ? (fam === 4 ? 32 : 128) : Number(bits);
      if (!Number.isInteger(prefix) || prefix < 0 || prefix > (fam === 4 ? 32 : 128)) throw new Error(`not a CIDR: ${c}`);
      this.list.addSubnet(net!, prefix, fam === 4 ? 'ipv4' : 'ipv6');
    }
    this.size = cidrs.length;
  }
  has(address: string | undefined): boolean {
    if (!address) return false;
    const a = address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
    const fam = isIP(a);
    return fam !== 0 && this.list.check(a, fam === 4 ? 'ipv4' : 'ipv6');
  }
}

export type ProxyReadResult = { ok: true; source: ProxySource | undefined; version: 1 | 2 } | { ok: false; reason: ProxyRefusal };

export interface ReadProxyOptions {
  /** The header must be complete within this many ms. */
  timeoutMs: number;
  maxTlv?: number;
}

/**
 * Reads a PROXY header (v1 or v2, auto-detected) from a raw socket that has not been
 * read yet, then puts back (unshift) the bytes after it and pauses the socket, so it
 * can be handed on (TLS). A stream that does not start with a header is 'missing'.
 * Bounded: at most 16 + 65535 bytes are buffered, and only until `timeoutMs`.
 */
export function readProxyHeader(socket: Socket, opts: ReadProxyOptions): Promise<ProxyReadResult> {
  return new Promise((resolve) => {
    let buf: Buffer = Buffer.alloc(0);
    const finish = (r: ProxyReadResult, rest?: Buffer): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onClose);
      socket.off('close', onClose);
      socket.pause();
      if (rest && rest.length > 0) socket.unshift(rest);
      resolve(r);
    };
    const onData = (chunk: Buffer): void => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      const p = parseProxyHeader(buf, opts.maxTlv ?? DEFAULT_PROXY_MAX_TLV);
      if (p.kind === 'more') return;
      if (p.kind === 'none') return finish({ ok: false, reason: 'missing' });
      if (p.kind === 'invalid') return finish({ ok: false, reason: p.reason });
      finish({ ok: true, source: p.source, version: p.version }, buf.subarray(p.length));
    };
    const onClose = (): void => finish({ ok: false, reason: 'closed' });
    const timer = setTimeout(() => finish({ ok: false, reason: 'timeout' }), opts.timeoutMs);
    socket.on('data', onData);
    socket.once('end', onClose);
    socket.once('close', onClose);
  });
}

/**
 * Makes `socket` report `source` as its remote address (node caches the peer name in
 * `_peername`); a TLSSocket over it reports it once inheritRemote copied it.
 */
export function setProxiedRemote(socket: Socket, source: ProxySource): void {
  (socket as unknown as { _peername: unknown })._peername = { address: source.address, port: source.port, family: source.family };
}

/** True if the stream's first bytes look like a PROXY header (for counting headers from untrusted sources). */
export function looksLikeProxyHeader(first: Buffer): boolean {
  return first.length > 0 && (prefixOf(first, V2_SIG) || prefixOf(first, V1_SIG));
}

/**
 * A TLSSocket asks the TCP handle for its peer, not the socket it wraps: copy the
 * wrapped socket's peer, once read, before anyone reads remoteAddress — the PROXY
 * source if it had one (the TCP handle would say the load balancer), else the same
 * address the handle would give, without a second getpeername().
 */
export function inheritRemote(tlsSocket: Socket): void {
  const parent = (tlsSocket as unknown as { _parent?: Socket })._parent;
  const known = parent && (parent as unknown as { _peername?: unknown })._peername;
  if (known) (tlsSocket as unknown as { _peername: unknown })._peername = known;
}
