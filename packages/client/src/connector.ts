/**
 * Keeps a client connected: log in at the broker, try the servers it lists in order
 * (over raw TLS or a WebSocket, through a proxy if one is set: connectNode),
 * and after any transient loss start over (a fresh login: tickets are single-use) after
 * a backoff with full jitter. A permanent failure (failure-kind.ts) ends it instead, at
 * the first login or after days up alike. Usable as a library by anything that moves
 * frames (kernel client, user-mode stack, tests).
 */
import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { ElError, type PayloadAllocator, type Welcome } from '@elink/protocol';
import type { FlushScheduler } from '@elink/transport';
import { Backoff, type BackoffOptions } from './backoff.js';
import { isPermanent } from './failure-kind.js';
import { BrokerError, login, type LoginReply, type LoginRequest, type ServerInfo } from './login.js';
import type { HttpProxy } from './proxy-config.js';
import { proxyFor, type ProxySettings } from './proxy-config.js';
import { carrierTarget, isCarrierFailure, SwitchLink, type Transport } from './switch-link.js';

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
  /** Memory for the frames read; see SwitchLinkOptions.allocate. */
  allocate?: PayloadAllocator;
  /** See SwitchLinkOptions.scheduler. */
  scheduler?: FlushScheduler;
  backoff?: BackoffOptions;
  /** A session that lasted this long resets the backoff (default 60 s); shorter ones keep
   * it growing, so a session that is ended as soon as it starts does not spin. */
  stableMs?: number;
  logger: Logger;
}

/**
 * Events: 'up' (welcome: Welcome, login: LoginReply), 'frame' (frame: Buffer, gso: boolean),
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
        const reply = await login(this.opts.broker, { ...this.opts.credentials, device: this.device, ...(this.remember ? { remember: this.remember } : {}) }, { ca: this.opts.ca, ...this.brokerProxy() });
        if (reply.remember) this.remember = reply.remember;
        const link = await this.connectAny(reply);
        this.link = link;
        this.everUp = true;
        const upAt = Date.now();
        link.on('frame', (f: Buffer, gso: boolean) => this.emit('frame', f, gso));
        const closed = new Promise<ElError | undefined>((resolve) => link.once('close', resolve));
        logger.info({ node: link.welcome.node, session: link.welcome.session, segment: link.welcome.segment, transport: link.transport, ...(link.proxy ? { proxy: link.proxy } : {}) }, 'connected');
        this.emit('up', link.welcome satisfies Welcome, reply);
        const err = await closed;
        this.emit('down', err);
        // Another client with this user and device took the session: reconnecting would take
        // it back, and so on for ever. (Our own reconnects never see this: the newer session wins.)
        if (err?.code === 'EL_ERR_SUPERSEDED' && !this.stopped) return this.fatal(this.superseded(err));
        if (Date.now() - upAt >= (this.opts.stableMs ?? 60_000)) this.backoff.reset();
      } catch (e) {
        const err = e instanceof ElError ? e : new ElError('EL_ERR_INTERNAL', String(e), { cause: e });
        if (isPermanent(err) && !this.stopped) return this.fatal(err);
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

  private async connectAny(reply: LoginReply): Promise<SwitchLink> {
    let last: ElError | undefined;
    // One node's permanent failure (say its certificate) ends nothing while another's was transient.
    let transient: ElError | undefined;
    for (const server of reply.servers) {
      if (this.stopped) break;
      try {
        return await this.connectNode(server, reply);
      } catch (e) {
        last = e as ElError;
        if (!isPermanent(last)) transient = last;
        this.opts.logger.warn({ node: server.node, host: server.host, port: server.port, code: last.code, err: last.message }, 'switch node failed, trying the next');
        // A ticket the node refused as used or expired is spent: log in again rather than
        // presenting it to the next node.
        if (last.code === 'EL_ERR_TICKET_REPLAYED' || last.code === 'EL_ERR_TICKET_EXPIRED') break;
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
          allocate: this.opts.allocate,
          scheduler: this.opts.scheduler,
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
