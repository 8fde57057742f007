/**
 * Keeps a client connected: log in at the broker, try the servers it lists in order,
 * and after any loss start over (a fresh login: tickets are single-use) after a backoff
 * with full jitter. Usable as a library by anything that moves frames (kernel client,
 * user-mode stack, tests).
 */
import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { ElError, type PayloadAllocator, type Welcome } from '@elink/protocol';
import { Backoff, type BackoffOptions } from './backoff.js';
import { BrokerError, login, type LoginReply, type LoginRequest } from './login.js';
import { SwitchLink } from './switch-link.js';

export interface ConnectorOptions {
  broker: string;
  credentials: LoginRequest;
  /** PEM CA for the broker and the switch nodes. */
  ca?: string | Buffer;
  ciphers?: string;
  /** Offer the "gso" capability: frames are read from and written to an offload device. */
  gso?: boolean;
  /** Memory for the frames read; see SwitchLinkOptions.allocate. */
  allocate?: PayloadAllocator;
  backoff?: BackoffOptions;
  logger: Logger;
}

/** Errors that no retry will fix while nothing changes: reported at once on the first attempt. */
const FATAL_AT_START = new Set(['EL_ERR_AUTH', 'EL_ERR_FORBIDDEN', 'EL_ERR_NO_SEGMENT', 'EL_ERR_DEVICE_LIMIT', 'EL_ERR_INVALID']);

/**
 * Events: 'up' (welcome: Welcome, login: LoginReply), 'frame' (frame: Buffer, gso: boolean),
 * 'down' (err?: ElError), 'fatal' (err: ElError) when the very first login is refused.
 */
export class Connector extends EventEmitter {
  private link: SwitchLink | undefined;
  private stopped = false;
  private readonly abort = new AbortController();
  private readonly backoff: Backoff;
  private everUp = false;
  private running: Promise<void> | undefined;
  /** The broker's remember token from the last login: later logins pass its user-wide limit. */
  private remember: string | undefined;

  constructor(private readonly opts: ConnectorOptions) {
    super();
    this.backoff = new Backoff(opts.backoff);
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
        const reply = await login(this.opts.broker, { device: hostname(), ...this.opts.credentials, ...(this.remember ? { remember: this.remember } : {}) }, { ca: this.opts.ca });
        if (reply.remember) this.remember = reply.remember;
        const link = await this.connectAny(reply);
        this.link = link;
        this.everUp = true;
        this.backoff.reset();
        link.on('frame', (f: Buffer, gso: boolean) => this.emit('frame', f, gso));
        const closed = new Promise<ElError | undefined>((resolve) => link.once('close', resolve));
        logger.info({ node: link.welcome.node, session: link.welcome.session, segment: link.welcome.segment }, 'connected');
        this.emit('up', link.welcome satisfies Welcome, reply);
        const err = await closed;
        this.emit('down', err);
      } catch (e) {
        const err = e instanceof ElError ? e : new ElError('EL_ERR_INTERNAL', String(e), { cause: e });
        if (!this.everUp && FATAL_AT_START.has(err.code)) {
          this.stopped = true;
          this.emit('fatal', err);
          return;
        }
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

  private async connectAny(reply: LoginReply): Promise<SwitchLink> {
    let last: ElError | undefined;
    for (const server of reply.servers) {
      if (this.stopped) break;
      try {
        return await SwitchLink.connect({
          server,
          ticket: reply.ticket,
          mac: reply.mac,
          hostname: hostname(),
          ca: this.opts.ca,
          ciphers: this.opts.ciphers,
          gso: this.opts.gso,
          allocate: this.opts.allocate,
          logger: this.opts.logger,
        });
      } catch (e) {
        last = e as ElError;
        this.opts.logger.warn({ node: server.node, host: server.host, port: server.port, code: last.code, err: last.message }, 'switch node failed, trying the next');
        // A ticket the node refused as used or expired is spent: log in again rather than
        // presenting it to the next node.
        if (last.code === 'EL_ERR_TICKET_REPLAYED' || last.code === 'EL_ERR_TICKET_EXPIRED') break;
      }
    }
    throw last ?? new ElError('EL_ERR_NO_NODE', 'the broker listed no switch node');
  }
}
