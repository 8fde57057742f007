/**
 * A switch node's DTCP listener (docs/dtcp.md): TCP on IPv4 (port 20200 by default),
 * one DtcpConn per connection, tunnels opened in the 6in4 data plane.
 *
 *   TCP accept: ConnectionGuard (fd reserve, per-source and listener caps and rates on
 *     connections without a tunnel yet) → PROXY protocol header from a trusted load
 *     balancer (ProxyGate; the header's source is the client's IPv4) → DtcpConn
 *
 * One tunnel per user (the lease's device is DTCP_DEVICE): a user's new tunnel ends the
 * connection that held the old one (`-ERR superseded …`), as a new EL session of the
 * same user and device supersedes the old. Tunnels are bounded by `maxTunnels`.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { ElError, type DtcpGrant, type DtcpType } from '@elink/protocol';
import { ConnectionGuard, type ConnectionLimits } from '../node/connection-guard.js';
import { EventSummary } from '../node/event-summary.js';
import type { FdBudget } from '../node/fd-budget.js';
import { ProxyGate } from '../node/proxy-gate.js';
import type { DtcpAuthority } from './dtcp-authority.js';
import { DtcpConn, type DtcpConnHost } from './dtcp-conn.js';
import { DEFAULT_DTCP, type DtcpSettings } from './dtcp-defaults.js';
import { registerDtcpMetrics, type DtcpFailure, type DtcpMetrics } from './dtcp-metrics.js';
import { error, REPLY } from './dtcp-replies.js';
import type { SixInFourPlane, SixInFourTunnel } from './six-in-four.js';
import { firstOverlap } from './static-ranges.js';

export interface DtcpServerOptions extends Partial<Omit<DtcpSettings, 'segment'>> {
  segment: string;
  nodeId: string;
  authority: DtcpAuthority;
  /** True while the node drains: `tunnel` is refused. Default: never. */
  draining?: () => boolean;
  /** The 6in4 data plane tunnels are opened in (asked at each open: a node opens its own lazily). */
  plane: () => SixInFourPlane;
  logger: Logger;
  registry?: Registry;
  fds?: FdBudget;
  connectionLimits?: Partial<ConnectionLimits>;
  /** Load balancer ranges whose PROXY protocol header names the client (required from them); empty: off. */
  proxyTrusted?: readonly string[];
  /** The PROXY header must arrive within this. Default 10 s. */
  proxyTimeoutMs?: number;
  logIntervalMs?: number;
  logSample?: number;
}

export class DtcpServer implements DtcpConnHost {
  readonly settings: Readonly<DtcpSettings>;
  readonly nodeId: string;
  readonly authority: DtcpAuthority;
  readonly guard: ConnectionGuard;
  readonly proxyGate: ProxyGate | undefined;
  /** Failures by reason (also el_dtcp_failures_total). */
  readonly failures = new Map<DtcpFailure, number>();
  readonly #plane: () => SixInFourPlane;
  readonly #draining: () => boolean;
  readonly #tcp: Server;
  readonly #conns = new Set<DtcpConn>();
  /** The connection holding each user's tunnel. */
  readonly #byUser = new Map<string, DtcpConn>();
  readonly #tunnels: Record<DtcpType, number> = { host: 0, network: 0, tunnelonly: 0 };
  readonly #metrics: DtcpMetrics | undefined;
  readonly #log: Logger;
  readonly #events: EventSummary;

  constructor(opts: DtcpServerOptions) {
    this.settings = {
      listen: opts.listen ?? DEFAULT_DTCP.listen,
      segment: opts.segment,
      types: opts.types ?? [...DEFAULT_DTCP.types],
      idleTimeoutMs: opts.idleTimeoutMs ?? DEFAULT_DTCP.idleTimeoutMs,
      tunnelIdleTimeoutMs: opts.tunnelIdleTimeoutMs ?? DEFAULT_DTCP.tunnelIdleTimeoutMs,
      maxTunnels: opts.maxTunnels ?? DEFAULT_DTCP.maxTunnels,
      maxUnsentBytes: opts.maxUnsentBytes ?? DEFAULT_DTCP.maxUnsentBytes,
      closeGraceMs: opts.closeGraceMs ?? DEFAULT_DTCP.closeGraceMs,
    };
    this.nodeId = opts.nodeId;
    this.authority = opts.authority;
    this.#plane = opts.plane;
    this.#draining = opts.draining ?? (() => false);
    this.#log = opts.logger;
    this.guard = new ConnectionGuard({ listener: 'dtcp', limits: opts.connectionLimits, fds: opts.fds, logger: opts.logger, registry: opts.registry, logIntervalMs: opts.logIntervalMs });
    // Strangers decide how often these happen: sampled, then summed up.
    this.#events = new EventSummary({ logger: opts.logger, message: 'DTCP failures', intervalMs: opts.logIntervalMs, sample: opts.logSample });
    this.proxyGate =
      opts.proxyTrusted && opts.proxyTrusted.length > 0
        ? new ProxyGate({
            listener: 'dtcp',
            trusted: opts.proxyTrusted,
            timeoutMs: opts.proxyTimeoutMs ?? 10_000,
            registry: opts.registry,
            onRefused: (reason, peer) => this.#events.add(`proxy:${reason}`, { peer, reason }, 'PROXY protocol header refused'),
            onSource: (raw, address, port) => this.guard.readmit(raw, address, port),
          })
        : undefined;
    this.#metrics = opts.registry && registerDtcpMetrics(opts.registry, { connections: () => this.#conns.size, tunnels: () => ({ ...this.#tunnels }) });
    this.#tcp = createServer({ noDelay: true }, (raw) => this.#accept(raw));
    this.guard.reportErrors(this.#tcp);
  }

  #accept(raw: Socket): void {
    if (!this.guard.admit(raw)) return;
    raw.on('error', () => {});
    // DTCP's server speaks first, so only a trusted balancer's connection waits for a header;
    // from anyone else a PROXY line is just an invalid command.
    if (this.proxyGate?.trusted.has(raw.remoteAddress)) this.proxyGate.pass(raw, (s) => this.#start(s));
    else this.#start(raw);
  }

  #start(raw: Socket): void {
    if (raw.destroyed) return;
    this.#conns.add(new DtcpConn(raw, this));
  }

  async start(): Promise<void> {
    const { host, port } = this.settings.listen;
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => reject(new ElError('EL_ERR_CONFIG', `cannot listen on ${host}:${port} (switch.dtcp.listen): ${err.message}`, { cause: err }));
      this.#tcp.once('error', onError);
      this.#tcp.listen(port, host, () => {
        this.#tcp.off('error', onError);
        resolve();
      });
    });
    const a = this.address();
    this.#log.info({ host: a.host, port: a.port, segment: this.settings.segment, types: this.settings.types }, 'DTCP listening');
  }

  address(): { host: string; port: number } {
    const a = this.#tcp.address();
    if (a === null || typeof a === 'string') return { ...this.settings.listen };
    return { host: a.address, port: a.port };
  }

  get listening(): boolean {
    return this.#tcp.listening;
  }

  get draining(): boolean {
    return this.#draining();
  }

  /** Connections open now, tunnels up by type, connections paused for not reading their replies, and the reply bytes waiting for them all. */
  get stats(): { connections: number; tunnels: Record<DtcpType, number>; paused: number; unsentBytes: number } {
    let paused = 0;
    let unsentBytes = 0;
    for (const c of this.#conns) {
      if (c.blocked) paused++;
      unsentBytes += c.socket.writableLength;
    }
    return { connections: this.#conns.size, tunnels: { ...this.#tunnels }, paused, unsentBytes };
  }

  /** Ends the connections whose tunnel's user may no longer be in its segment (a config reload); returns how many. */
  endTunnels(gone: (user: string, segment: string) => boolean, reason: string): number {
    let n = 0;
    for (const c of [...this.#conns]) {
      const g = c.grant;
      if (g && gone(g.user, g.segment)) {
        c.close(reason, error(`${reason}, disconnecting`));
        n++;
      }
    }
    return n;
  }

  /** Closes the listener and every connection (their tunnels with them). */
  async stop(reason = 'shutdown'): Promise<void> {
    this.#tcp.close(() => {});
    for (const c of [...this.#conns]) c.close(reason, REPLY.shuttingDown);
    const deadline = Date.now() + this.settings.closeGraceMs + 500;
    while (this.#conns.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    for (const c of this.#conns) c.socket.destroy();
    this.guard.stop();
    this.#events.stop();
  }

  // ---- DtcpConnHost ----

  openTunnel(conn: DtcpConn, grant: DtcpGrant): SixInFourTunnel {
    const other = this.#byUser.get(grant.user);
    if (other && other !== conn) other.close('superseded', REPLY.superseded);
    const up = this.#tunnels.host + this.#tunnels.network + this.#tunnels.tunnelonly;
    if (up >= this.settings.maxTunnels) throw new ElError('EL_ERR_UNAVAILABLE', `this server is at its limit of ${this.settings.maxTunnels} tunnels; try again later`);
    if (grant.type === 'tunnelonly' && grant.lan?.length) {
      const clash = this.#staticClash(conn, grant);
      if (clash) throw new ElError('EL_ERR_ADDRESS_IN_USE', `lan range ${clash} overlaps the static range of another tunnel in segment "${grant.segment}"; give each user a range of its own`);
    }
    // tunnelonly: the user's static IPv6 lan ranges, else nothing (link-local only).
    const sources = grant.type === 'host' ? [`${grant.clientV6}/128`] : grant.type === 'network' ? [grant.prefix!] : [...(grant.lan ?? [])];
    const tunnel = this.#plane().open({
      segment: grant.segment,
      clientV4: conn.clientV4,
      serverV4: conn.serverV4,
      user: grant.user,
      device: grant.device,
      sources,
      routes: [...sources],
      // The plane ended it itself (a newer tunnel to the same client IPv4: 6in4 tells tunnels apart by it alone).
      onClosed: (reason) => conn.tunnelEnded(reason),
    });
    this.#byUser.set(grant.user, conn);
    this.#tunnels[grant.type]++;
    this.#metrics?.opened(grant.type);
    this.#log.info({ peer: conn.peer, user: grant.user, type: grant.type, segment: grant.segment, clientV6: grant.clientV6, prefix: grant.prefix, lan: grant.lan, tunnel: tunnel.id }, 'DTCP tunnel up');
    return tunnel;
  }

  /** A range of `grant`'s that overlaps another user's static range up on this node (static-ranges.ts). */
  #staticClash(conn: DtcpConn, grant: DtcpGrant): string | undefined {
    for (const c of this.#conns) {
      const g = c.grant;
      if (c === conn || !g?.lan || g.type !== 'tunnelonly' || g.user === grant.user || g.segment !== grant.segment) continue;
      const clash = firstOverlap(grant.lan!, g.lan);
      if (clash) return clash;
    }
    return undefined;
  }

  tunnelClosed(conn: DtcpConn, grant: DtcpGrant): void {
    this.#tunnels[grant.type]--;
    if (this.#byUser.get(grant.user) === conn) this.#byUser.delete(grant.user);
  }

  failed(reason: DtcpFailure, conn: DtcpConn, detail?: string): void {
    this.failures.set(reason, (this.failures.get(reason) ?? 0) + 1);
    this.#metrics?.failed(reason);
    this.#events.add(reason, { peer: conn.peer, reason, ...(detail ? { detail } : {}) }, 'DTCP failure');
  }

  authenticated(conn: DtcpConn): void {
    this.guard.authenticated(conn.socket.remoteAddress, conn.socket.remotePort);
  }

  closed(conn: DtcpConn, reason: string): void {
    if (!this.#conns.delete(conn)) return;
    if (reason !== 'eof' && reason !== 'closed' && reason !== 'quit') this.#log.debug({ peer: conn.peer, reason }, 'DTCP connection closed');
  }
}
