/**
 * Headers that describe one connection, not the message (RFC 9110 §7.6.1), plus the
 * proxy's own: a proxy must not pass them on. Works on rawHeaders-style arrays so names
 * keep their case and repeated headers stay repeated.
 */
const ALWAYS = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** [name, value, name, value, …] without the hop-by-hop headers, those the Connection header names, and `also`. */
export function endToEndHeaders(raw: readonly string[], also: readonly string[] = []): string[] {
  const named = new Set(also.map((d) => d.toLowerCase()));
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() !== 'connection') continue;
    for (const token of raw[i + 1]!.split(',')) {
      const t = token.trim().toLowerCase();
      if (t) named.add(t);
    }
  }
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (ALWAYS.has(name) || named.has(name)) continue;
    out.push(raw[i]!, raw[i + 1]!);
  }
  return out;
}
