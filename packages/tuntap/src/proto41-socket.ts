import { isIPv4 } from 'node:net';
import { TunTapError, reasonForErrno } from './errors.js';
import { loadBinding, type NativeProto41Socket } from './native.js';

export interface Proto41Stats {
  rxPackets: number;
  rxBytes: number;
  txPackets: number;
  txBytes: number;
  /** Packets sendMany could not hand to the kernel (buffer full, longer than the path MTU, no route). */
  txDropped: number;
  /** Received packets that were not a whole IPv4 protocol-41 packet with an IPv6 header inside (truncated, bad header). */
  rxBad: number;
}

export interface Proto41Options {
  /** Messages per recvmmsg (one wake-up); default 64, at most 1024. */
  batch?: number;
  /** Longest outer packet read (bytes, 1280..65536); longer ones count as rxBad. Default 9216. */
  slot?: number;
  /** TTL of the outer IPv4 header; default 64. */
  ttl?: number;
  /** SO_RCVBUF / SO_SNDBUF in bytes (0: the system default); default 4 MiB. */
  bufferBytes?: number;
  /** Bind to this local IPv4 address (the test client: its tunnel's local end). */
  local?: string;
  /** Connect to this peer: receive only from it, send to it (the test client). */
  remote?: string;
}

/** Called once per wake-up: inner packet i is `slab[meta[4i] .. meta[4i] + meta[4i+1]]`, from
 * outer source meta[4i+2] to outer destination meta[4i+3] (IPv4 as unsigned numbers). The slab
 * is read into again after the call returns: copy what you keep. */
export type Proto41Handler = (slab: Buffer, meta: Uint32Array, count: number) => void;

export const DEFAULT_PROTO41_BATCH = 64;
export const DEFAULT_PROTO41_SLOT = 9216;
export const DEFAULT_PROTO41_TTL = 64;
export const DEFAULT_PROTO41_BUFFER = 4 * 1024 * 1024;

/**
 * A raw IPv4 socket for protocol 41 (6in4): what a sit device sends and receives, in user
 * space. Reads are event-driven and batched (recvmmsg into one reused slab, one JS call per
 * wake-up); writes are batched (sendmmsg), the kernel building the outer header (DF, `ttl`,
 * the source given per batch). Needs CAP_NET_RAW.
 */
export class Proto41Socket {
  readonly #native: NativeProto41Socket;
  readonly #meta: Uint32Array;
  readonly #stats: Float64Array;
  #closed = false;

  private constructor(native: NativeProto41Socket, onPackets: Proto41Handler, onError: (err: TunTapError) => void) {
    this.#native = native;
    this.#meta = native.meta();
    this.#stats = native.stats();
    const meta = this.#meta;
    native.onread = (slab, count) => onPackets(slab, meta, count);
    native.onerror = (errno, syscall) => {
      const cause = Object.assign(new Error(`${syscall} failed (errno ${errno})`), { errno, syscall });
      onError(new TunTapError(reasonForErrno(errno, 'start'), `reading IPv4 protocol 41 failed, reading stopped: ${cause.message}`, { cause }));
    };
  }

  /** Opens the socket and starts reading. Throws TunTapError (ElError EL_ERR_TUNTAP): no CAP_NET_RAW, a local address not on this host. */
  static open(opts: Proto41Options, onPackets: Proto41Handler, onError: (err: TunTapError) => void): Proto41Socket {
    const { Proto41Socket: Native } = loadBinding();
    let native: NativeProto41Socket;
    try {
      native = new Native(opts.batch ?? DEFAULT_PROTO41_BATCH, opts.slot ?? DEFAULT_PROTO41_SLOT, opts.ttl ?? DEFAULT_PROTO41_TTL, opts.bufferBytes ?? DEFAULT_PROTO41_BUFFER, ipv4Number(opts.local), ipv4Number(opts.remote));
    } catch (err) {
      const errno = (err as { errno?: number }).errno;
      const reason = errno === undefined ? 'io' : reasonForErrno(errno, 'start');
      const advice = reason === 'permission' ? 'needs root or CAP_NET_RAW' : reason === 'invalid' ? 'check the local address (it must be an address of this host) and the options' : 'see the cause';
      throw new TunTapError(reason, `cannot open a raw IPv4 protocol-41 socket: ${(err as Error).message}; ${advice}`, { cause: err });
    }
    const socket = new Proto41Socket(native, onPackets, onError);
    native.start();
    return socket;
  }

  get stats(): Proto41Stats {
    const s = this.#stats;
    return { rxPackets: s[0], rxBytes: s[1], txPackets: s[2], txBytes: s[3], txDropped: s[4], rxBad: s[5] };
  }

  /** Sends each packet (an IPv6 packet: the kernel puts the outer IPv4 header in front) to
   * `dst` (0: the connected peer) from `src` (0: the kernel's choice); returns how many the
   * kernel took. Never throws for a refused packet: it is counted in txDropped. */
  sendMany(packets: readonly Buffer[], dst: number, src: number): number {
    return this.#native.sendMany(packets, dst, src);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#native.close();
  }
}

/** An IPv4 address as an unsigned 32-bit number; undefined and '' are 0. Throws TypeError on anything else. */
export function ipv4Number(address: string | undefined): number {
  if (address === undefined || address === '') return 0;
  if (!isIPv4(address)) throw new TypeError(`${JSON.stringify(address)} is not an IPv4 address`);
  const [a, b, c, d] = address.split('.').map(Number);
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

export function ipv4Text(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}
