/**
 * An http.Agent whose connections go through the NetLike: plain HTTP requests of the
 * proxy reuse upstream connections (keep-alive) within a bounded pool. The Agent's own
 * keep-alive hooks call ref()/unref()/setTimeout(), which only node:net sockets have;
 * these overrides use what NetLikeSocket offers and close an idle pooled connection
 * after `idleMs` with a timer of their own.
 */
import { Agent, type AgentOptions, type ClientRequest } from 'node:http';
import type { Duplex } from 'node:stream';
import { dial } from './dial.js';
import type { NetLike, NetLikeSocket } from './net-like.js';

export class SegmentAgent extends Agent {
  private readonly idleTimers = new WeakMap<Duplex, NodeJS.Timeout>();

  constructor(
    private readonly net: NetLike,
    private readonly connectTimeoutMs: number,
    private readonly idleMs: number,
    options: AgentOptions,
  ) {
    super({ ...options, keepAlive: true });
  }

  override createConnection(options: { host?: string | null; port?: number | string | null }, cb: (err: Error | null, socket?: Duplex) => void): undefined {
    dial(this.net, options.host ?? 'localhost', Number(options.port ?? 80), this.connectTimeoutMs).then(
      (s) => cb(null, s),
      (e: Error) => cb(e),
    );
    return undefined;
  }

  override keepSocketAlive(socket: Duplex): boolean {
    (socket as NetLikeSocket).setKeepAlive(true, 1000);
    const t = setTimeout(() => socket.destroy(), this.idleMs);
    t.unref();
    this.idleTimers.set(socket, t);
    return true;
  }

  override reuseSocket(socket: Duplex, req: ClientRequest): void {
    clearTimeout(this.idleTimers.get(socket));
    this.idleTimers.delete(socket);
    req.reusedSocket = true;
  }
}
