/**
 * Admission for one listener (switch TLS, broker HTTPS, admin HTTP), decided at TCP
 * accept before any TLS or HTTP state exists:
 *
 *   descriptors low (FdBudget)          → shed  (reason fd_limit; logged once per episode)
 *   per-source accept rate exceeded     → shed  (accept_rate_per_source)
 *   per-source pending connections full → shed  (pending_per_source)
 *   listener accept rate exceeded       → shed  (accept_rate)
 *   listener pending connections full   → shed  (pending)
 *
 * A connection is "pending" until the listener calls authenticated() (the switch: at
 * welcome); HTTP listeners never do, so there every open connection counts. Checks that
 * only concern one source come first, so one noisy source does not use up the tokens of
 * the listener as a whole. A source is an IPv4 address or an IPv6 /64. Refusals are
 * counted in el_listener_connections_refused_total and logged through an EventSummary.
 */
import type { Server, Socket } from 'node:net';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { EventSummary } from './event-summary.js';
import type { FdBudget } from './fd-budget.js';
import { parseAddress } from '../core/l3/ip.js';

export interface ConnectionLimits {
  /** Unauthenticated connections open on this listener. */
  pending: number;
  /** Unauthenticated connections open from one source address. */
  pendingPerSource: number;
  /** New connections per second on this listener (the burst is one second's worth). */
  acceptRate: number;
  /** New connections per second from one source address. */
  acceptRatePerSource: number;
}

export const DEFAULT_CONNECTION_LIMITS: Readonly<ConnectionLimits> = { pending: 1024, pendingPerSource: 32, acceptRate: 500, acceptRatePerSource: 50 };

/** Sources with a rate bucket; beyond it the least recently seen is forgotten (it then starts full). */
const MAX_SOURCES = 65_536;

export type RefusalReason = 'fd_limit' | 'accept_rate_per_source' | 'pending_per_source' | 'accept_rate' | 'pending';

export interface ConnectionGuardOptions {
  /** Listener name for logs and metric labels: switch, broker, admin. */
  listener: string;
  limits?: Partial<ConnectionLimits>;
  fds?: FdBudget;
  logger: Logger;
  registry?: Registry;
  /** Connections of this listener that may use the fd reserve (the admin port: probes and scrapes still answer). Default 0. */
  reserveShare?: number;
  /** Summary log interval. */
  logIntervalMs?: number;
  /** Milliseconds (monotonic enough); a parameter for tests. */
  now?: () => number;
}

/** "1.2.3.4" → itself; IPv4-mapped IPv6 → the IPv4; other IPv6 → its /64. */
export function sourceOf(address: string | undefined): string {
  if (!address) return '?';
  const a = address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
  const parsed = parseAddress(a);
  if (!parsed || parsed.family === 4) return a;
  const [w0, w1] = parsed.words;
  return `${w0!.toString(16)}:${w1!.toString(16)}::/64`;
}

class TokenBucket {
  tokens: number;
  constructor(
    private readonly rate: number,
    public at: number,
  ) {
    this.tokens = rate;
  }
  take(now: number): boolean {
    this.tokens = Math.min(this.rate, this.tokens + ((now - this.at) / 1000) * this.rate);
    this.at = now;
    if (this.tokens < 1) return false;
    this.tokens--;
    return true;
  }
}

interface Metrics {
  refused: Counter<'listener' | 'reason'>;
  pending: Gauge<'listener'>;
}

function metricsIn(registry: Registry): Metrics {
  const refused =
    (registry.getSingleMetric('el_listener_connections_refused_total') as Counter<'listener' | 'reason'> | undefined) ??
    new Counter({ name: 'el_listener_connections_refused_total', help: 'New connections closed at accept, by listener and reason', labelNames: ['listener', 'reason'], registers: [registry] });
  const pending =
    (registry.getSingleMetric('el_listener_pending_connections') as Gauge<'listener'> | undefined) ??
    new Gauge({ name: 'el_listener_pending_connections', help: 'Connections not yet authenticated (HTTP listeners: all open ones), by listener', labelNames: ['listener'], registers: [registry] });
  return { refused, pending };
}

export class ConnectionGuard {
  readonly limits: ConnectionLimits;
  readonly refused: Record<RefusalReason, number> = { fd_limit: 0, accept_rate_per_source: 0, pending_per_source: 0, accept_rate: 0, pending: 0 };
  private readonly summary: EventSummary;
  private readonly perSource = new Map<string, number>();
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly total: TokenBucket;
  /** Pending connections, each with its "address|port" key and source (readmit() moves both to the real source). */
  private readonly pendingSockets = new Map<Socket, { key: string; source: string }>();
  /** "address|port" → the newest pending socket with it (what authenticated() names). Two
   * connections can share a key (one client port to two load balancers' addresses); each
   * socket still leaves the count exactly once. */
  private readonly byKey = new Map<string, Socket>();
  private readonly metrics: Metrics | undefined;
  private readonly now: () => number;
  private shedding = false;
  /** Connections admitted and still open; admitted in all. */
  open = 0;
  admitted = 0;

  constructor(private readonly opts: ConnectionGuardOptions) {
    this.limits = { ...DEFAULT_CONNECTION_LIMITS, ...opts.limits };
    this.now = opts.now ?? Date.now;
    this.total = new TokenBucket(this.limits.acceptRate, this.now());
    this.summary = new EventSummary({ logger: opts.logger, message: `${opts.listener}: connections refused at accept`, intervalMs: opts.logIntervalMs, sample: 0 });
    if (opts.registry) this.metrics = metricsIn(opts.registry);
  }

  /** Connections not yet authenticated. */
  get pending(): number {
    return this.pendingSockets.size;
  }

  /**
   * Runs admission first on every new connection of `server` (before TLS or HTTP see
   * it) and logs accept errors (EMFILE) in the summary instead of letting them throw.
   */
  attach(server: Server): void {
    server.prependListener('connection', (socket: Socket) => this.admit(socket));
    this.reportErrors(server);
  }

  /** Accept errors of `server` (EMFILE) go to the summary log instead of throwing. For a
   * listener that calls admit() itself before handing sockets on (the switch). */
  reportErrors(server: Server): void {
    server.on('error', (err: NodeJS.ErrnoException) => this.summary.add(err.code ?? 'listener_error', { err: err.message }, `${this.opts.listener} listener error`));
  }

  /** Admits or destroys `socket`; true if admitted. */
  admit(socket: Socket): boolean {
    const address = socket.remoteAddress;
    const source = sourceOf(address);
    const reason = this.refusal(source);
    if (reason) {
      this.refused[reason]++;
      this.metrics?.refused.inc({ listener: this.opts.listener, reason });
      this.summary.add(reason, {}, '');
      socket.on('error', () => {});
      socket.destroy();
      return false;
    }
    this.open++;
    this.admitted++;
    this.opts.fds?.opened();
    this.hold(socket, `${address}|${socket.remotePort}`, source);
    socket.once('close', () => {
      this.open--;
      this.opts.fds?.closed();
      this.release(socket);
    });
    return true;
  }

  /**
   * A PROXY protocol header named the real source (`address`:`port`) of `socket`, which
   * was admitted on the load balancer's address: from now on the connection is pending
   * under the real source, and that source's accept rate and pending cap apply to it (and
   * authenticated() takes the real address). False, and the socket destroyed, if the real
   * source is over its limits.
   */
  readmit(socket: Socket, address: string, port: number): boolean {
    if (!this.pendingSockets.has(socket)) return true;
    const source = sourceOf(address);
    const reason = this.sourceRefusal(source, this.now());
    if (reason) {
      this.refused[reason]++;
      this.metrics?.refused.inc({ listener: this.opts.listener, reason });
      this.summary.add(reason, {}, '');
      socket.destroy();
      return false;
    }
    this.release(socket);
    this.hold(socket, `${address}|${port}`, source);
    return true;
  }

  /** The connection from `address`:`port` passed authentication: it no longer counts as pending. */
  authenticated(address: string | undefined, port: number | undefined): void {
    const socket = this.byKey.get(`${address}|${port}`);
    if (socket) this.release(socket);
  }

  stop(): void {
    this.summary.stop();
  }

  private hold(socket: Socket, key: string, source: string): void {
    this.pendingSockets.set(socket, { key, source });
    this.byKey.set(key, socket);
    this.perSource.set(source, (this.perSource.get(source) ?? 0) + 1);
    this.metrics?.pending.set({ listener: this.opts.listener }, this.pendingSockets.size);
  }

  /** `socket` no longer counts as pending (authenticated, readmitted, or closed); once only. */
  private release(socket: Socket): void {
    const entry = this.pendingSockets.get(socket);
    if (entry === undefined) return;
    this.pendingSockets.delete(socket);
    if (this.byKey.get(entry.key) === socket) this.byKey.delete(entry.key);
    this.metrics?.pending.set({ listener: this.opts.listener }, this.pendingSockets.size);
    const n = (this.perSource.get(entry.source) ?? 1) - 1;
    if (n > 0) this.perSource.set(entry.source, n);
    else this.perSource.delete(entry.source);
  }

  private refusal(source: string): RefusalReason | undefined {
    const fds = this.opts.fds;
    if (fds) {
      const low = fds.low;
      if (low !== this.shedding) {
        this.shedding = low;
        // Once per episode, not per connection.
        if (low) this.opts.logger.error({ listener: this.opts.listener, limit: fds.limit, reserve: fds.reserve, inUse: fds.inUse }, 'file descriptors nearly exhausted: shedding new connections, keeping the open ones');
        else this.opts.logger.info({ listener: this.opts.listener, limit: fds.limit, inUse: fds.inUse }, 'file descriptors available again: accepting new connections');
      }
      if (low && this.open >= (this.opts.reserveShare ?? 0)) return 'fd_limit';
    }
    const now = this.now();
    const perSource = this.sourceRefusal(source, now);
    if (perSource) return perSource;
    if (!this.total.take(now)) return 'accept_rate';
    if (this.pendingSockets.size >= this.limits.pending) return 'pending';
    return undefined;
  }

  private sourceRefusal(source: string, now: number): RefusalReason | undefined {
    let bucket = this.buckets.get(source);
    if (bucket) this.buckets.delete(source); // re-inserted below: Map order = least recently seen first
    else {
      bucket = new TokenBucket(this.limits.acceptRatePerSource, now);
      if (this.buckets.size >= MAX_SOURCES) this.buckets.delete(this.buckets.keys().next().value!);
    }
    this.buckets.set(source, bucket);
    if (!bucket.take(now)) return 'accept_rate_per_source';
    if ((this.perSource.get(source) ?? 0) >= this.limits.pendingPerSource) return 'pending_per_source';
    return undefined;
  }
}
