/**
 * The HTTP proxy: CONNECT tunnels and plain absolute-URI requests (http: only), parsed
 * by node:http (llhttp) with its header size limit and timeouts. The listener's sockets
 * are accepted by ProxyApp (which counts them) and handed in with emit('connection').
 * Upstream failures answer 502 (refused, unreachable, reset) or 504 (timed out).
 */
import { createServer, request, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { pipeline } from 'node:stream';
import type { Logger } from 'pino';
import { basicMatches, type ProxyAuth } from './auth.js';
import { formatAuthority, parseAuthority } from './authority.js';
import { dial, dialFailure, type DialError } from './dial.js';
import { endToEndHeaders } from './hop-by-hop.js';
import type { NetLike } from '@elink/protocol';
import { relay } from './relay.js';
import { SegmentAgent } from './segment-agent.js';

export interface HttpProxyContext {
  net: NetLike;
  auth?: ProxyAuth;
  connectTimeoutMs: number;
  handshakeTimeoutMs: number;
  idleTimeoutMs: number;
  keepAliveTimeoutMs: number;
  maxHeaderSize: number;
  maxConnections: number;
  maxIdleUpstream: number;
  logger: Logger;
}

const REALM = 'Basic realm="elink proxy"';

function statusFor(err: DialError): number {
  return err.kind === 'timeout' ? 504 : 502;
}

function plain(status: number, text: string, extra: Record<string, string> = {}): { head: Record<string, string | number>; body: string } {
  const body = `${text}\n`;
  return { head: { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), ...extra }, body };
}

/** A whole response on a socket that no longer has an HTTP parser (CONNECT, client errors). */
function rawResponse(socket: Socket, status: number, text: string, extra: Record<string, string> = {}): void {
  const { head, body } = plain(status, text, { connection: 'close', ...extra });
  const lines = Object.entries(head).map(([k, v]) => `${k}: ${v}\r\n`);
  if (socket.writable) socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${lines.join('')}\r\n${body}`);
  else socket.destroy();
}

export function createHttpProxy(ctx: HttpProxyContext): { server: Server; close(): void } {
  const agent = new SegmentAgent(ctx.net, ctx.connectTimeoutMs, ctx.keepAliveTimeoutMs, {
    maxSockets: ctx.maxConnections,
    maxTotalSockets: ctx.maxConnections + ctx.maxIdleUpstream,
    maxFreeSockets: ctx.maxIdleUpstream,
  });
  const server = createServer({
    maxHeaderSize: ctx.maxHeaderSize,
    headersTimeout: ctx.handshakeTimeoutMs,
    // A proxied upload may take long; the socket's idle timeout bounds a stalled one.
    requestTimeout: 0,
    keepAliveTimeout: ctx.keepAliveTimeoutMs,
  });
  const log = ctx.logger.child({ via: 'http' });

  // node:http checks headersTimeout only on servers that listen themselves; this one is fed
  // accepted sockets, so the request-head deadline is kept here: armed when a connection
  // opens and after each response (the next head), cleared when a head is complete.
  const headTimers = new WeakMap<Socket, NodeJS.Timeout>();
  const disarmHead = (socket: Socket) => clearTimeout(headTimers.get(socket));
  const armHead = (socket: Socket) => {
    disarmHead(socket);
    const t = setTimeout(() => {
      log.info({ client: socket.remoteAddress }, 'request head not received in time');
      rawResponse(socket, 408, 'request head not received in time');
      setTimeout(() => socket.destroy(), 2000).unref();
    }, ctx.handshakeTimeoutMs);
    t.unref();
    headTimers.set(socket, t);
  };

  server.on('connection', (socket: Socket) => {
    socket.setTimeout(ctx.idleTimeoutMs, () => socket.destroy());
    armHead(socket);
    socket.once('close', () => disarmHead(socket));
  });

  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    disarmHead(socket);
    log.info({ client: socket.remoteAddress, code: err.code, err: err.message }, 'bad request from client');
    if (err.code === 'HPE_HEADER_OVERFLOW') rawResponse(socket, 431, `request head larger than ${ctx.maxHeaderSize} bytes`);
    else if (err.code === 'ECONNRESET' || !socket.writable) socket.destroy();
    else rawResponse(socket, 400, `malformed request (${err.code ?? 'parse error'})`);
  });

  const authorized = (req: IncomingMessage) => !ctx.auth || basicMatches(ctx.auth, req.headers['proxy-authorization']);

  server.on('connect', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    disarmHead(socket);
    const target = parseAuthority(req.url ?? '');
    const client = `${socket.remoteAddress}:${socket.remotePort}`;
    // node:http stops watching the socket's errors once it hands it over for CONNECT.
    socket.on('error', (err) => log.debug({ client, err: err.message }, 'client socket error'));
    if (!authorized(req)) return rawResponse(socket, 407, 'proxy authentication required', { 'proxy-authenticate': REALM });
    if (!target) return rawResponse(socket, 400, `CONNECT needs host:port, got "${req.url}"`);
    const gone = new AbortController();
    const onClose = () => gone.abort();
    socket.once('close', onClose);
    dial(ctx.net, target.host, target.port, ctx.connectTimeoutMs, gone.signal).then(
      (remote) => {
        socket.removeListener('close', onClose);
        if (socket.destroyed) return void remote.destroy();
        log.debug({ client, target: req.url }, 'tunnel open');
        socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        void relay(socket, remote, ctx.idleTimeoutMs, head);
      },
      (e: DialError) => {
        socket.removeListener('close', onClose);
        log.info({ client, target: req.url, kind: e.kind, code: e.code, err: e.message }, 'tunnel failed');
        rawResponse(socket, statusFor(e), `elink proxy: cannot reach ${formatAuthority(target.host, target.port)}: ${e.message}`);
      },
    );
  });

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    disarmHead(req.socket);
    res.once('finish', () => {
      if (!req.socket.destroyed) armHead(req.socket);
    });
    const send = (status: number, text: string, extra?: Record<string, string>) => {
      const { head, body } = plain(status, text, extra);
      res.writeHead(status, head).end(body);
    };
    if (!authorized(req)) return send(407, 'proxy authentication required', { 'proxy-authenticate': REALM });
    let url: URL;
    try {
      url = new URL(req.url ?? '');
    } catch {
      return send(400, `this is a proxy: requests need an absolute http:// URL, got "${req.url}"`);
    }
    if (url.protocol !== 'http:') return send(400, `only http:// URLs are proxied as plain requests (use CONNECT for ${url.protocol})`);
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const port = Number(url.port || 80);
    // The URL's authority is the target (RFC 9112 §3.2.2): Host is set from it.
    const headers = ['Host', url.host, ...endToEndHeaders(req.rawHeaders, ['host'])];
    const proxyReq = request({ agent, host, port, method: req.method, path: `${url.pathname}${url.search}`, headers, setHost: false });
    let answered = false;
    const waitTimer = setTimeout(() => {
      if (answered) return;
      answered = true;
      proxyReq.destroy();
      send(504, `elink proxy: no response from ${url.host} within ${ctx.idleTimeoutMs / 1000} s`);
    }, ctx.idleTimeoutMs);
    proxyReq.on('response', (up) => {
      clearTimeout(waitTimer);
      if (answered) return void up.destroy();
      answered = true;
      res.writeHead(up.statusCode ?? 502, up.statusMessage, endToEndHeaders(up.rawHeaders));
      pipeline(up, res, (err) => {
        if (err) res.destroy();
      });
    });
    proxyReq.on('error', (e) => {
      clearTimeout(waitTimer);
      const err = dialFailure(e);
      log.info({ url: `${url.origin}${url.pathname}`, kind: err.kind, code: err.code, err: err.message }, 'upstream request failed');
      if (answered) return void res.destroy();
      answered = true;
      send(statusFor(err), `elink proxy: cannot reach ${url.host}: ${err.message}`);
    });
    res.on('close', () => {
      clearTimeout(waitTimer);
      if (!res.writableFinished) proxyReq.destroy();
    });
    pipeline(req, proxyReq, (err) => {
      if (err && !answered) proxyReq.destroy();
    });
  });

  return {
    server,
    close: () => {
      agent.destroy();
      server.closeAllConnections();
    },
  };
}
