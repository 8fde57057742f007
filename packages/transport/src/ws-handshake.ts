/**
 * The WebSocket opening handshake (RFC 6455 §4) of EL over WebSocket, both sides, with
 * node:http(s): a GET with Upgrade offering WS_SUBPROTOCOL, answered by 101 with the
 * accept key. No extension is ever negotiated (no permessage-deflate): EL frames are
 * mostly encrypted payload already. What follows the handshake on the socket is framed by
 * ws-frame-reader.ts / WsRecordConn.
 */
import { randomBytes } from 'node:crypto';
import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import type { Duplex } from 'node:stream';
import { ElError } from '@elink/protocol';
import { acceptKey } from './ws-frame.js';

/** The WebSocket subprotocol (Sec-WebSocket-Protocol) of EL version 1. */
export const WS_SUBPROTOCOL = 'el.v1';
/** The path of the upgrade request. */
export const WS_PATH = '/v1/el';

/** node:https request options (TLS ones included: ca, servername, checkServerIdentity,
 * ALPNProtocols, createConnection for a proxy tunnel), plus the handshake's time limit. */
export type WsConnectOptions = Omit<RequestOptions, 'host' | 'hostname' | 'port' | 'path' | 'method' | 'protocol'> &
  Pick<ConnectionOptions, 'ALPNProtocols'> & {
  /** The upgrade must be answered within this (ms); default 10 s. */
  handshakeTimeout?: number;
};

/**
 * Opens `url` (wss:// or ws://) and upgrades, Nagle off on the socket. Resolves with the
 * socket and any bytes read past the 101 response; rejects with the socket's or the TLS
 * error, or an ElError (EL_ERR_PROTOCOL) naming what the server answered instead of an
 * upgrade to WS_SUBPROTOCOL.
 */
export function openWebSocket(url: string, options: WsConnectOptions): Promise<{ socket: Socket; head: Buffer }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const secure = u.protocol === 'wss:';
    if (!secure && u.protocol !== 'ws:') return reject(new ElError('EL_ERR_CONFIG', `${url}: a WebSocket URL starts with wss:// or ws://`));
    const host = u.hostname.replace(/^\[|\]$/g, '');
    const key = randomBytes(16).toString('base64');
    const { handshakeTimeout = 10_000, headers, ...rest } = options;
    // Without the request's `path`, which node:net would take for a Unix socket.
    const connect = secure ? (o: ConnectionOptions) => tlsConnect({ ...o, path: undefined } as ConnectionOptions) : (o: object) => netConnect({ ...o, path: undefined } as never);
    let settled = false;
    const fail = (err: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      reject(err);
    };
    const req: ClientRequest = (secure ? httpsRequest : httpRequest)({
      createConnection: connect as never,
      ...(secure && rest.servername === undefined ? { servername: isIP(host) ? '' : host } : {}),
      ...rest,
      host,
      port: u.port === '' ? (secure ? 443 : 80) : Number(u.port),
      path: u.pathname + u.search,
      method: 'GET',
      headers: { ...headers, connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': key, 'sec-websocket-protocol': WS_SUBPROTOCOL },
    });
    // No Nagle from the start (node applies it once the socket is connected): the upgrade
    // request follows the TLS Finished at once, and a record batch must never wait for an
    // ACK. Also on a socket the caller's createConnection made (a proxy tunnel's).
    req.setNoDelay(true);
    const timer = setTimeout(() => fail(new ElError('EL_ERR_UNAVAILABLE', `${url} did not answer the WebSocket upgrade within ${handshakeTimeout} ms`)), handshakeTimeout);
    req.on('error', fail);
    req.on('response', (res: IncomingMessage) => {
      res.resume();
      fail(new ElError('EL_ERR_PROTOCOL', `${url} answered HTTP ${res.statusCode} instead of a WebSocket upgrade (a node without WebSocket, or a proxy or ingress in between refusing it)`));
    });
    req.on('upgrade', (res: IncomingMessage, socket: Socket, head: Buffer) => {
      if (settled) return void socket.destroy();
      const refuse = (why: string): void => {
        socket.destroy();
        fail(new ElError('EL_ERR_PROTOCOL', `${url}: ${why}`));
      };
      if (String(res.headers.upgrade ?? '').toLowerCase() !== 'websocket') return refuse('the upgrade is not to websocket');
      if (res.headers['sec-websocket-accept'] !== acceptKey(key)) return refuse('wrong Sec-WebSocket-Accept in the upgrade');
      if (res.headers['sec-websocket-protocol'] !== WS_SUBPROTOCOL) return refuse(`did not agree to the WebSocket subprotocol ${WS_SUBPROTOCOL}`);
      if (res.headers['sec-websocket-extensions'] !== undefined) return refuse('the server chose a WebSocket extension that was not offered');
      settled = true;
      clearTimeout(timer);
      resolve({ socket, head });
    });
    req.end();
  });
}

const KEY = /^[+/0-9A-Za-z]{22}==$/;

/**
 * Checks an upgrade request to WS_PATH: method, headers and the subprotocol (any offered
 * extension is declined). Undefined when it may be answered, else why not.
 */
export function checkUpgrade(req: IncomingMessage): 'bad_subprotocol' | 'bad_request' | undefined {
  const h = req.headers;
  if (req.method !== 'GET' || String(h.upgrade ?? '').toLowerCase() !== 'websocket') return 'bad_request';
  const key = h['sec-websocket-key'];
  if (h['sec-websocket-version'] !== '13' || typeof key !== 'string' || !KEY.test(key.trim())) return 'bad_request';
  const offered = String(h['sec-websocket-protocol'] ?? '')
    .split(',')
    .map((p) => p.trim());
  if (!offered.includes(WS_SUBPROTOCOL)) return 'bad_subprotocol';
  return undefined;
}

/** Writes the 101 answer to a request checkUpgrade() passed: from here on, frames. */
export function answerUpgrade(req: IncomingMessage, socket: Duplex): void {
  const key = String(req.headers['sec-websocket-key']).trim();
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey(key)}\r\nSec-WebSocket-Protocol: ${WS_SUBPROTOCOL}\r\n\r\n`);
}
