/**
 * The broker phase: POST /v1/login over HTTPS, trusting the operator's CA. The request
 * and reply are the contracts of @elink/protocol (http/login.ts): a reply that does not
 * match is EL_ERR_PROTOCOL naming the field.
 */
import { randomBytes, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { ElError, errorBodySchema, isErrorCode, loginReplySchema, parseReply, signDeviceLogin, type DeviceLoginRequest, type ErrorCode, type LoginReply, type LoginRequest } from '@elink/protocol';
import { parseRetryAfter, postJson, type JsonPostAnswer } from '@elink/transport';
import { certificateFailure, isCertificateFailure } from './certificate-failure.js';

export type { LoginReply, LoginRequest, ServerEntry as ServerInfo } from '@elink/protocol';
export { parseRetryAfter } from '@elink/transport';

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

export interface HttpsTrust {
  /** PEM CA certificate(s) to trust; default: the system's. */
  ca?: string | Buffer;
  timeoutMs?: number;
}

/**
 * Logs in; throws BrokerError with the broker's code (EL_ERR_AUTH, EL_ERR_FORBIDDEN,
 * EL_ERR_RATE_LIMITED with its Retry-After, …), ElError EL_ERR_CERTIFICATE when the
 * broker's certificate is not trusted, EL_ERR_UNAVAILABLE when it cannot be reached,
 * or EL_ERR_PROTOCOL when its reply does not match the contract.
 */
export async function login(brokerUrl: string, body: LoginRequest, trust: HttpsTrust = {}): Promise<LoginReply> {
  return postLogin(new URL('/v1/login', brokerUrl), body, trust);
}

/**
 * A device login (POST /v1/login/device): a fresh ticket for a signature of the device
 * key the broker registered at a password login. Throws as login() does; BrokerError
 * EL_ERR_AUTH means the key is unknown or revoked: log in with the password.
 */
export async function deviceLogin(brokerUrl: string, req: { user: string; device: string; segment?: string | undefined; prefix?: boolean | undefined }, key: KeyObject, trust: HttpsTrust = {}): Promise<LoginReply> {
  const fields = { user: req.user, device: req.device, ...(req.segment !== undefined ? { segment: req.segment } : {}), ...(req.prefix ? { prefix: true } : {}), time: Math.floor(Date.now() / 1000), nonce: randomBytes(16).toString('base64url') };
  const body: DeviceLoginRequest = { ...fields, signature: signDeviceLogin(key, fields) };
  return postLogin(new URL('/v1/login/device', brokerUrl), body, trust);
}

async function postLogin(url: URL, body: LoginRequest | DeviceLoginRequest, trust: HttpsTrust): Promise<LoginReply> {
  let answer: JsonPostAnswer;
  try {
    answer = await postJson(url, body, { ca: trust.ca, timeoutMs: trust.timeoutMs });
  } catch (err) {
    if (isCertificateFailure(err)) {
      const host = url.hostname.replace(/^\[|\]$/g, '');
      throw await certificateFailure(err, { what: 'broker', host, port: Number(url.port || 443), servername: isIP(host) ? undefined : host, ca: trust.ca });
    }
    throw new ElError('EL_ERR_UNAVAILABLE', `broker ${url.origin} unreachable: ${(err as Error).message}`, { cause: err });
  }
  const { status, json, retryAfter } = answer;
  // Not JSON: a proxy or load balancer answered (a 502 page), not the broker; try again later.
  if (json === undefined) throw new ElError('EL_ERR_UNAVAILABLE', `broker ${url.origin} answered ${status} with a body that is not JSON`);
  if (status !== 200) {
    // A JSON body without our error shape is taken as a proxy's too: transient.
    const e = errorBodySchema.safeParse(json);
    const code = e.success && isErrorCode(e.data.error) ? e.data.error : 'EL_ERR_UNAVAILABLE';
    throw new BrokerError(code, `broker: ${e.success ? e.data.message : `HTTP ${status}`}`, parseRetryAfter(retryAfter));
  }
  return parseReply(loginReplySchema, json, `the login reply of broker ${url.origin}`);
}
