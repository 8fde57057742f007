/**
 * A TCP tunnel through an HTTP proxy (RFC 9110 §9.3.6 CONNECT), for both transports to a
 * switch node: the socket it gives is handed to tls.connect({ socket }). Node's own HTTP
 * client speaks the CONNECT exchange; what the proxy answers becomes a coded error a
 * user can act on: 407 (or 401) EL_ERR_PROXY_AUTH (permanent: the credentials are wrong
 * or missing), any other refusal (403 by policy, 5xx such as 502 when it cannot reach
 * the node) EL_ERR_PROXY_REFUSED, and no proxy to talk to EL_ERR_PROXY_UNREACHABLE.
 */
import { request, type IncomingMessage } from 'node:http';
import { isIPv6, type Socket } from 'node:net';
import { ElError } from '@elink/protocol';
import type { HttpProxy } from './proxy-config.js';

/** "host:port" as a request target (IPv6 in brackets). */
export function authority(host: string, port: number): string {
  return `${isIPv6(host) ? `[${host}]` : host}:${port}`;
}

/** The error for a proxy's refusal of CONNECT `target`. */
export function proxyRefusal(proxy: HttpProxy, target: string, res: Pick<IncomingMessage, 'statusCode' | 'statusMessage'>): ElError {
  const status = `${res.statusCode} ${res.statusMessage ?? ''}`.trim();
  // 401: some proxies (tinyproxy) answer a CONNECT's missing or wrong credentials so.
  if (res.statusCode === 407 || res.statusCode === 401) {
    return new ElError(
      'EL_ERR_PROXY_AUTH',
      proxy.authorization
        ? `proxy ${proxy.display} refused the credentials for CONNECT ${target} (${status}): check the user and password in the proxy URL (--proxy or HTTPS_PROXY)`
        : `proxy ${proxy.display} requires authentication for CONNECT ${target} (${status}): give http://user:password@host:port in --proxy or HTTPS_PROXY`,
    );
  }
  const why =
    res.statusCode === 403
      ? 'its policy does not allow this destination or port (ask its operator, or add the host to NO_PROXY if it is reachable directly)'
      : res.statusCode !== undefined && res.statusCode >= 500
        ? 'it could not reach the destination (is the node up, and reachable from the proxy?)'
        : 'it refused the tunnel';
  return new ElError('EL_ERR_PROXY_REFUSED', `proxy ${proxy.display} answered CONNECT ${target} with ${status}: ${why}`);
}

/** Opens a tunnel to `host`:`port` through `proxy`; rejects with EL_ERR_PROXY_* within `timeoutMs`. */
export function openTunnel(proxy: HttpProxy, host: string, port: number, timeoutMs: number): Promise<Socket> {
  const target = authority(host, port);
  return new Promise((resolve, reject) => {
    const req = request({
      host: proxy.host,
      port: proxy.port,
      method: 'CONNECT',
      path: target,
      agent: false,
      headers: { host: target, ...(proxy.authorization ? { 'proxy-authorization': proxy.authorization } : {}) },
    });
    const timer = setTimeout(() => req.destroy(new ElError('EL_ERR_PROXY_UNREACHABLE', `proxy ${proxy.display} did not open a tunnel to ${target} within ${timeoutMs} ms`)), timeoutMs);
    req.once('connect', (res: IncomingMessage, socket: Socket, head: Buffer) => {
      clearTimeout(timer);
      if (res.statusCode === undefined || res.statusCode < 200 || res.statusCode > 299) {
        socket.destroy();
        return reject(proxyRefusal(proxy, target, res));
      }
      // Bytes after the proxy's answer already belong to the tunnel (the server's first TLS bytes).
      if (head.length > 0) socket.unshift(head);
      socket.setNoDelay(true);
      resolve(socket);
    });
    // A proxy that answers CONNECT with an ordinary response (and a body) is a refusal too.
    req.once('response', (res: IncomingMessage) => {
      clearTimeout(timer);
      res.resume();
      req.destroy();
      reject(proxyRefusal(proxy, target, res));
    });
    req.once('error', (err: Error) => {
      clearTimeout(timer);
      reject(err instanceof ElError ? err : new ElError('EL_ERR_PROXY_UNREACHABLE', `proxy ${proxy.display} unreachable: ${err.message}`, { cause: err }));
    });
    req.end();
  });
}
