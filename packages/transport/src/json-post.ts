/**
 * One JSON POST over HTTPS (or plain HTTP, for a broker behind a TLS-terminating
 * ingress): the client's login and a switch node's heartbeat. It answers the status, the
 * body (parsed when it is JSON) and Retry-After; what a status or body means is the
 * caller's, with the contract schemas of @elink/protocol. Transport failures (TLS,
 * socket, timeout, a reply too large) reject with node's own error, so a caller can tell
 * a certificate failure (its `code`) from an unreachable peer.
 */
import { request as httpsRequest } from 'node:https';
import { request as httpRequest, type Agent } from 'node:http';

export const DEFAULT_JSON_POST_TIMEOUT_MS = 10_000;
export const DEFAULT_JSON_POST_MAX_REPLY_BYTES = 1 << 20;

export interface JsonPostOptions {
  /** PEM CA certificate(s) to trust for https:; default the system's. */
  ca?: string | Buffer;
  /** The whole exchange, connect to last byte. Default 10 s. */
  timeoutMs?: number;
  /** A longer reply is refused (the request destroyed). Default 1 MiB. */
  maxReplyBytes?: number;
  /** Extra request headers (authorization). */
  headers?: Record<string, string>;
  /** The HTTP agent (a proxy's: the client's login through HTTPS_PROXY). */
  agent?: Agent;
}

export interface JsonPostAnswer {
  status: number;
  /** The body parsed as JSON; undefined when it is not JSON (a proxy's HTML page). */
  json: unknown;
  /** The body as text (for messages: cut it before showing it). */
  text: string;
  /** The Retry-After header as sent (parse with parseRetryAfter). */
  retryAfter?: string;
}

/** POSTs `body` as JSON to `url`; resolves with any status, rejects on transport failures. */
export function postJson(url: URL, body: unknown, opts: JsonPostOptions = {}): Promise<JsonPostAnswer> {
  const payload = Buffer.from(JSON.stringify(body), 'utf8');
  const send = url.protocol === 'http:' ? httpRequest : httpsRequest;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_JSON_POST_TIMEOUT_MS;
  const maxBytes = opts.maxReplyBytes ?? DEFAULT_JSON_POST_MAX_REPLY_BYTES;
  return new Promise<JsonPostAnswer>((resolve, reject) => {
    const req = send(
      url,
      { method: 'POST', headers: { ...opts.headers, 'content-type': 'application/json', 'content-length': payload.length }, ca: opts.ca, timeout: timeoutMs, ...(opts.agent ? { agent: opts.agent } : {}) },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const tooLarge = () => new Error(`reply larger than ${maxBytes} bytes`);
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > maxBytes) req.destroy(tooLarge());
          else chunks.push(c);
        });
        res.on('end', () => {
          // A body that arrived whole in one read may still end after the destroy above.
          if (size > maxBytes) return reject(tooLarge());
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          const ra = res.headers['retry-after'];
          resolve({ status: res.statusCode ?? 0, json, text, ...(ra !== undefined ? { retryAfter: Array.isArray(ra) ? ra[0] : ra } : {}) });
        });
        res.on('error', reject);
      },
    );
    // `timeout` is socket inactivity; the deadline below bounds the whole exchange.
    const deadline = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.on('close', () => clearTimeout(deadline));
    req.end(payload);
  });
}

/** Retry-After in seconds (RFC 9110: delay-seconds or an HTTP date); undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  if (/^\d{1,9}$/.test(value.trim())) return Number(value.trim());
  if (!/GMT$/.test(value.trim())) return undefined;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}
