/**
 * `elink proxy` without the session: the HTTP proxy, the SOCKS5 server and the port
 * forwards over a NetLike (the segment). Local listeners are node:net; -R listeners are
 * the NetLike's. One ConnectionGate bounds the client connections of all of them.
 */
import * as nodeNet from 'node:net';
import type { Server, Socket } from 'node:net';
import { ElError } from '@elink/protocol';
import type { Logger } from 'pino';
import type { ProxyAuth } from './auth.js';
import { formatAuthority } from './authority.js';
import { PROXY_DEFAULTS, type ProxyLimits } from './defaults.js';
import type { ForwardSpec } from './forward-spec.js';
import { forwardLocal, forwardRemote } from './forwards.js';
import { ConnectionGate } from './gate.js';
import { createHttpProxy } from './http-proxy.js';
import type { NetLike, NetLikeServer, NetLikeSocket } from '@elink/protocol';
import { handleSocks5 } from './socks5-server.js';

export interface ProxyAppOptions {
  /** The segment: where the proxied connections and -L's go, and where -R listens. */
  net: NetLike;
  http?: { host: string; port: number };
  socks?: { host: string; port: number };
  local?: ForwardSpec[];
  remote?: ForwardSpec[];
  /** Required of HTTP (Proxy-Authorization: Basic) and SOCKS5 (RFC 1929) clients when set. */
  auth?: ProxyAuth;
  limits?: Partial<ProxyLimits>;
  logger: Logger;
}

export interface BoundListener {
  kind: 'http' | 'socks' | '-L' | '-R';
  address: string;
  port: number;
  /** For forwards: where connections go. */
  target?: string;
}

/** The listeners by the name their metrics give them. */
export type ProxyListener = 'http' | 'socks' | 'local' | 'remote';
const LISTENER: Record<BoundListener['kind'], ProxyListener> = { http: 'http', socks: 'socks', '-L': 'local', '-R': 'remote' };

/** Client connections since start, per listener: taken, or turned away over maxConnections. */
export interface ProxyStats {
  open: number;
  accepted: Record<ProxyListener, number>;
  refused: Record<ProxyListener, number>;
}

const BUSY_BODY = 'elink proxy: too many connections, retry later\n';
const BUSY_RESPONSE = `HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\nconnection: close\r\nretry-after: 1\r\ncontent-length: ${BUSY_BODY.length}\r\n\r\n${BUSY_BODY}`;

export class ProxyApp {
  readonly limits: ProxyLimits;
  private readonly gate: ConnectionGate;
  private readonly servers: { close(cb?: (err?: Error) => void): unknown }[] = [];
  private http?: ReturnType<typeof createHttpProxy>;
  private readonly accepted: Record<ProxyListener, number> = { http: 0, socks: 0, local: 0, remote: 0 };
  private readonly refused: Record<ProxyListener, number> = { http: 0, socks: 0, local: 0, remote: 0 };

  constructor(private readonly o: ProxyAppOptions) {
    this.limits = { ...PROXY_DEFAULTS, ...o.limits };
    this.gate = new ConnectionGate(this.limits.maxConnections);
  }

  get connections(): number {
    return this.gate.size;
  }

  /** For the client's metrics (el_proxy_*): copies, read when scraped. */
  get stats(): ProxyStats {
    return { open: this.gate.size, accepted: { ...this.accepted }, refused: { ...this.refused } };
  }

  /** Counts the connection at its listener; true when the gate let it in. */
  private admit(kind: BoundListener['kind'], socket: Socket | NetLikeSocket): boolean {
    const ok = this.gate.enter(socket);
    (ok ? this.accepted : this.refused)[LISTENER[kind]]++;
    return ok;
  }

  /** Binds every listener; rejects with EL_ERR_LISTEN (and closes what was bound) if one cannot. */
  async start(): Promise<BoundListener[]> {
    const l = this.limits;
    const log = this.o.logger;
    const ms = (s: number) => s * 1000;
    const bound: BoundListener[] = [];
    try {
      if (this.o.http) {
        const http = createHttpProxy({
          net: this.o.net,
          ...(this.o.auth ? { auth: this.o.auth } : {}),
          connectTimeoutMs: ms(l.connectTimeout),
          handshakeTimeoutMs: ms(l.handshakeTimeout),
          idleTimeoutMs: ms(l.idleTimeout),
          keepAliveTimeoutMs: ms(l.keepAliveTimeout),
          maxHeaderSize: l.maxHeaderSize,
          maxConnections: l.maxConnections,
          maxIdleUpstream: l.maxIdleUpstream,
          logger: log,
        });
        this.http = http;
        bound.push(await this.listenLocal('http', '--http', this.o.http, (s) => http.server.emit('connection', s), (s) => {
            // Not counted, so not left to a client that never closes: gone 2 s after the answer.
            s.end(BUSY_RESPONSE);
            s.setTimeout(2000, () => s.destroy());
          }));
      }
      if (this.o.socks) {
        const ctx = {
          net: this.o.net,
          ...(this.o.auth ? { auth: this.o.auth } : {}),
          connectTimeoutMs: ms(l.connectTimeout),
          handshakeTimeoutMs: ms(l.handshakeTimeout),
          idleTimeoutMs: ms(l.idleTimeout),
          logger: log,
        };
        // Over the limit a SOCKS5 client is closed before its greeting: there is no reply for that.
        bound.push(await this.listenLocal('socks', '--socks', this.o.socks, (s) => handleSocks5(s, ctx), (s) => s.destroy()));
      }
      const fctx = { connectTimeoutMs: ms(l.connectTimeout), idleTimeoutMs: ms(l.idleTimeout), logger: log };
      for (const spec of this.o.local ?? []) {
        const b = await this.listenLocal('-L', '-L', { host: spec.bind ?? '127.0.0.1', port: spec.port }, (s) => forwardLocal(s, spec, this.o.net, fctx), (s) => s.destroy());
        bound.push({ ...b, target: formatAuthority(spec.host, spec.hostPort) });
      }
      for (const spec of this.o.remote ?? []) {
        const b = await this.listenSegment(spec, (s) => forwardRemote(s, spec, fctx));
        bound.push({ ...b, target: formatAuthority(spec.host, spec.hostPort) });
      }
    } catch (e) {
      await this.close();
      throw e;
    }
    for (const b of bound) log.info(b, 'listening');
    return bound;
  }

  private listenLocal(kind: BoundListener['kind'], flag: string, at: { host: string; port: number }, accept: (s: Socket) => void, refuse: (s: Socket) => void): Promise<BoundListener> {
    const server: Server = nodeNet.createServer({ allowHalfOpen: true }, (socket) => {
      if (this.admit(kind, socket)) return accept(socket);
      this.o.logger.warn({ listener: kind, max: this.limits.maxConnections, client: socket.remoteAddress }, 'connection refused: too many connections');
      socket.on('error', () => undefined);
      refuse(socket);
    });
    this.servers.push(server);
    return new Promise((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(new ElError('EL_ERR_LISTEN', `cannot listen on ${formatAuthority(at.host, at.port)} for ${flag} (${err.code ?? err.message}): choose another address or port`, { cause: err })),
      );
      server.listen(at.port, at.host, () => {
        server.removeAllListeners('error');
        server.on('error', (err) => this.o.logger.error({ listener: kind, err: err.message }, 'listener error'));
        const a = server.address() as nodeNet.AddressInfo;
        resolve({ kind, address: a.address, port: a.port });
      });
    });
  }

  private listenSegment(spec: ForwardSpec, accept: (s: NetLikeSocket) => void): Promise<BoundListener> {
    const server: NetLikeServer = this.o.net.createServer();
    server.on('connection', (socket) => {
      if (this.admit('-R', socket)) return accept(socket);
      this.o.logger.warn({ listener: '-R', max: this.limits.maxConnections, client: socket.remoteAddress }, 'connection refused: too many connections');
      socket.on('error', () => undefined);
      socket.destroy();
    });
    this.servers.push(server);
    return new Promise((resolve, reject) => {
      let listening = false;
      server.on('error', (err: NodeJS.ErrnoException) => {
        if (listening) return void this.o.logger.error({ listener: '-R', err: err.message }, 'listener error');
        reject(new ElError('EL_ERR_LISTEN', `cannot listen on the segment at ${formatAuthority(spec.bind ?? '*', spec.port)} for -R (${err.code ?? err.message}): choose another port`, { cause: err }));
      });
      server.listen(spec.port, spec.bind, () => {
        listening = true;
        const a = server.address();
        resolve(typeof a === 'object' && a ? { kind: '-R', address: a.address, port: a.port } : { kind: '-R', address: String(a ?? spec.bind ?? ''), port: spec.port });
      });
    });
  }

  /** Stops listening and closes every connection. */
  async close(): Promise<void> {
    const servers = this.servers.splice(0);
    // close() calls back once the server's connections are gone: stop accepting, then end them.
    const closed = Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    this.http?.close();
    this.gate.destroyAll();
    await closed;
  }
}
