/**
 * The segment terminated inside this process: the client package's Connector (broker
 * login, device key, tickets, the session to the switch, reconnects) moves the frames,
 * a NetStack (lwIP) terminates them, and the socket API on top is node:net/node:dgram's.
 * No TAP/TUN device, no root.
 *
 *   const stack = await SegmentStack.start({ broker, credentials, ca, logger });
 *   const server = stack.createServer((s) => s.end('hello\n')).listen(7000);
 *   const sock = stack.connect({ host: '198.19.0.7', port: 80 });
 *
 * The stack (and its sockets) outlives reconnects, as the kernel client's device does:
 * connections survive a switch restart if the addresses come back the same.
 */
import { EventEmitter } from 'node:events';
import { isIP } from 'node:net';
import { ElError, L2_OVERHEAD, softwareSegment, type Welcome } from '@elink/protocol';
import { FlushScheduler } from '@elink/transport';
import { Connector, type ConnectorOptions, type LoginReply } from '@elink/client';
import { interfaceFromWelcome, NetStack } from './net-stack.js';
import type { StackLimits } from './limits.js';
import { StackServer, type StackServerOptions } from './tcp-server.js';
import { StackSocket, type StackSocketOptions } from './tcp-socket.js';
import { StackUdpSocket, type RemoteInfo, type UdpType } from './udp-socket.js';
import { chooseDns, resolveName, type ChosenDns } from './dns.js';
import { coalesceTcp } from './gso-coalesce.js';
import type { NetLike } from '@elink/protocol';

export interface SegmentStackOptions extends Omit<ConnectorOptions, 'gso' | 'allocate' | 'scheduler'> {
  limits?: Partial<StackLimits>;
  /** Offer the "gso" capability: bulk TCP leaves as super-frames (FRAME_GSO), as from a
   * kernel client with offload, and arrives as such (segmented here). Default true. */
  gso?: boolean;
  /** DNS servers for lookup() (addresses on the segment or reachable through it). Given
   * (non-empty), they win; otherwise lookup() uses those the switch pushed in welcome. */
  dns?: string[];
  /** start() gives up after this long without a first session (default 30 s). */
  startTimeoutMs?: number;
}

export interface SegmentStackStats {
  /** Frames lwIP produced while no session was up (dropped). */
  droppedWhileDown: number;
  /** Frames from the switch lwIP did not take (pool exhausted, malformed), and super-frames that could not be segmented. */
  inputDrops: number;
  /** Of inputDrops: super-frames from the switch that could not be segmented. */
  superFrameDrops: number;
  /** Connections reset for the stack's or a server's limit. */
  refusedConnections: number;
  tcpConnections: number;
  udpSockets: number;
  /** Super-frames (FRAME_GSO) sent: runs of TCP segments coalesced (gso agreed with the switch). */
  superFramesOut: number;
  /** Super-frames received from clients with offload, segmented here. */
  superFramesIn: number;
}

/**
 * Events: 'up' (welcome), 'down' (err?), 'fatal' (err: ElError) — then it has stopped.
 */
export class SegmentStack extends EventEmitter implements NetLike {
  readonly connector: Connector;
  readonly net: NetStack;
  private droppedWhileDown = 0;
  private superDrops = 0;
  private superIn = 0;
  private superOut = 0;
  private welcomeNow: Welcome | undefined;
  private readonly scheduler = new FlushScheduler();

  constructor(private readonly opts: SegmentStackOptions) {
    super();
    this.net = new NetStack({
      output: (frames) => this.toSwitch(frames),
      limits: opts.limits,
      scheduler: this.scheduler,
    });
    const arena = this.scheduler.arena;
    // Frames read from the switch go into the scheduler's arena and straight into lwIP
    // (copied there): nothing keeps them after the call.
    this.connector = new Connector({ ...opts, gso: opts.gso ?? true, scheduler: this.scheduler, allocate: (_t, size) => arena.alloc(size) });
    this.connector.on('frame', (frame: Buffer, gso: boolean) => {
      if (!gso) return this.fromSwitch(frame);
      // A super-frame from a client with offload: lwIP takes MTU-sized frames.
      const w = this.welcomeNow;
      const segs = w ? softwareSegment(frame, w.mode === 'l2', w.mtu + (w.mode === 'l2' ? L2_OVERHEAD : 0)) : undefined;
      if (!segs) {
        this.superDrops++;
        return;
      }
      this.superIn++;
      for (let i = 0; i < segs.length; i++) this.fromSwitch(segs[i]);
    });
    this.connector.on('up', (welcome: Welcome, reply: LoginReply) => {
      try {
        this.net.configure(interfaceFromWelcome(welcome, reply.mac));
      } catch (e) {
        void this.stop('stack error').finally(() => this.emit('fatal', e));
        return;
      }
      this.welcomeNow = welcome;
      opts.logger.info({ mode: welcome.mode, ipv4: welcome.ipv4?.address, ipv6: welcome.ipv6?.address, mtu: welcome.mtu, mac: reply.mac, dns: welcome.dns?.servers, search: welcome.dns?.search }, 'stack up');
      this.emit('up', welcome);
    });
    this.connector.on('down', (err?: ElError) => this.emit('down', err));
    this.connector.on('fatal', (err: ElError) => {
      this.net.close();
      this.emit('fatal', err);
    });
  }

  /** Frames lwIP produced, to the switch (a seam for tests that impair the path). */
  protected toSwitch(frames: Buffer[]): void {
    const link = this.connector.current;
    if (!link) {
      this.droppedWhileDown += frames.length;
      return;
    }
    // With "gso" agreed, runs of one connection's segments leave as one super-frame each.
    if (link.gso && frames.length > 1) {
      const packets = coalesceTcp(frames, link.welcome.mode === 'l2');
      for (let i = 0; i < packets.length; i++) if (packets[i][1] !== 0) this.superOut++;
      link.sendVnetPackets(packets);
    } else link.sendFrames(frames);
  }

  /** A frame from the switch, into lwIP; `frame` is valid only during the call. */
  protected fromSwitch(frame: Buffer): void {
    this.net.input(frame);
  }

  /** A stack whose first session is up (rejects on a permanent failure or after startTimeoutMs). */
  static async start(opts: SegmentStackOptions): Promise<SegmentStack> {
    return SegmentStack.started(new SegmentStack(opts), opts.startTimeoutMs);
  }

  /** Starts `s` and resolves once its first session is up. */
  static async started<T extends SegmentStack>(s: T, startTimeoutMs?: number): Promise<T> {
    const opts = { startTimeoutMs };
    const timeoutMs = opts.startTimeoutMs ?? 30_000;
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => {
        cleanup();
        void s.stop('start timed out');
        reject(new ElError('EL_ERR_UNAVAILABLE', `no session to the switch within ${timeoutMs} ms (see the log for each attempt)`));
      }, timeoutMs);
      const onUp = () => {
        cleanup();
        resolve();
      };
      const onFatal = (err: Error) => {
        cleanup();
        reject(err);
      };
      const cleanup = () => {
        clearTimeout(t);
        s.off('up', onUp);
        s.off('fatal', onFatal);
      };
      s.on('up', onUp);
      s.on('fatal', onFatal);
      s.connector.start();
    });
    return s;
  }

  start(): void {
    this.connector.start();
  }

  /** What the switch pushed last (addresses, routes, MTU); undefined before the first session. */
  get welcome(): Welcome | undefined {
    return this.welcomeNow;
  }

  /** Our addresses on the segment, without prefix length. */
  get addresses(): { ipv4?: string; ipv6?: string } {
    const w = this.welcomeNow;
    return { ipv4: w?.ipv4?.address.split('/')[0], ipv6: w?.ipv6?.address.split('/')[0] };
  }

  get stats(): SegmentStackStats {
    return {
      droppedWhileDown: this.droppedWhileDown,
      inputDrops: this.net.inputDrops + this.superDrops,
      superFrameDrops: this.superDrops,
      refusedConnections: this.net.refusedConnections,
      tcpConnections: this.net.tcp.size,
      udpSockets: this.net.udp.size,
      superFramesOut: this.superOut,
      superFramesIn: this.superIn,
    };
  }

  /** As net.connect: connect({ host, port }, cb) or connect(port, host, cb). `host` must be an IP address (see lookup). */
  connect(opts: { host: string; port: number; allowHalfOpen?: boolean; noDelay?: boolean; keepAlive?: boolean; keepAliveInitialDelay?: number } | number, host?: string | (() => void), onConnect?: () => void): StackSocket {
    let o: { host: string; port: number; allowHalfOpen?: boolean; noDelay?: boolean; keepAlive?: boolean; keepAliveInitialDelay?: number };
    if (typeof opts === 'number') {
      if (typeof host === 'function') {
        onConnect = host;
        host = undefined;
      }
      o = { port: opts, host: host ?? '127.0.0.1' };
    } else {
      o = opts;
      if (typeof host === 'function') onConnect = host;
    }
    const s = new StackSocket(this.net, { allowHalfOpen: o.allowHalfOpen });
    if (onConnect) s.once('connect', onConnect);
    if (o.noDelay === false) s.setNoDelay(false);
    if (o.keepAlive) s.setKeepAlive(true, o.keepAliveInitialDelay ?? 0);
    return s.connectTo(o.host, o.port);
  }

  /** Alias of connect, as node:net. */
  createConnection(opts: { host: string; port: number }, onConnect?: () => void): StackSocket {
    return this.connect(opts, onConnect);
  }

  createServer(opts?: StackServerOptions | ((s: StackSocket) => void), onConnection?: (s: StackSocket) => void): StackServer {
    if (typeof opts === 'function') return new StackServer(this.net, {}, opts);
    return new StackServer(this.net, opts ?? {}, onConnection);
  }

  /** As dgram.createSocket('udp4' | 'udp6', onMessage?). */
  createSocket(type: UdpType | { type: UdpType }, onMessage?: (msg: Buffer, rinfo: RemoteInfo) => void): StackUdpSocket {
    return new StackUdpSocket(this.net, typeof type === 'string' ? type : type.type, onMessage);
  }

  /** The DNS servers and search domains lookup() uses: the `dns` option when given, else
   * what the last welcome pushed (`segments[].dns` on the switch), else none. */
  get dns(): ChosenDns {
    return chooseDns(this.opts.dns, this.welcomeNow?.dns);
  }

  /** A name as one address: literals as they are, else a DNS query (A, then AAAA) to
   * the servers of `dns` over the segment; a name without a dot tries the pushed search
   * domains first, as a resolver with `search` in resolv.conf does. */
  async lookup(host: string): Promise<string> {
    const h = host.replace(/^\[|\]$/g, '');
    if (isIP(h)) return h;
    const { servers, search } = this.dns;
    return resolveName(this, h, servers, h.includes('.') ? [] : search);
  }

  /** Ends the session (bye) and every socket. */
  async stop(reason = 'stack stopping'): Promise<void> {
    this.net.close();
    await this.connector.stop(reason);
  }
}
