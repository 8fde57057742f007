/**
 * A listening TCP socket on the stack, as node:net's Server: listen(port, host?, cb),
 * 'connection' (StackSocket), 'listening', 'close', 'error', address(), close(cb),
 * maxConnections. Connections beyond the stack's limit or this server's backlog are
 * reset by lwIP as they complete the handshake; half-open ones (a SYN flood) take only
 * lwIP's fixed pcb pool and time out there.
 */
import { EventEmitter } from 'node:events';
import { isIP } from 'node:net';
import type { NetStack } from './net-stack.js';
import { netError, StackSocket, type SocketAddress } from './tcp-socket.js';
import type { NetLikeServer, NetLikeSocket } from '@elink/protocol';

export interface StackServerOptions {
  allowHalfOpen?: boolean;
}

export class StackServer extends EventEmitter implements NetLikeServer {
  private id = 0;
  private local: SocketAddress | undefined;
  private readonly connections = new Set<StackSocket>();
  /** Accepted by lwIP, 'connection' not yet emitted. */
  private readonly adopted = new Map<number, StackSocket>();
  private closing = false;
  private closeCallbacks: ((err?: Error) => void)[] = [];
  /** As node:net: connections beyond this many are refused (reset). */
  maxConnections = Infinity;

  constructor(
    private readonly stack: NetStack,
    private readonly opts: StackServerOptions = {},
    onConnection?: (s: StackSocket) => void,
  ) {
    super();
    if (onConnection) this.on('connection', onConnection);
  }

  get listening(): boolean {
    return this.id !== 0;
  }

  /** listen(port, host?, cb?) or listen(port, cb?) or listen({ port, host }, cb?). Host
   * absent or '::': both families; '0.0.0.0': IPv4 only; an address: that address. */
  listen(port: number | { port?: number; host?: string }, host?: string | (() => void), cb?: () => void): this {
    if (typeof port === 'object') {
      cb = typeof host === 'function' ? host : cb;
      host = port.host;
      port = port.port ?? 0;
    }
    if (typeof host === 'function') {
      cb = host;
      host = undefined;
    }
    if (cb) this.once('listening', cb);
    const h = host;
    const fail = (e: Error) => process.nextTick(() => this.emit('error', e));
    if (this.id !== 0) {
      fail(netError('EINVAL', 'listen', 'the server is already listening'));
      return this;
    }
    if (this.stack.listeners.size >= this.stack.limits.maxListeners) {
      fail(netError('EMFILE', 'listen', `(the stack's listener limit, ${this.stack.limits.maxListeners})`));
      return this;
    }
    const any = h === undefined || h === '' || h === '::';
    const family: 0 | 4 | 6 = any ? 0 : h === '0.0.0.0' ? 4 : (isIP(h) as 0 | 4 | 6);
    if (!any && family === 0) {
      fail(netError('EINVAL', 'listen', `${h}: not an IP address`));
      return this;
    }
    const x = this.stack.lwip.x;
    const pcb = x.el_tcp_new(family);
    if (pcb === 0) {
      fail(netError('ENOBUFS', 'listen', '(lwIP has no free pcb)'));
      return this;
    }
    this.stack.lwip.writeAddr(h === '0.0.0.0' ? 4 : family, h === '0.0.0.0' ? '0.0.0.0' : h, port);
    if (x.el_tcp_bind(pcb) !== 0) {
      x.el_tcp_abort(pcb);
      fail(netError('EADDRINUSE', 'listen', `${h ?? '::'}:${port}`));
      return this;
    }
    const id = x.el_tcp_listen(pcb, Math.min(255, this.stack.limits.acceptBacklog));
    if (id === 0) {
      x.el_tcp_abort(pcb);
      fail(netError('ENOBUFS', 'listen', '(lwIP has no free listening pcb)'));
      return this;
    }
    this.id = id;
    this.stack.listeners.set(id, this);
    x.el_tcp_addr(id, 0);
    const a = this.stack.lwip.readAddr();
    this.local = { address: any ? '::' : a.address, family: any || a.family === 6 ? 'IPv6' : 'IPv4', port: a.port };
    process.nextTick(() => this.emit('listening'));
    return this;
  }

  /** Whether lwIP should reset the next connection instead (checked as it is accepted). */
  get full(): boolean {
    return this.closing || this.connections.size + this.adopted.size >= this.maxConnections || this.adopted.size >= this.stack.limits.acceptBacklog;
  }

  /** lwIP accepted `id` (inside lwIP: only JavaScript state here). */
  adopt(id: number): void {
    const s = new StackSocket(this.stack, { allowHalfOpen: this.opts.allowHalfOpen });
    s.adopt(id);
    this.adopted.set(id, s);
  }

  /** After lwIP returned: the socket is the application's now. */
  onAccepted(id: number): void {
    const s = this.adopted.get(id);
    if (!s) return;
    this.adopted.delete(id);
    if (s.destroyed) return;
    s.readAddresses();
    this.connections.add(s);
    s.once('close', () => {
      this.connections.delete(s);
      this.maybeClosed();
    });
    this.emit('connection', s as NetLikeSocket);
  }

  address(): SocketAddress | null {
    return this.id !== 0 ? (this.local ?? null) : null;
  }

  /** Stops accepting; 'close' (and cb) once the last connection has closed, as node:net. */
  close(cb?: (err?: Error) => void): this {
    if (this.id === 0 && !this.closing) {
      if (cb) process.nextTick(() => cb(netError('ENOTCONN', 'close', 'the server is not running') as Error));
      return this;
    }
    if (cb) this.closeCallbacks.push(cb);
    if (this.id !== 0) {
      this.stack.listeners.delete(this.id);
      this.stack.lwip.x.el_tcp_close(this.id);
      this.id = 0;
      this.stack.kick();
    }
    this.closing = true;
    for (const s of this.adopted.values()) s.destroy();
    this.adopted.clear();
    this.maybeClosed();
    return this;
  }

  private maybeClosed(): void {
    if (!this.closing || this.connections.size > 0) return;
    this.closing = false;
    const cbs = this.closeCallbacks;
    this.closeCallbacks = [];
    process.nextTick(() => {
      for (const cb of cbs) cb();
      this.emit('close');
    });
  }

  getConnections(cb: (err: Error | null, count: number) => void): this {
    process.nextTick(() => cb(null, this.connections.size));
    return this;
  }

  ref(): this {
    return this;
  }

  unref(): this {
    return this;
  }
}
