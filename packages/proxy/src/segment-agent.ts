/**
 * An http.Agent whose connections go through the NetLike: plain HTTP requests of the
 * proxy reuse upstream connections (keep-alive) within a bounded pool. The Agent's own
 * keepSocketAlive() calls unref()/setTimeout(), which only node:net sockets have: this
 * one closes an idle pooled connection with a timer of its own, before the usual 5 s
 * server keep-alive timeout, so a request rarely meets a connection the server is closing.
 */
import { Agent, type AgentOptions, type ClientRequest } from 'node:http';
import type { Duplex } from 'node:stream';
import { dial } from './dial.js';
import type { NetLike, NetLikeSocket } from '@elink/protocol';

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
    const t = setTimeout(() => socket.destroy(), Math.max(1000, this.idleMs - 1000));
    t.unref();
    this.idleTimers.set(socket, t);
    return true;
  }

  override reuseSocket(socket: Duplex, req: ClientRequest): void {
    clearTimeout(this.idleTimers.get(socket));
    this.idleTimers.delete(socket);
    // The base class removes its guards against reads on a free socket, then calls ref(),
    // which a NetLike socket need not have (it holds no event-loop handle of its own).
    const s = socket as Duplex & { ref?: () => unknown };
    if (typeof s.ref !== 'function') s.ref = () => s;
    super.reuseSocket(socket, req);
  }
}
