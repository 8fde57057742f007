/**
 * One DTCP connection (docs/dtcp.md): greeting with a fresh challenge, then lines.
 *
 *   greeting  `+OK <challenge> <text>`, the idle timer at idleTimeoutMs
 *   ping / help / quit / anything else  → their reply line (quit: then close)
 *   tunnel <user> <digest> <type>       → type check, then the authority (rate limits,
 *     digest, leases), then the data plane; `+OK …` and the idle timer at
 *     tunnelIdleTimeoutMs, or `-ERR …`. A second grant replaces the first tunnel.
 *   EOF, an error, a timeout, a line over 1 KiB → teardown (the tunnel closed), close.
 *
 * The tunnel lives exactly as long as the connection. While a `tunnel` is decided the
 * socket is paused and the bytes already read wait (more than DTCP_MAX_BUFFERED
 * waiting ends the connection). A peer that does not read its replies is paused too
 * (write back-pressure: no more of its lines are read or handled until it drains), and
 * dropped once more than maxUnsentBytes wait for it, so it never makes the node buffer more.
 */
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { isIPv4 } from 'node:net';
import { ElError, DTCP_TYPES, type DtcpGrant, type DtcpType } from '@elink/protocol';
import type { DtcpAuthority } from './dtcp-authority.js';
import { DTCP_MAX_BUFFERED, DTCP_MAX_LINE, type DtcpSettings } from './dtcp-defaults.js';
import type { DtcpFailure } from './dtcp-metrics.js';
import { error, greeting, REPLY, tunnelClosed, unsupportedType } from './dtcp-replies.js';
import { LineReader } from './line-reader.js';
import type { SixInFourTunnel } from './six-in-four.js';

export interface DtcpConnHost {
  readonly settings: Readonly<DtcpSettings>;
  readonly nodeId: string;
  readonly authority: DtcpAuthority;
  /** True while the node drains (SIGTERM): no new tunnel, it would end within seconds. */
  readonly draining: boolean;
  /** Opens the granted tunnel for `conn` (ending another connection's tunnel of the same user); throws ElError. */
  openTunnel(conn: DtcpConn, grant: DtcpGrant): SixInFourTunnel;
  /** `conn`'s tunnel was closed (replaced or torn down). */
  tunnelClosed(conn: DtcpConn, grant: DtcpGrant): void;
  failed(reason: DtcpFailure, conn: DtcpConn, detail?: string): void;
  /** The first tunnel of `conn` is up: it is no longer a stranger's connection. */
  authenticated(conn: DtcpConn): void;
  closed(conn: DtcpConn, reason: string): void;
}

const HEX32 = /^[0-9A-Fa-f]{32}$/;
const USER = /^[^\s]{1,128}$/;

/** The failure reason and reply line of a refusal. */
function refusal(err: unknown): { reason: DtcpFailure; line: string } {
  const code = err instanceof ElError ? err.code : undefined;
  switch (code) {
    case 'EL_ERR_AUTH':
      return { reason: 'auth', line: REPLY.authFailed };
    case 'EL_ERR_RATE_LIMITED':
      return { reason: 'rate_limited', line: error((err as ElError).message) };
    case 'EL_ERR_FORBIDDEN':
      return { reason: 'forbidden', line: error((err as ElError).message) };
    case 'EL_ERR_NO_SEGMENT':
      return { reason: 'no_segment', line: error((err as ElError).message) };
    case 'EL_ERR_POOL_EXHAUSTED':
      return { reason: 'pool_exhausted', line: error((err as ElError).message) };
    case 'EL_ERR_DEVICE_LIMIT':
      return { reason: 'device_limit', line: error((err as ElError).message) };
    case 'EL_ERR_ADDRESS_IN_USE':
      return { reason: 'address_in_use', line: error((err as ElError).message) };
    default:
      return { reason: 'unavailable', line: REPLY.unavailable };
  }
}

function unmap(a: string | undefined): string {
  return a?.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : (a ?? '');
}

export class DtcpConn {
  /** 128 bits from the CSPRNG: fresh and unpredictable for every connection. */
  readonly challenge = randomBytes(16).toString('hex');
  /** The tunnel's outer addresses: the peer (or PROXY source) and this end of the connection. */
  readonly clientV4: string;
  readonly serverV4: string;
  readonly peer: string;
  readonly openedAt = Date.now();
  #reader = new LineReader(DTCP_MAX_LINE, DTCP_MAX_BUFFERED);
  #busy = false;
  #blocked = false;
  #closed = false;
  #timer: NodeJS.Timeout;
  #timeoutMs: number;
  #grace: NodeJS.Timeout | undefined;
  #tunnel: SixInFourTunnel | undefined;
  #grant: DtcpGrant | undefined;
  #everAuthenticated = false;

  constructor(
    readonly socket: Socket,
    private readonly host: DtcpConnHost,
  ) {
    this.clientV4 = unmap(socket.remoteAddress);
    this.serverV4 = unmap(socket.localAddress);
    this.peer = `${this.clientV4}:${socket.remotePort}`;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('end', () => this.close('eof'));
    socket.on('error', () => this.close('error'));
    socket.on('close', () => this.#gone());
    socket.on('drain', () => {
      this.#blocked = false;
      this.#work();
    });
    this.#timeoutMs = host.settings.idleTimeoutMs;
    this.#timer = setTimeout(() => this.#timedOut(), this.#timeoutMs);
    this.#send(greeting(this.challenge));
    socket.resume();
  }

  /** The granted tunnel, while it is up. */
  get grant(): DtcpGrant | undefined {
    return this.#tunnel ? this.#grant : undefined;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** True while the peer does not read its replies (its lines are not read meanwhile). */
  get blocked(): boolean {
    return this.#blocked;
  }

  /** Sends `last` (if any), tears the tunnel down and closes; the socket is destroyed after the close grace. */
  close(reason: string, last?: string): void {
    if (this.#closed) return;
    if (last !== undefined) this.#send(last);
    if (this.#closed) return; // that send found a peer that does not read: closed already
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#teardown(reason);
    this.socket.end();
    this.#grace = setTimeout(() => this.socket.destroy(), this.host.settings.closeGraceMs);
    this.#grace.unref();
    this.host.closed(this, reason);
  }

  /** The data plane closed the tunnel itself: the connection, whose lifetime it was, ends too. */
  tunnelEnded(reason: string): void {
    const grant = this.#grant;
    if (!this.#tunnel || !grant) return;
    this.#tunnel = undefined;
    this.host.tunnelClosed(this, grant);
    this.close(reason, tunnelClosed(reason));
  }

  #gone(): void {
    clearTimeout(this.#grace);
    this.close('closed');
  }

  #teardown(reason: string): void {
    const t = this.#tunnel;
    if (!t) return;
    this.#tunnel = undefined;
    t.close(reason);
    this.host.tunnelClosed(this, this.#grant!);
  }

  #send(line: string): void {
    if (this.#closed || this.socket.destroyed) return;
    if (!this.socket.write(`${line}\r\n`)) this.#blocked = true;
    if (this.socket.writableLength > this.host.settings.maxUnsentBytes) {
      this.host.failed('slow_reader', this);
      this.close('slow_reader');
      this.socket.destroy();
      return;
    }
    // Back-pressure: no more of its commands are read until it reads our replies.
    if (this.#blocked) this.socket.pause();
  }

  #onData(chunk: Buffer): void {
    if (this.#closed) return;
    // Paused while busy or blocked, so only a peer pipelining far more than any DTCP client gets here.
    if (!this.#reader.push(chunk)) {
      this.host.failed('too_many_lines', this);
      return this.close('too_many_lines', REPLY.tooManyLines);
    }
    this.#work();
  }

  #flowing(): void {
    if (!this.#closed && !this.#busy && !this.#blocked) this.socket.resume();
  }

  /**
   * Handles waiting lines in order until one needs the authority or the peer stops reading
   * (then again when it answered or drained); the replies of one read leave in one write.
   */
  #work(): void {
    this.socket.cork();
    while (!this.#closed && !this.#busy && !this.#blocked) {
      const line = this.#reader.next();
      if (line === undefined) break;
      if (line === 'too_long') {
        this.host.failed('line_too_long', this);
        this.close('line_too_long', REPLY.lineTooLong);
        break;
      }
      this.#timer.refresh();
      this.#line(line);
    }
    this.socket.uncork();
    this.#flowing();
  }

  #line(line: string): void {
    const fields = line.split(' ');
    const verb = fields[0]!.toLowerCase();
    if (fields.length === 1 && verb === 'ping') return this.#send(REPLY.pong);
    if (fields.length === 1 && verb === 'help') return this.#send(REPLY.help);
    if (fields.length === 1 && verb === 'quit') return this.close('quit', REPLY.bye);
    if (fields.length === 4 && verb === 'tunnel' && fields.every((f) => f !== '')) return this.#tunnelCommand(fields[1]!, fields[2]!, fields[3]!);
    this.host.failed('invalid_command', this);
    this.#send(REPLY.invalid);
  }

  #tunnelCommand(user: string, digest: string, typeText: string): void {
    const type = (typeText === 'tunnelroute' ? 'network' : typeText) as DtcpType;
    if (!(DTCP_TYPES as readonly string[]).includes(type) || !this.host.settings.types.includes(type)) {
      this.host.failed('unsupported_type', this);
      return this.#send(unsupportedType(typeText));
    }
    if (this.host.draining) {
      this.host.failed('draining', this);
      return this.#send(REPLY.draining);
    }
    if (!isIPv4(this.clientV4) || !isIPv4(this.serverV4)) {
      this.host.failed('no_ipv4', this);
      return this.#send(REPLY.needsIPv4);
    }
    // Not a guess worth a rate-limit unit: it cannot match any digest.
    if (!HEX32.test(digest) || !USER.test(user)) {
      this.host.failed('auth', this);
      return this.#send(REPLY.authFailed);
    }
    this.#busy = true;
    this.socket.pause();
    const req = { user, challenge: this.challenge, digest, type, segment: this.host.settings.segment, source: this.clientV4, node: this.host.nodeId };
    void this.host.authority
      .tunnel(req)
      .then(
        (grant) => this.#granted(grant),
        (err: unknown) => {
          const r = refusal(err);
          this.host.failed(r.reason, this, (err as Error)?.message);
          this.#send(r.line);
        },
      )
      .finally(() => {
        this.#busy = false;
        this.#work();
      });
  }

  #granted(grant: DtcpGrant): void {
    // Gone meanwhile: the lease stays with the user (sticky) and nothing was opened.
    if (this.#closed) return;
    // The old tunnel goes first: the new one may take the same routes.
    this.#teardown('replaced');
    let tunnel: SixInFourTunnel;
    try {
      tunnel = this.host.openTunnel(this, grant);
    } catch (err) {
      const known = err instanceof ElError;
      this.host.failed(known && err.code === 'EL_ERR_UNAVAILABLE' ? 'max_tunnels' : known && err.code === 'EL_ERR_ADDRESS_IN_USE' ? 'address_in_use' : 'plane', this, (err as Error)?.message);
      return this.#send(known ? error(err.message) : REPLY.unavailable);
    }
    this.#tunnel = tunnel;
    this.#grant = grant;
    if (!this.#everAuthenticated) {
      this.#everAuthenticated = true;
      this.host.authenticated(this);
    }
    if (this.#timeoutMs !== this.host.settings.tunnelIdleTimeoutMs) {
      this.#timeoutMs = this.host.settings.tunnelIdleTimeoutMs;
      clearTimeout(this.#timer);
      this.#timer = setTimeout(() => this.#timedOut(), this.#timeoutMs);
    } else this.#timer.refresh();
    this.#send(['+OK', this.clientV4, this.serverV4, ...(grant.type === 'host' ? [grant.clientV6!, grant.serverV6!] : grant.type === 'network' ? [grant.prefix!] : [])].join(' '));
  }

  #timedOut(): void {
    this.host.failed('timeout', this);
    this.close('timeout', REPLY.timedOut);
  }
}
