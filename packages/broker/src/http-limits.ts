/**
 * Deadlines for the connections of an HTTP(S) listener (the broker's API, a process's
 * admin port). Every connection there is unauthenticated until its request is handled,
 * so a stranger must not hold one open for long: TLS handshake, request headers (from
 * the connection or the last response), receiving the whole request (body included),
 * and the keep-alive wait between requests each have a short deadline. None of them
 * runs while a handler works (a login waiting for scrypt or the store is not idle).
 * Node checks the header and request deadlines every `connectionsCheckingInterval`, so
 * that is set to a fraction of them.
 */
import type { ServerOptions as HttpServerOptions } from 'node:http';
import type { ServerOptions as HttpsServerOptions } from 'node:https';

export interface HttpLimits {
  /** TLS handshake (HTTPS only). */
  handshakeTimeoutMs: number;
  /** From the connection (or the end of the last request) to the end of the headers. */
  headersTimeoutMs: number;
  /** Receiving the whole request, body included. */
  requestTimeoutMs: number;
  /** The keep-alive wait for the next request. */
  idleTimeoutMs: number;
}

export const DEFAULT_HTTP_LIMITS: Readonly<HttpLimits> = { handshakeTimeoutMs: 10_000, headersTimeoutMs: 10_000, requestTimeoutMs: 15_000, idleTimeoutMs: 5000 };

/** The fastify options that apply `limits` (and serve HTTPS with `https` when given). */
export interface HttpServerLimitOptions {
  /** For fastify({ https }): null = plain HTTP. */
  https: HttpsServerOptions | null;
  /** For fastify({ http }) (plain HTTP). */
  http: HttpServerOptions;
  /** 0: no socket inactivity timeout, which would also cut requests a handler is still working on. */
  connectionTimeout: number;
  keepAliveTimeout: number;
  requestTimeout: number;
}

export function httpServerOptions(limits: Partial<HttpLimits> = {}, https?: { cert: string | Buffer; key: string | Buffer }): HttpServerLimitOptions {
  const l = { ...DEFAULT_HTTP_LIMITS, ...limits };
  // node refuses a header deadline longer than the request deadline.
  const headersTimeout = Math.min(l.headersTimeoutMs, l.requestTimeoutMs);
  const server = { headersTimeout, requestTimeout: l.requestTimeoutMs, keepAliveTimeout: l.idleTimeoutMs, connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(headersTimeout / 4))) };
  return {
    https: https ? { cert: https.cert, key: https.key, handshakeTimeout: l.handshakeTimeoutMs, ...server } : null,
    http: server,
    connectionTimeout: 0,
    keepAliveTimeout: l.idleTimeoutMs,
    requestTimeout: l.requestTimeoutMs,
  };
}
