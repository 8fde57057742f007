/**
 * The broker phase: POST /v1/login over HTTPS, trusting the operator's CA.
 */
import { request } from 'node:https';
import { request as httpRequest } from 'node:http';
import { isIP } from 'node:net';
import { ElError, isErrorCode, type ErrorCode } from '@elink/protocol';
import { certificateFailure, isCertificateFailure } from './certificate-failure.js';

export interface LoginRequest {
  user: string;
  password: string;
  segment?: string;
  device?: string;
  /** Ask for a delegated prefix (L3): the client routes a LAN behind it. */
  prefix?: boolean;
  /** The remember token of this device's last login: passes the broker's user-wide failure limit. */
  remember?: string;
}

export interface ServerInfo {
  node: string;
  host: string;
  port: number;
  /** SHA-256 fingerprint of the node's certificate (AA:BB:… as node:tls reports it): pinned when present. */
  fingerprint?: string;
}

export interface LoginReply {
  ticket: string;
  expiresAt: string;
  servers: ServerInfo[];
  segment: string;
  mode: 'l2' | 'l3';
  mac?: string;
  ipv4?: string;
  ipv6?: string;
  /** Delegated prefixes, when asked for and the segment delegates. */
  prefix?: string;
  prefix4?: string;
  /** Send with this device's next logins (see LoginRequest.remember). */
  remember?: string;
}

/** A refusal from the broker; `retryAfterSeconds` when it said how long to wait (429 Retry-After). */
export class BrokerError extends ElError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(code, message);
  }
}

/** Retry-After in seconds (RFC 9110: delay-seconds or an HTTP date); undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  if (/^\d{1,9}$/.test(value.trim())) return Number(value.trim());
  if (!/GMT$/.test(value.trim())) return undefined;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}

export interface HttpsTrust {
  /** PEM CA certificate(s) to trust; default: the system's. */
  ca?: string | Buffer;
  timeoutMs?: number;
}

/**
 * Logs in; throws BrokerError with the broker's code (EL_ERR_AUTH, EL_ERR_FORBIDDEN,
 * EL_ERR_RATE_LIMITED with its Retry-After, …), ElError EL_ERR_CERTIFICATE when the
 * broker's certificate is not trusted, or EL_ERR_UNAVAILABLE when it cannot be reached.
 */
export async function login(brokerUrl: string, body: LoginRequest, trust: HttpsTrust = {}): Promise<LoginReply> {
  const url = new URL('/v1/login', brokerUrl);
  let answer: HttpAnswer;
  try {
    answer = await post(url, Buffer.from(JSON.stringify(body)), trust);
  } catch (err) {
    if (isCertificateFailure(err)) {
      const host = url.hostname.replace(/^\[|\]$/g, '');
      throw await certificateFailure(err, { what: 'broker', host, port: Number(url.port || 443), servername: isIP(host) ? undefined : host, ca: trust.ca });
    }
    throw new ElError('EL_ERR_UNAVAILABLE', `broker ${url.origin} unreachable: ${(err as Error).message}`, { cause: err });
  }
  const { status, text, retryAfter } = answer;

  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ElError('EL_ERR_UNAVAILABLE', `broker ${url.origin} answered ${status} with a body that is not JSON`);
  }
  if (status !== 200) {
    const e = json as { error?: unknown; message?: unknown };
    const code = isErrorCode(e.error) ? e.error : 'EL_ERR_UNAVAILABLE';
    throw new BrokerError(code, `broker: ${typeof e.message === 'string' ? e.message : `HTTP ${status}`}`, parseRetryAfter(retryAfter));
  }
  const reply = json as LoginReply;
  if (typeof reply.ticket !== 'string' || !Array.isArray(reply.servers)) {
    throw new ElError('EL_ERR_UNAVAILABLE', 'broker reply lacks ticket or servers');
  }
  return reply;
}

interface HttpAnswer {
  status: number;
  text: string;
  retryAfter?: string;
}

/** POSTs JSON; rejects with the transport's own error (TLS, socket, timeout). */
function post(url: URL, payload: Buffer, trust: HttpsTrust): Promise<HttpAnswer> {
  const send = url.protocol === 'http:' ? httpRequest : request;
  return new Promise<HttpAnswer>((resolve, reject) => {
    const req = send(
      url,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': payload.length },
        ca: trust.ca,
        timeout: trust.timeoutMs ?? 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > 1 << 20) req.destroy(new Error('reply larger than 1 MiB'));
          else chunks.push(c);
        });
        const ra = res.headers['retry-after'];
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), retryAfter: Array.isArray(ra) ? ra[0] : ra }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(payload);
  });
}
