/**
 * A TCP connection on the stack as a node:net-like Duplex.
 *
 * Back-pressure, both ways, mapped onto lwIP's raw API:
 * - write: _write copies into lwIP's send buffer (tcp_write) as far as it has room and
 *   calls back only once the whole chunk is in; the rest waits for lwIP's `sent`
 *   (acknowledged data freed room). The stream's writable high-water mark then makes
 *   write() return false, as node:net does.
 * - read: every received byte is pushed at once, but the TCP window reopens
 *   (tcp_recved) only when the stream asks for more (_read): a reader that stops makes
 *   the peer stop after one window, and this process holds at most that much.
 *
 * Errors carry Node's codes: ECONNREFUSED (reset while connecting), ECONNRESET,
 * ETIMEDOUT (lwIP gave up retransmitting or the keepalive found the peer gone).
 */
import { Duplex } from 'node:stream';
import { isIP } from 'node:net';
import { IO_SIZE, LwipErr } from './lwip.js';
import type { NetStack } from './net-stack.js';
import type { NetLikeSocket } from '@elink/protocol';

type State = 'connecting' | 'open' | 'gone';

export interface SocketAddress {
  address: string;
  family: 'IPv4' | 'IPv6';
  port: number;
}

export interface StackSocketOptions {
  /** Keep the writable side open after the peer's FIN (node:net's allowHalfOpen); default false. */
  allowHalfOpen?: boolean;
}

/** An error as node:net makes them: a message with the code, `code`, `errno`, `syscall`. */
export function netError(code: 'ECONNREFUSED' | 'ECONNRESET' | 'ETIMEDOUT' | 'EADDRINUSE' | 'EMFILE' | 'ENOBUFS' | 'EHOSTUNREACH' | 'EINVAL' | 'ENOTCONN' | 'EPIPE', syscall: string, detail?: string): NodeJS.ErrnoException {
  const errnos: Record<string, number> = { ECONNREFUSED: -111, ECONNRESET: -104, ETIMEDOUT: -110, EADDRINUSE: -98, EMFILE: -24, ENOBUFS: -105, EHOSTUNREACH: -113, EINVAL: -22, ENOTCONN: -107, EPIPE: -32 };
  const err = new Error(`${syscall} ${code}${detail ? ` ${detail}` : ''}`) as NodeJS.ErrnoException;
  err.code = code;
  err.errno = errnos[code];
  err.syscall = syscall;
  return err;
}

export class StackSocket extends Duplex implements NetLikeSocket {
  private state: State;
  private id = 0;
  /** The chunk _write is putting into lwIP, and how far it got. */
  private writing: { chunk: Buffer; offset: number; cb: (err?: Error | null) => void } | undefined;
  /** Bytes pushed to the reader whose window was not yet reopened. */
  private unwindowed = 0;
  private noDelay = true;
  private keepAlive: { on: boolean; delay: number } | undefined;
  private local: SocketAddress | undefined;
  private remote: SocketAddress | undefined;
  private peerEnded = false;
  private finSent = false;
  private timeoutMs = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  /** Where connect() was aimed (reported while connecting). */
  private target: { host: string; port: number } | undefined;
  bytesRead = 0;
  bytesWritten = 0;

  constructor(
    private readonly stack: NetStack,
    opts: StackSocketOptions = {},
  ) {
    super({
      allowHalfOpen: opts.allowHalfOpen ?? false,
      readableHighWaterMark: stack.limits.readableHighWaterMark,
      writableHighWaterMark: stack.limits.writableHighWaterMark,
      // Our own destroy order: lwIP first (see _destroy).
      emitClose: true,
    });
    this.state = 'connecting';
  }

  /** Opens a connection (called by NetStack users: SegmentStack.connect). */
  connectTo(host: string, port: number): this {
    this.target = { host, port };
    const family = isIP(host);
    if (family === 0) {
      process.nextTick(() => this.destroy(netError('EINVAL', 'connect', `${host}: not an IP address (use lookup() first)`)));
      return this;
    }
    if (this.stack.tcp.size >= this.stack.limits.maxConnections) {
      process.nextTick(() => this.destroy(netError('EMFILE', 'connect', `${host}:${port} (the stack's connection limit, ${this.stack.limits.maxConnections})`)));
      return this;
    }
    const x = this.stack.lwip.x;
    const id = x.el_tcp_new(family);
    if (id === 0) {
      process.nextTick(() => this.destroy(netError('ENOBUFS', 'connect', `${host}:${port} (lwIP has no free connection)`)));
      return this;
    }
    this.attach(id);
    this.stack.lwip.writeAddr(family as 4 | 6, host, port);
    const err = x.el_tcp_connect(id);
    if (err !== LwipErr.OK) {
      this.detach(true);
      const code = err === LwipErr.RTE ? 'EHOSTUNREACH' : 'ENOBUFS';
      process.nextTick(() => this.destroy(netError(code, 'connect', `${host}:${port}`)));
      return this;
    }
    this.applyOptions();
    this.stack.kick();
    return this;
  }

  /** An accepted connection (called by StackServer while lwIP accepts it). */
  adopt(id: number): void {
    this.attach(id);
    this.state = 'open';
  }

  private attach(id: number): void {
    this.id = id;
    this.stack.tcp.set(id, this);
  }

  /** Forgets the pcb: lwIP freed it (err) or we closed/aborted it. */
  private detach(abort: boolean): void {
    if (this.id === 0) return;
    const x = this.stack.lwip.x;
    this.stack.tcp.delete(this.id);
    if (abort) x.el_tcp_abort(this.id);
    this.id = 0;
    this.state = 'gone';
    this.stack.kick();
  }

  get connecting(): boolean {
    return this.state === 'connecting' && !this.destroyed;
  }

  /** As node:net: true until connected. */
  get pending(): boolean {
    return this.state !== 'open';
  }

  // ---- events from lwIP (delivered by NetStack after lwIP returned) ----

  onConnected(): void {
    this.state = 'open';
    this.readAddresses();
    this.touch();
    this.emit('connect');
    this.emit('ready');
    this.pump();
  }

  /** Reads the addresses once (the pcb is alive: we are called for it). */
  readAddresses(): void {
    if (this.id === 0) return;
    const l = this.stack.lwip;
    l.x.el_tcp_addr(this.id, 0);
    const a = l.readAddr();
    this.local = { address: a.address, family: a.family === 4 ? 'IPv4' : 'IPv6', port: a.port };
    l.x.el_tcp_addr(this.id, 1);
    const b = l.readAddr();
    this.remote = { address: b.address, family: b.family === 4 ? 'IPv4' : 'IPv6', port: b.port };
  }

  onData(data: Buffer): void {
    if (this.destroyed) return;
    this.bytesRead += data.length;
    this.unwindowed += data.length;
    this.touch();
    if (this.push(data)) this.reopenWindow();
  }

  onFin(): void {
    this.peerEnded = true;
    this.push(null);
  }

  onSent(_len: number): void {
    this.touch();
    this.pump();
  }

  onLwipError(err: number): void {
    // lwIP has freed the pcb already.
    this.stack.tcp.delete(this.id);
    this.id = 0;
    const wasConnecting = this.state === 'connecting';
    this.state = 'gone';
    if (err === LwipErr.CLSD) {
      // Closed in order on both sides (the last ACK of our FIN came in): what the
      // reader has not taken yet stays readable; the stream ends itself (autoDestroy).
      if (!this.peerEnded) this.push(null);
      if (this.writing) this.destroy(netError('EPIPE', 'write'));
      return;
    }
    const where = this.target ? ` ${this.target.host}:${this.target.port}` : '';
    if (err === LwipErr.RST) this.destroy(netError(wasConnecting ? 'ECONNREFUSED' : 'ECONNRESET', wasConnecting ? 'connect' : 'read', where.trim()));
    else if (err === LwipErr.ABRT) this.destroy(netError('ETIMEDOUT', wasConnecting ? 'connect' : 'read', where.trim()));
    else this.destroy(netError('ECONNRESET', 'read', `${where.trim()} (lwIP error ${err})`));
  }

  // ---- the stream ----

  override _read(): void {
    this.reopenWindow();
  }

  private reopenWindow(): void {
    if (this.unwindowed === 0 || this.id === 0) return;
    this.stack.lwip.x.el_tcp_recved(this.id, this.unwindowed);
    this.unwindowed = 0;
    // The window update leaves with the next output (or lwIP's timer): soon.
    this.stack.lwip.x.el_tcp_output(this.id);
    this.stack.kick();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.state === 'gone') {
      cb(netError('EPIPE', 'write', 'the connection is closed'));
      return;
    }
    this.writing = { chunk, offset: 0, cb };
    if (this.state === 'open') this.pump();
  }

  /** Moves as much of the pending chunk into lwIP as it has room for. */
  private pump(): void {
    const p = this.writing;
    if (!p || this.id === 0 || this.state !== 'open') return;
    const x = this.stack.lwip.x;
    let wrote = false;
    while (p.offset < p.chunk.length) {
      const n = Math.min(p.chunk.length - p.offset, IO_SIZE);
      this.stack.lwip.toIo(p.chunk.subarray(p.offset, p.offset + n));
      const w = x.el_tcp_write(this.id, n, p.offset + n < p.chunk.length ? 1 : 0);
      if (w < 0) {
        this.writing = undefined;
        p.cb(netError('EPIPE', 'write', `(lwIP error ${w})`));
        return;
      }
      if (w === 0) break;
      p.offset += w;
      this.bytesWritten += w;
      wrote = true;
    }
    if (wrote) {
      x.el_tcp_output(this.id);
      this.stack.kick();
      this.touch();
    }
    if (p.offset >= p.chunk.length) {
      this.writing = undefined;
      p.cb();
    }
  }

  /** Half-close: FIN after everything written (all of it is in lwIP by now). */
  override _final(cb: (err?: Error | null) => void): void {
    if (this.state === 'connecting') {
      this.once('connect', () => this._final(cb));
      return;
    }
    if (this.id !== 0) {
      this.stack.lwip.x.el_tcp_shutdown(this.id, 0, 1);
      this.finSent = true;
      this.stack.kick();
    }
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    clearTimeout(this.idleTimer);
    if (this.id !== 0) {
      const x = this.stack.lwip.x;
      // As the kernel when node:net closes the descriptor: a reset for an error, before it
      // connected, or when received data was left unread; else a FIN.
      if (err || this.state === 'connecting' || this.readableLength > 0) {
        this.detach(true);
      } else {
        // What the application read counts as read: a shut window would make lwIP reset.
        if (this.unwindowed > 0) x.el_tcp_recved(this.id, this.unwindowed);
        this.unwindowed = 0;
        x.el_tcp_close(this.id);
        this.detach(false);
      }
    }
    const p = this.writing;
    this.writing = undefined;
    if (p) p.cb(err ?? netError('EPIPE', 'write'));
    cb(err);
  }

  // ---- node:net's socket surface ----

  setNoDelay(noDelay = true): this {
    this.noDelay = noDelay;
    if (this.id !== 0) this.stack.lwip.x.el_tcp_nodelay(this.id, noDelay ? 1 : 0);
    return this;
  }

  setKeepAlive(enable = false, initialDelay = 0): this {
    this.keepAlive = { on: enable, delay: initialDelay };
    if (this.id !== 0) this.stack.lwip.x.el_tcp_keepalive(this.id, enable ? 1 : 0, initialDelay > 0 ? initialDelay : 0);
    return this;
  }

  private applyOptions(): void {
    this.setNoDelay(this.noDelay);
    if (this.keepAlive) this.setKeepAlive(this.keepAlive.on, this.keepAlive.delay);
  }

  /** As node:net: 'timeout' after `ms` without activity (the socket stays open). */
  setTimeout(ms: number, cb?: () => void): this {
    this.timeoutMs = ms;
    if (cb) {
      if (ms === 0) this.removeListener('timeout', cb);
      else this.once('timeout', cb);
    }
    this.touch();
    return this;
  }

  private touch(): void {
    if (this.timeoutMs <= 0) {
      if (this.idleTimer) {
        clearTimeout(this.idleTimer);
        this.idleTimer = undefined;
      }
      return;
    }
    if (this.idleTimer) this.idleTimer.refresh();
    else {
      this.idleTimer = setTimeout(() => {
        this.idleTimer = undefined;
        this.emit('timeout');
      }, this.timeoutMs);
      this.idleTimer.unref();
    }
  }

  /** No handle to (un)reference: the switch session keeps the process alive. */
  ref(): this {
    return this;
  }

  unref(): this {
    return this;
  }

  address(): SocketAddress | Record<string, never> {
    return this.local ?? {};
  }

  get localAddress(): string | undefined {
    return this.local?.address;
  }

  get localPort(): number | undefined {
    return this.local?.port;
  }

  get localFamily(): string | undefined {
    return this.local?.family;
  }

  get remoteAddress(): string | undefined {
    return this.remote?.address;
  }

  get remotePort(): number | undefined {
    return this.remote?.port;
  }

  get remoteFamily(): string | undefined {
    return this.remote?.family;
  }

  /** Bytes accepted by write() but not yet in lwIP (node:net's bufferSize). */
  get bufferSize(): number {
    return this.writableLength;
  }

  get readyState(): string {
    if (this.state === 'connecting') return 'opening';
    if (this.readable && this.writable) return 'open';
    if (this.readable) return 'readOnly';
    if (this.writable) return 'writeOnly';
    return 'closed';
  }
}
