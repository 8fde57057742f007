/**
 * The broker phase: POST /v1/login over HTTPS (through an HTTP proxy if one is set),
 * trusting the operator's CA. The request
 * and reply are the contracts of @elink/protocol (http/login.ts): a reply that does not
 * match is EL_ERR_PROTOCOL naming the field.
 */
import { randomBytes, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { canNameLostNode, ElError, errorBodySchema, isErrorCode, LOST_NODE_HEADER, loginReplySchema, parseReply, signDeviceLogin, type DeviceLoginRequest, type ErrorCode, type LoginReply, type LoginRequest } from '@elink/protocol';
import { parseRetryAfter, postJson, type JsonPostAnswer } from '@elink/transport';
import { certificateFailure, isCertificateFailure } from './certificate-failure.js';
import type { HttpProxy } from './proxy-config.js';
import { proxyRefusal } from './proxy-tunnel.js';

/** An agent for one request through `proxy` (https-proxy-agent: CONNECT, Basic credentials
 * from the URL), and what the proxy answered to its CONNECT, once it has. */
function proxyAgent(proxy: HttpProxy): { agent: HttpsProxyAgent<string>; status(): { statusCode: number; statusMessage: string } | undefined } {
  const agent = new HttpsProxyAgent(proxy.url, { keepAlive: false });
  let answered: { statusCode: number; statusMessage: string } | undefined;
  agent.once('proxyConnect', (res: { statusCode: number; statusText: string }) => {
    answered = { statusCode: res.statusCode, statusMessage: res.statusText };
  });
  return { agent, status: () => answered };
}

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
  /** Reach the broker through this HTTP proxy (CONNECT), already checked against NO_PROXY. */
  proxy?: HttpProxy;
}

/** What the client tells the broker beside the body. */
export interface LoginHints {
  /** The node whose session this client just lost: header EL-Lost-Node, so the broker ranks it
   * last in this reply (a broker that predates the header ignores it). */
  lostNode?: string | undefined;
}

/**
 * Logs in; throws BrokerError with the broker's code (EL_ERR_AUTH, EL_ERR_FORBIDDEN,
 * EL_ERR_RATE_LIMITED with its Retry-After, …), ElError EL_ERR_CERTIFICATE when the
 * broker's certificate is not trusted, EL_ERR_UNAVAILABLE when it cannot be reached,
 * or EL_ERR_PROTOCOL when its reply does not match the contract.
 */
export async function login(brokerUrl: string, body: LoginRequest, trust: HttpsTrust = {}, hints: LoginHints = {}): Promise<LoginReply> {
  return postLogin(new URL('/v1/login', brokerUrl), body, trust, hints);
}

/**
 * A device login (POST /v1/login/device): a fresh ticket for a signature of the device
 * key the broker registered at a password login. Throws as login() does; BrokerError
 * EL_ERR_AUTH means the key is unknown or revoked: log in with the password.
 */
export async function deviceLogin(brokerUrl: string, req: { user: string; device: string; segment?: string | undefined; prefix?: boolean | undefined }, key: KeyObject, trust: HttpsTrust = {}, hints: LoginHints = {}): Promise<LoginReply> {
  const fields = { user: req.user, device: req.device, ...(req.segment !== undefined ? { segment: req.segment } : {}), ...(req.prefix ? { prefix: true } : {}), time: Math.floor(Date.now() / 1000), nonce: randomBytes(16).toString('base64url') };
  const body: DeviceLoginRequest = { ...fields, signature: signDeviceLogin(key, fields) };
  return postLogin(new URL('/v1/login/device', brokerUrl), body, trust, hints);
}

async function postLogin(url: URL, body: LoginRequest | DeviceLoginRequest, trust: HttpsTrust, hints: LoginHints): Promise<LoginReply> {
  const via = trust.proxy ? proxyAgent(trust.proxy) : undefined;
  // A node id the header cannot carry is not named (the broker would ignore it anyway).
  const headers = hints.lostNode !== undefined && canNameLostNode(hints.lostNode) ? { [LOST_NODE_HEADER]: hints.lostNode } : undefined;
  let answer: JsonPostAnswer;
  try {
    answer = await postJson(url, body, { ca: trust.ca, timeoutMs: trust.timeoutMs, ...(via ? { agent: via.agent } : {}), ...(headers ? { headers } : {}) });
  } catch (err) {
    if (via && via.status() === undefined) throw new ElError('EL_ERR_PROXY_UNREACHABLE', `proxy ${trust.proxy!.display} unreachable: ${(err as Error).message}`, { cause: err });
    if (isCertificateFailure(err)) {
      const host = url.hostname.replace(/^\[|\]$/g, '');
      throw await certificateFailure(err, { what: 'broker', host, port: Number(url.port || 443), servername: isIP(host) ? undefined : host, ca: trust.ca });
    }
    throw new ElError('EL_ERR_UNAVAILABLE', `broker ${url.origin} unreachable: ${(err as Error).message}`, { cause: err });
  }
  // The proxy's own refusal comes back as if it were the broker's answer: tell them apart.
  const proxied = via?.status();
  if (proxied !== undefined && (proxied.statusCode < 200 || proxied.statusCode > 299)) throw proxyRefusal(trust.proxy!, `${url.hostname}:${url.port || 443}`, proxied);
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
