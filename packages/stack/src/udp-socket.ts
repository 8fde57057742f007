/**
 * A UDP socket on the stack, as node:dgram's Socket: bind(port?, address?, cb?),
 * send(msg, port, address, cb?), 'message' (msg, rinfo), 'listening', 'close',
 * 'error', address(), close(cb?). Datagrams are delivered as they arrive (nothing is
 * queued here); a send that lwIP cannot take (no memory, no route) reports an error to
 * its callback, as a full kernel buffer would.
 */
import { EventEmitter } from 'node:events';
import { isIP } from 'node:net';
import { IO_SIZE, LwipErr } from './lwip.js';
import type { NetStack } from './net-stack.js';
import { netError } from './tcp-socket.js';

export interface RemoteInfo {
  address: string;
  family: 'IPv4' | 'IPv6';
  port: number;
  size: number;
}

export type UdpType = 'udp4' | 'udp6';

export class StackUdpSocket extends EventEmitter {
  private id = 0;
  private closed = false;

  constructor(
    private readonly stack: NetStack,
    readonly type: UdpType,
    onMessage?: (msg: Buffer, rinfo: RemoteInfo) => void,
  ) {
    super();
    if (onMessage) this.on('message', onMessage);
  }

  /** bind(port?, address?, cb?) / bind(cb?); unbound sockets bind to an ephemeral port on first send. */
  bind(port?: number | (() => void), address?: string | (() => void), cb?: () => void): this {
    if (typeof port === 'function') {
      cb = port;
      port = 0;
    }
    if (typeof address === 'function') {
      cb = address;
      address = undefined;
    }
    if (cb) this.once('listening', cb);
    const err = this.open(port ?? 0, address);
    if (err) process.nextTick(() => this.emit('error', err));
    else process.nextTick(() => this.emit('listening'));
    return this;
  }

  private open(port: number, address: string | undefined): Error | undefined {
    if (this.closed) return netError('EINVAL', 'bind', 'the socket is closed');
    if (this.id !== 0) return netError('EINVAL', 'bind', 'the socket is already bound');
    if (this.stack.udp.size >= this.stack.limits.maxUdpSockets) return netError('EMFILE', 'bind', `(the stack's UDP socket limit, ${this.stack.limits.maxUdpSockets})`);
    const x = this.stack.lwip.x;
    // udp6 without an address: both families (as node:dgram's udp6 without ipv6Only).
    const family: 0 | 4 | 6 = address ? (isIP(address) as 0 | 4 | 6) : this.type === 'udp4' ? 4 : 0;
    if (address && family === 0) return netError('EINVAL', 'bind', `${address}: not an IP address`);
    const id = x.el_udp_new(family);
    if (id === 0) return netError('ENOBUFS', 'bind', '(lwIP has no free UDP pcb)');
    this.stack.lwip.writeAddr(family, address ?? (family === 4 ? '0.0.0.0' : undefined), port);
    if (x.el_udp_bind(id) !== LwipErr.OK) {
      x.el_udp_close(id);
      return netError('EADDRINUSE', 'bind', `${address ?? '*'}:${port}`);
    }
    this.id = id;
    this.stack.udp.set(id, this);
    return undefined;
  }

  send(msg: Buffer | Uint8Array | string, port: number, address: string, cb?: (err: Error | null, bytes?: number) => void): void {
    const data = typeof msg === 'string' ? Buffer.from(msg) : msg;
    const done = (err: Error | null) => {
      if (cb) process.nextTick(() => cb(err, err ? undefined : data.length));
      else if (err) process.nextTick(() => this.emit('error', err));
    };
    if (this.id === 0) {
      const err = this.open(0, undefined);
      if (err) return done(err);
      process.nextTick(() => this.emit('listening'));
    }
    const family = isIP(address);
    if (family === 0) return done(netError('EINVAL', 'send', `${address}: not an IP address`));
    if (data.length > IO_SIZE - 8) return done(netError('EINVAL', 'send', `a datagram of ${data.length} bytes is too long`));
    const l = this.stack.lwip;
    l.toIo(data);
    l.writeAddr(family as 4 | 6, address, port);
    const r = l.x.el_udp_sendto(this.id, data.length);
    this.stack.kick();
    if (r === LwipErr.OK) return done(null);
    done(netError(r === LwipErr.RTE ? 'EHOSTUNREACH' : 'ENOBUFS', 'send', `${address}:${port} (lwIP error ${r})`));
  }

  onMessage(msg: Buffer, rinfo: RemoteInfo): void {
    if (!this.closed) this.emit('message', msg, rinfo);
  }

  address(): { address: string; family: string; port: number } {
    if (this.id === 0) throw netError('EINVAL', 'getsockname', 'the socket is not bound');
    const l = this.stack.lwip;
    l.x.el_udp_local(this.id);
    const a = l.readAddr();
    return { address: a.address, family: a.family === 4 ? 'IPv4' : 'IPv6', port: a.port };
  }

  close(cb?: () => void): this {
    if (this.closed) return this;
    this.closed = true;
    if (this.id !== 0) {
      this.stack.udp.delete(this.id);
      this.stack.lwip.x.el_udp_close(this.id);
      this.id = 0;
    }
    if (cb) this.once('close', cb);
    process.nextTick(() => this.emit('close'));
    return this;
  }

  ref(): this {
    return this;
  }

  unref(): this {
    return this;
  }
}
