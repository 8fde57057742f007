/**
 * One lwIP instance as a network stack for this process: frames in (input), frames out
 * (the `output` callback, one batch per flush), the interface configured from what the
 * switch pushed (configure), lwIP's timers on the event loop, and the table of sockets
 * that lwIP's events are delivered to. Knows nothing of the switch session
 * (segment-stack.ts joins the two), so two stacks can be wired back to back in a test.
 */
import { ElError, type Welcome } from '@elink/protocol';
import { FlushScheduler, type Flushable } from '@elink/transport';
import { IO_SIZE, ipv4Bytes, ipv6Bytes, Lwip, type EventSink } from './lwip.js';
import { DEFAULT_LIMITS, type StackLimits } from './limits.js';
import type { StackServer } from './tcp-server.js';
import type { StackSocket } from './tcp-socket.js';
import type { StackUdpSocket } from './udp-socket.js';

/** What an event does once lwIP has returned (queued: lwIP is never re-entered). */
const enum Ev {
  Connected,
  Accepted,
  Recv,
  Fin,
  Sent,
  Err,
  Udp,
}

interface QueuedEvent {
  kind: Ev;
  id: number;
  n: number;
  data: Buffer | undefined;
  /** Accepted: the listener; Udp: the sender. */
  extra: unknown;
}

export interface NetStackOptions {
  /** Sends frames (L2) or packets (L3) lwIP produced; the buffers are the caller's to keep. */
  output: (frames: Buffer[]) => void;
  limits?: Partial<StackLimits>;
  /** Flushes at the end of each read of the owner's input (see FlushScheduler); default: one of its own. */
  scheduler?: FlushScheduler;
  /** lwIP's clock in milliseconds (default performance.now): tests run its timers faster. */
  clock?: () => number;
}

export interface InterfaceConfig {
  mode: 'l2' | 'l3';
  mtu: number;
  /** L2: our MAC (the one the broker gave the session). */
  mac?: string;
  ipv4?: { address: string; gateway?: string };
  ipv6?: { address: string; gateway?: string };
}

/** The interface part of a `welcome` (plus the session's MAC from the login reply). */
export function interfaceFromWelcome(welcome: Welcome, mac: string | undefined): InterfaceConfig {
  return { mode: welcome.mode, mtu: welcome.mtu, mac, ipv4: welcome.ipv4, ipv6: welcome.ipv6 };
}

export class NetStack implements Flushable {
  readonly lwip: Lwip;
  readonly limits: StackLimits;
  flushPending = false;
  readonly tcp = new Map<number, StackSocket>();
  readonly listeners = new Map<number, StackServer>();
  readonly udp = new Map<number, StackUdpSocket>();
  private readonly queue: QueuedEvent[] = [];
  private tx: Buffer[] = [];
  private flushing = false;
  private microtask = false;
  private timer: NodeJS.Timeout | undefined;
  private timerDue = Infinity;
  private configured: InterfaceConfig | undefined;
  private closed = false;
  readonly scheduler: FlushScheduler;
  /** Frames lwIP refused (pool exhausted, malformed). */
  inputDrops = 0;
  /** Connections refused for the connection limit. */
  refusedConnections = 0;

  constructor(private readonly opts: NetStackOptions) {
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
    this.scheduler = opts.scheduler ?? new FlushScheduler();
    const q = this.queue;
    const push = (kind: Ev, id: number, n: number, data?: Buffer, extra?: unknown) => {
      q.push({ kind, id, n, data, extra });
    };
    const sink: EventSink = {
      connected: (id) => push(Ev.Connected, id, 0),
      accept: (listener, id) => {
        const server = this.listeners.get(listener);
        if (!server || this.tcp.size >= this.limits.maxConnections || server.full) {
          this.refusedConnections++;
          return false;
        }
        // The socket exists from now on (lwIP's events for `id` find it); 'connection'
        // is emitted once lwIP has returned.
        server.adopt(id);
        push(Ev.Accepted, id, 0, undefined, server);
        return true;
      },
      recv: (id, data) => push(Ev.Recv, id, 0, data),
      fin: (id) => push(Ev.Fin, id, 0),
      sent: (id, len) => push(Ev.Sent, id, len),
      err: (id, err) => push(Ev.Err, id, err),
      udpRecv: (id, data, family, address, port) => push(Ev.Udp, id, 0, data, { family: family === 4 ? 'IPv4' : 'IPv6', address, port, size: data.length }),
      tx: (frame) => {
        const b = Buffer.allocUnsafe(frame.length);
        b.set(frame);
        this.tx.push(b);
      },
    };
    this.lwip = new Lwip(sink, opts.clock);
  }

  get mode(): 'l2' | 'l3' | undefined {
    return this.configured?.mode;
  }

  get config(): InterfaceConfig | undefined {
    return this.configured;
  }

  /**
   * Sets the interface up (first call) or updates it (after a reconnect: the stack and
   * its sockets outlive the session, as the kernel client's device does). The mode of a
   * stack cannot change.
   */
  configure(cfg: InterfaceConfig): void {
    const x = this.lwip.x;
    if (!this.configured) {
      if (cfg.mode === 'l2') {
        if (!cfg.mac) throw new ElError('EL_ERR_INVALID', 'an L2 segment needs the MAC address the broker assigned');
        this.lwip.toIo(Buffer.from(cfg.mac.split(':').map((h) => parseInt(h, 16))));
      }
      if (x.el_setup(cfg.mode === 'l2' ? 2 : 3, cfg.mtu) !== 0) throw new ElError('EL_ERR_INTERNAL', 'lwIP could not add the interface');
    } else if (this.configured.mode !== cfg.mode) {
      throw new ElError('EL_ERR_INVALID', `the segment changed from ${this.configured.mode} to ${cfg.mode}: a stack keeps its mode; start a new one`);
    } else {
      x.el_set_mtu(cfg.mtu);
    }
    const io = Buffer.alloc(32);
    if (cfg.ipv4) {
      const [addr, len] = cfg.ipv4.address.split('/');
      io.set(ipv4Bytes(addr), 0);
      io.writeUInt32BE(len === undefined ? 0xffffffff : Number(len) === 0 ? 0 : (0xffffffff << (32 - Number(len))) >>> 0, 4);
      if (cfg.ipv4.gateway) io.set(ipv4Bytes(cfg.ipv4.gateway), 8);
    }
    this.lwip.toIo(io.subarray(0, 12));
    x.el_set_ipv4();
    io.fill(0);
    if (cfg.ipv6) {
      io.set(ipv6Bytes(cfg.ipv6.address.split('/')[0]), 0);
      if (cfg.ipv6.gateway) io.set(ipv6Bytes(cfg.ipv6.gateway), 16);
    }
    this.lwip.toIo(io);
    x.el_set_ipv6();
    this.configured = { ...cfg };
    this.kick();
  }

  /** A frame (L2) or packet (L3) from the segment; copied at once. */
  input(frame: Uint8Array): void {
    if (this.closed || !this.configured || frame.length > IO_SIZE) {
      this.inputDrops++;
      return;
    }
    this.lwip.toIo(frame);
    if (this.lwip.x.el_input(frame.length) !== 0) this.inputDrops++;
    this.scheduler.schedule(this);
  }

  /** Acts on what lwIP did soon (a microtask): writes from the application batch up. */
  kick(): void {
    if (this.microtask || this.closed) return;
    this.microtask = true;
    queueMicrotask(() => {
      this.microtask = false;
      this.flush();
    });
  }

  /** Delivers lwIP's events, sends the frames it produced (one batch), re-arms the timer. */
  flush(): void {
    if (this.flushing) return;
    this.flushing = true;
    try {
      this.deliver();
      this.armTimer();
      this.deliver();
    } finally {
      this.flushing = false;
    }
    if (this.tx.length > 0) {
      const frames = this.tx;
      this.tx = [];
      if (!this.closed) this.opts.output(frames);
    }
  }

  private deliver(): void {
    const q = this.queue;
    // Handlers may call into lwIP, which may queue more: the loop takes those too.
    for (let i = 0; i < q.length; i++) {
      const e = q[i];
      switch (e.kind) {
        case Ev.Connected:
          this.tcp.get(e.id)?.onConnected();
          break;
        case Ev.Accepted:
          (e.extra as StackServer).onAccepted(e.id);
          break;
        case Ev.Recv:
          this.tcp.get(e.id)?.onData(e.data!);
          break;
        case Ev.Fin:
          this.tcp.get(e.id)?.onFin();
          break;
        case Ev.Sent:
          this.tcp.get(e.id)?.onSent(e.n);
          break;
        case Ev.Err:
          this.tcp.get(e.id)?.onLwipError(e.n);
          break;
        case Ev.Udp:
          this.udp.get(e.id)?.onMessage(e.data!, e.extra as { family: 'IPv4' | 'IPv6'; address: string; port: number; size: number });
          break;
      }
    }
    q.length = 0;
  }

  private armTimer(): void {
    if (this.closed || !this.configured) return;
    const wait = this.lwip.x.el_poll() >>> 0;
    if (wait === 0xffffffff) return;
    const due = performance.now() + wait;
    if (this.timer && due >= this.timerDue - 1) return;
    clearTimeout(this.timer);
    this.timerDue = due;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerDue = Infinity;
      this.flush();
    }, wait);
    // The stack's users (sockets, the switch session) keep the process alive, not lwIP's clock.
    this.timer.unref();
  }

  /** Ends everything: sockets are destroyed, no frames leave any more. */
  close(): void {
    if (this.closed) return;
    for (const s of [...this.tcp.values()]) s.destroy();
    for (const l of [...this.listeners.values()]) l.close();
    for (const u of [...this.udp.values()]) u.close();
    this.flush();
    this.closed = true;
    clearTimeout(this.timer);
  }

  get isClosed(): boolean {
    return this.closed;
  }
}
