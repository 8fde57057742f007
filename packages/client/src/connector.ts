/**
 * Keeps a client connected: log in at the broker, try the servers it lists in order
 * (over raw TLS or a WebSocket, through a proxy if one is set: connectNode),
 * and after any transient loss start over after a backoff with full jitter.
 *
 * With a device key (`deviceKey`) a reconnect costs no password hash: the first login
 * sends the key's public half with the password; the broker binds the ticket to it.
 * After a loss the client first offers that ticket again (with a fresh proof, any node
 * of the last list, in an order of its own with the lost node last (reconnect-order.ts):
 * no broker at all while it lasts), then gets a new one with a device
 * login (a signature), and only when the broker no longer knows the key (revoked,
 * expired) logs in with the password again. Without a key every reconnect is a fresh
 * login, as tickets are then single-use. A permanent failure (failure-kind.ts) ends it
 * instead, at the first login or after days up alike. Usable as a library by anything that moves
 * frames (kernel client, user-mode stack, tests).
 */
import type { KeyObject } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { ElError, peekTicketClaims, rawDeviceKey, type PayloadAllocator, type Welcome } from '@elink/protocol';
import type { FlushScheduler } from '@elink/transport';
import { Backoff, type BackoffOptions } from './backoff.js';
import { isPermanent } from './failure-kind.js';
import { BrokerError, deviceLogin, login, type LoginReply, type LoginRequest, type ServerInfo } from './login.js';
import { proxyFor, type HttpProxy, type ProxySettings } from './proxy-config.js';
import { lostNodeLast, reconnectOrder } from './reconnect-order.js';
import { carrierTarget, isCarrierFailure, SwitchLink, type LinkDrops, type Transport } from './switch-link.js';

/** Nodes whose working transport is remembered; beyond it the oldest is forgotten. */
const MAX_REMEMBERED_NODES = 256;

export interface ConnectorOptions {
  broker: string;
  credentials: LoginRequest;
  /** PEM CA for the broker and the switch nodes. */
  ca?: string | Buffer;
  ciphers?: string;
  /** Raw TLS, WebSocket, or 'auto' (the default): raw TLS first, a WebSocket when raw TLS
   * fails before hello (connect, TLS, ALPN), remembering per node what worked. */
  transport?: Transport;
  /** The HTTP proxy (--proxy, HTTPS_PROXY) and NO_PROXY, for the broker and the nodes. */
  proxy?: ProxySettings;
  /** Offer the "gso" capability: frames are read from and written to an offload device. */
  gso?: boolean;
  /** With gso, offer "uso" too (SwitchLinkOptions.uso). */
  uso?: boolean;
  /** Memory for the frames read; see SwitchLinkOptions.allocate. */
  allocate?: PayloadAllocator;
  /** See SwitchLinkOptions.scheduler. */
  scheduler?: FlushScheduler;
  backoff?: BackoffOptions;
  /** A session that lasted this long resets the backoff (default 60 s); shorter ones keep
   * it growing, so a session that is ended as soon as it starts does not spin. */
  stableMs?: number;
  /** The device key (loadOrCreateDeviceKey): reconnects without a password hash. Absent: password logins only. */
  deviceKey?: KeyObject;
  logger: Logger;
}

/** TLS sessions kept for resumption, one per node (the last); a small bound, nodes are few. */
const MAX_TLS_SESSIONS = 32;
/** A bound ticket with less life left than this is not offered again (it could expire on the way). */
const TICKET_MARGIN_MS = 5000;

/** How the client got its ticket (the 'up' event's third argument; tests, logs, metrics). */
export type TicketSource = 'password' | 'device' | 'reused';

/** Frames and bytes over the tunnel: in from the switch, out to it; FRAME and FRAME_GSO
 * payloads (a super-frame counts one), control records not included. */
export interface TunnelTraffic {
  framesIn: number;
  framesOut: number;
  bytesIn: number;
  bytesOut: number;
  /** Frames from the device the links did not send, by reason. */
  drops: LinkDrops;
}

/** What the connector has done since it started (client metrics). Counts, never reset. */
export interface ConnectorStats {
  /** Sessions established (welcome received), by how the ticket was got. */
  sessions: Readonly<Record<TicketSource, number>>;
  /** Attempts at a session that failed (each followed by a backoff, or the end), by EL_ERR_* code. */
  connectFailures: ReadonlyMap<string, number>;
  /** Established sessions that ended, by EL_ERR_* code; 'stopped' for the client's own stop. */
  sessionsClosed: ReadonlyMap<string, number>;
  /** When the current (or last) session got its welcome, ms since the epoch; undefined before the first. */
  lastUpAt: number | undefined;
  /** Every session's traffic so far, the current one's included. */
  traffic: TunnelTraffic;
}

/** Adds a link's traffic (or another total) to `into`. */
function addTraffic(into: TunnelTraffic, t: TunnelTraffic): void {
  into.framesIn += t.framesIn;
  into.framesOut += t.framesOut;
  into.bytesIn += t.bytesIn;
  into.bytesOut += t.bytesOut;
  into.drops.queue_full += t.drops.queue_full;
  into.drops.slow_peer += t.drops.slow_peer;
  into.drops.bad_gso += t.drops.bad_gso;
}

function bump(m: Map<string, number>, key: string): void {
  m.set(key, (m.get(key) ?? 0) + 1);
}

/**
 * Events: 'up' (welcome: Welcome, login: LoginReply, source: TicketSource), 'frame' (frame: Buffer, gso: boolean),
 * 'down' (err?: ElError), 'fatal' (err: ElError) on a permanent failure: then it has stopped.
 */
export class Connector extends EventEmitter {
  private link: SwitchLink | undefined;
  private stopped = false;
  private readonly abort = new AbortController();
  private readonly backoff: Backoff;
  private everUp = false;
  private readonly device: string;
  private running: Promise<void> | undefined;
  /** The broker's remember token from the last login: later logins pass its user-wide limit. */
  private remember: string | undefined;
  /** Transport: the one that last worked with each node ('auto'). */
  private readonly worked = new Map<string, 'tls' | 'ws'>();
  /** The broker registered our device key (a password login sent it and got a bound ticket). */
  private keyRegistered = false;
  /** The last login reply whose ticket is bound to our device key: offered again while it lasts. */
  private bound: LoginReply | undefined;
  /** The resume secret a node gave for `bound`'s ticket (welcome.resume), with that ticket:
   * a new ticket drops it. Memory only, never logged or written. */
  private resume: { ticket: string; secret: string } | undefined;
  /** The broker refused `deviceKey` as an unknown field (it predates device keys). */
  private brokerWithoutKeys = false;
  /** The last TLS session of each node (host:port), for resumption. */
  private readonly tlsSessions = new Map<string, Buffer>();
  /** The last TLS session any node gave (offered to a node without one of its own). */
  private newestTlsSession: Buffer | undefined;
  /** The node of the last session lost: tried last by the next attempts (reconnect-order.ts),
   * and named to the broker at the next login (header EL-Lost-Node). */
  private lostNode: string | undefined;
  /** ConnectorStats: counted once per attempt or session, nothing per frame. */
  private readonly sessions: Record<TicketSource, number> = { password: 0, device: 0, reused: 0 };
  private readonly connectFailures = new Map<string, number>();
  private readonly sessionsClosed = new Map<string, number>();
  private lastUpAt: number | undefined;
  /** The traffic of the links that have closed (the current one's is read from it). */
  private readonly past: TunnelTraffic = { framesIn: 0, framesOut: 0, bytesIn: 0, bytesOut: 0, drops: { queue_full: 0, slow_peer: 0, bad_gso: 0 } };

  constructor(private readonly opts: ConnectorOptions) {
    super();
    this.backoff = new Backoff(opts.backoff);
    this.device = opts.credentials.device ?? hostname();
  }

  get current(): SwitchLink | undefined {
    return this.link && !this.link.isClosed ? this.link : undefined;
  }

  start(): void {
    this.running ??= this.run();
  }

  get stats(): ConnectorStats {
    const p = this.past;
    const traffic: TunnelTraffic = { ...p, drops: { ...p.drops } };
    const l = this.current?.stats;
    if (l) addTraffic(traffic, l);
    return { sessions: { ...this.sessions }, connectFailures: new Map(this.connectFailures), sessionsClosed: new Map(this.sessionsClosed), lastUpAt: this.lastUpAt, traffic };
  }

  /** A closed link's traffic joins the past, in the microtask after it closes: before any
   * scrape can run (a scrape never sees the counters dip, though `current` no longer
   * returns the link from its close on). */
  private retire(link: SwitchLink, err: ElError | undefined): void {
    addTraffic(this.past, link.stats);
    bump(this.sessionsClosed, err?.code ?? 'stopped');
  }

  /** Sends frames on the current link; returns false (frames dropped) while down. */
  sendFrames(frames: readonly Buffer[]): boolean {
    const link = this.current;
    if (!link) return false;
    link.sendFrames(frames);
    return true;
  }

  /** Sends packets read from an offload device (virtio_net_hdr first); false (dropped) while down. */
  sendVnetPackets(packets: readonly Buffer[]): boolean {
    const link = this.current;
    if (!link) return false;
    link.sendVnetPackets(packets);
    return true;
  }

  async stop(reason = 'client stopping'): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    this.link?.close(reason);
    await this.running;
  }

  private async run(): Promise<void> {
    const { logger } = this.opts;
    while (!this.stopped) {
      let retryAfter: number | undefined;
      try {
        const { link, reply, source } = await this.establish();
        this.link = link;
        if (link.resumeSecret !== undefined && reply.ticket === this.bound?.ticket) this.resume = { ticket: reply.ticket, secret: link.resumeSecret };
        this.everUp = true;
        this.lostNode = undefined;
        const upAt = Date.now();
        this.lastUpAt = upAt;
        this.sessions[source]++;
        link.on('frame', (f: Buffer, gso: boolean) => this.emit('frame', f, gso));
        // link.ended, not a 'close' listener: the link may have closed already, in the read
        // that brought its welcome (the run would then wait for ever).
        const closed = link.ended.then((err) => {
          this.retire(link, err);
          return err;
        });
        logger.info({ node: link.welcome.node, session: link.welcome.session, segment: link.welcome.segment, ticket: source, tlsResumed: link.tlsResumed, transport: link.transport, ...(link.proxy ? { proxy: link.proxy } : {}) }, 'connected');
        this.emit('up', link.welcome satisfies Welcome, reply, source);
        const err = await closed;
        this.lostNode = link.welcome.node;
        this.emit('down', err);
        this.onRefused(err);
        // A draining node asks for the broker (protocol.md §3.3): the last ticket's node list is stale.
        if (link.redirected) this.bound = this.resume = undefined;
        // Another client with this user and device took the session: reconnecting would take
        // it back, and so on for ever. (Our own reconnects never see this: the newer session wins.)
        if (err?.code === 'EL_ERR_SUPERSEDED' && !this.stopped) return this.fatal(this.superseded(err));
        if (Date.now() - upAt >= (this.opts.stableMs ?? 60_000)) this.backoff.reset();
      } catch (e) {
        const err = e instanceof ElError ? e : new ElError('EL_ERR_INTERNAL', String(e), { cause: e });
        if (!this.stopped) bump(this.connectFailures, err.code);
        if (isPermanent(err) && !this.stopped) return this.fatal(err);
        this.onRefused(err);
        logger.warn({ code: err.code, err: err.message }, 'connect attempt failed');
        if (err instanceof BrokerError) retryAfter = err.retryAfterSeconds;
      }
      if (this.stopped) break;
      // The broker said how long to wait (429): wait that long, not the short backoff.
      const delay = retryAfter !== undefined ? this.backoff.after(retryAfter) : this.backoff.next();
      logger.info({ delayMs: delay, ...(retryAfter !== undefined ? { retryAfter } : {}) }, 'reconnecting after backoff');
      try {
        await sleep(delay, undefined, { signal: this.abort.signal });
      } catch {
        break; // aborted by stop()
      }
    }
  }

  /**
   * A session: the bound ticket again while it lasts, else a device login, else a password
   * login. A refused bound ticket or device login falls through to the next way at once
   * (no backoff: nothing failed that waiting would change).
   */
  private async establish(): Promise<{ link: SwitchLink; reply: LoginReply; source: TicketSource }> {
    const { logger } = this.opts;
    const cached = this.bound;
    if (cached && Date.parse(cached.expiresAt) - Date.now() > TICKET_MARGIN_MS) {
      try {
        // Every client of the lost node holds this list in this order: spread them.
        return { link: await this.connectAny(cached, reconnectOrder(cached.servers, this.lostNode)), reply: cached, source: 'reused' };
      } catch (e) {
        const err = e as ElError;
        this.bound = this.resume = undefined;
        this.onRefused(err);
        logger.info({ code: err.code, err: err.message }, 'the last ticket did not take; asking the broker for a new one');
      }
    }
    if (this.opts.deviceKey && this.keyRegistered) {
      try {
        const reply = await deviceLogin(this.opts.broker, { user: this.opts.credentials.user, device: this.device, segment: this.opts.credentials.segment, prefix: this.opts.credentials.prefix }, this.opts.deviceKey, { ca: this.opts.ca, ...this.brokerProxy() }, { lostNode: this.lostNode });
        this.keep(reply);
        return { link: await this.connectAny(reply), reply, source: 'device' };
      } catch (e) {
        if (!(e instanceof BrokerError) || e.code !== 'EL_ERR_AUTH') throw e;
        // The broker no longer knows the key (revoked, or idle past its lease): the password again.
        this.keyRegistered = false;
        logger.warn({ code: e.code, err: e.message }, 'device login refused; logging in with the password');
      }
    }
    const deviceKey = this.opts.deviceKey && !this.brokerWithoutKeys ? rawDeviceKey(this.opts.deviceKey) : undefined;
    const body: LoginRequest = { ...this.opts.credentials, device: this.device, ...(this.remember ? { remember: this.remember } : {}) };
    let reply: LoginReply;
    try {
      reply = await login(this.opts.broker, deviceKey ? { ...body, deviceKey } : body, { ca: this.opts.ca, ...this.brokerProxy() }, { lostNode: this.lostNode });
    } catch (e) {
      // A broker older than device keys refuses the unknown field (400): carry on without keys.
      if (!(deviceKey && e instanceof BrokerError && e.code === 'EL_ERR_INVALID' && e.message.includes('"deviceKey"'))) throw e;
      this.brokerWithoutKeys = true;
      logger.warn({ err: e.message }, 'the broker does not know device keys; logging in with the password only');
      reply = await login(this.opts.broker, body, { ca: this.opts.ca, ...this.brokerProxy() }, { lostNode: this.lostNode });
    }
    if (reply.remember) this.remember = reply.remember;
    this.keep(reply);
    this.keyRegistered = this.bound !== undefined;
    return { link: await this.connectAny(reply), reply, source: 'password' };
  }

  /** Keeps a reply whose ticket is bound to our key, to offer again after a loss. */
  private keep(reply: LoginReply): void {
    const dk = peekTicketClaims(reply.ticket)?.dk;
    this.bound = this.opts.deviceKey && dk !== undefined && dk === rawDeviceKey(this.opts.deviceKey) ? reply : undefined;
    if (this.resume?.ticket !== reply.ticket) this.resume = undefined;
  }

  /** A revoked key: neither the bound ticket nor a device login can work; the password next. */
  private onRefused(err: ElError | undefined): void {
    if (err?.code !== 'EL_ERR_REVOKED') return;
    this.bound = this.resume = undefined;
    this.keyRegistered = false;
  }

  /** Stops for good: a permanent failure, whether or not it was ever up. */
  private fatal(err: ElError): void {
    this.stopped = true;
    this.opts.logger.error({ code: err.code, err: err.message, wasUp: this.everUp }, 'giving up: this failure is permanent');
    this.emit('fatal', err);
  }

  /** The switch's "superseded", said with who took over: this user on this device id. */
  private superseded(err: ElError): ElError {
    return new ElError(
      'EL_ERR_SUPERSEDED',
      `another client logged in as user "${this.opts.credentials.user}" with the same device id "${this.device}" and took over this session; each client needs a device id of its own`,
      { cause: err },
    );
  }

  /** The TLS session to resume at a node, and where to keep its next one. */
  private tlsSessionOf(host: string, port: number): { session?: Buffer; onSession: (s: Buffer) => void } {
    const key = `${host}:${port}`;
    // A node never met: the newest session of another one. The nodes of a cluster share
    // their ticket keys (the switch's session-ticket-keys.ts), so after losing its node the
    // client resumes at the next one (no certificate signature there, none to check here);
    // a node of another cluster cannot decrypt it and makes a full handshake.
    const session = this.tlsSessions.get(key) ?? this.newestTlsSession;
    return {
      ...(session ? { session } : {}),
      onSession: (s) => {
        this.tlsSessions.delete(key);
        if (this.tlsSessions.size >= MAX_TLS_SESSIONS) this.tlsSessions.delete(this.tlsSessions.keys().next().value!);
        this.tlsSessions.set(key, s);
        this.newestTlsSession = s;
      },
    };
  }

  private async connectAny(reply: LoginReply, servers = lostNodeLast(reply.servers, this.lostNode)): Promise<SwitchLink> {
    let last: ElError | undefined;
    // One node's permanent failure (say its certificate) ends nothing while another's was transient.
    let transient: ElError | undefined;
    for (const server of servers) {
      if (this.stopped) break;
      try {
        return await this.connectNode(server, reply);
      } catch (e) {
        last = e as ElError;
        if (!isPermanent(last)) transient = last;
        this.opts.logger.warn({ node: server.node, host: server.host, port: server.port, code: last.code, err: last.message }, 'switch node failed, trying the next');
        // A ticket the node refused as used, expired or revoked is spent: log in again rather
        // than presenting it to the next node.
        if (last.code === 'EL_ERR_TICKET_REPLAYED' || last.code === 'EL_ERR_TICKET_EXPIRED' || last.code === 'EL_ERR_REVOKED') break;
      }
    }
    throw transient ?? last ?? new ElError('EL_ERR_NO_NODE', 'the broker listed no switch node');
  }

  /** The proxy for the broker's URL, unless NO_PROXY names it. */
  private brokerProxy(): { proxy?: HttpProxy } {
    const url = new URL(this.opts.broker);
    const proxy = proxyFor(this.opts.proxy, url.hostname.replace(/^\[|\]$/g, ''), Number(url.port || (url.protocol === 'http:' ? 80 : 443)));
    return proxy ? { proxy } : {};
  }

  /** One node, over the configured transport; 'auto': the one that worked last with it
   * first (raw TLS if none), then the other if the first failed before hello. */
  private async connectNode(server: ServerInfo, reply: LoginReply): Promise<SwitchLink> {
    const mode = this.opts.transport ?? 'auto';
    const first = mode === 'auto' ? (this.worked.get(server.node) ?? 'tls') : mode;
    const order: ('tls' | 'ws')[] = mode === 'auto' ? [first, first === 'tls' ? 'ws' : 'tls'] : [first];
    for (let i = 0; ; i++) {
      const transport = order[i]!;
      const target = carrierTarget(server, transport);
      const proxy = proxyFor(this.opts.proxy, target.host, target.port);
      try {
        const link = await SwitchLink.connect({
          server,
          ticket: reply.ticket,
          mac: reply.mac,
          hostname: hostname(),
          ca: this.opts.ca,
          ciphers: this.opts.ciphers,
          gso: this.opts.gso,
          uso: this.opts.uso,
          allocate: this.opts.allocate,
          scheduler: this.opts.scheduler,
          ...(this.opts.deviceKey ? { deviceKey: this.opts.deviceKey } : {}),
          ...(this.resume?.ticket === reply.ticket ? { resume: this.resume.secret } : {}),
          ...this.tlsSessionOf(target.host, target.port),
          logger: this.opts.logger,
          transport,
          ...(proxy ? { proxy } : {}),
        });
        if (mode === 'auto') {
          this.worked.delete(server.node);
          if (this.worked.size >= MAX_REMEMBERED_NODES) this.worked.delete(this.worked.keys().next().value!);
          this.worked.set(server.node, transport);
        }
        return link;
      } catch (e) {
        const err = e as ElError;
        // The ticket was never presented, and what failed may be this transport's path
        // only (a balancer or firewall passing HTTP only): the other one may get through.
        // Not for failures the other transport would meet as well.
        const next = order[i + 1];
        if (next === undefined || !isCarrierFailure(err) || err.code === 'EL_ERR_CERTIFICATE' || err.code === 'EL_ERR_PROXY_AUTH' || this.stopped) throw err;
        this.opts.logger.warn({ node: server.node, host: server.host, port: server.port, transport, code: err.code, err: err.message }, `switch node unreachable over ${transport === 'tls' ? 'raw TLS' : 'WebSocket'}, trying ${next === 'ws' ? 'WebSocket' : 'raw TLS'}`);
      }
    }
  }
}
