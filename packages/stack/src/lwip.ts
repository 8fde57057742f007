/**
 * lwIP compiled to WebAssembly (wasm/lwip.wasm, built by build-wasm.sh from lwip/ and
 * csrc/): one instance per stack, as lwIP keeps its state in globals. The module's
 * imports only record what happened (events) and copy out what they point at; the
 * owner acts on the events after the exported call returns, so lwIP is never
 * re-entered from inside its own callbacks.
 */
import { readFileSync } from 'node:fs';
import { ElError } from '@elink/protocol';

/** lwIP's err_t values that the API maps (lwip/err.h). */
export const enum LwipErr {
  OK = 0,
  MEM = -1,
  BUF = -2,
  TIMEOUT = -3,
  RTE = -4,
  INPROGRESS = -5,
  VAL = -6,
  WOULDBLOCK = -7,
  USE = -8,
  ALREADY = -9,
  ISCONN = -10,
  CONN = -11,
  IF = -12,
  ABRT = -13,
  RST = -14,
  CLSD = -15,
  ARG = -16,
}

/** What lwIP's callbacks report, called from the imports while lwIP runs: record, copy, act later. */
export interface EventSink {
  connected(id: number): void;
  /** Whether to take a new connection on listener `listener` (false: lwIP resets it). */
  accept(listener: number, id: number): boolean;
  recv(id: number, data: Buffer): void;
  fin(id: number): void;
  sent(id: number, len: number): void;
  err(id: number, err: number): void;
  udpRecv(id: number, data: Buffer, family: 4 | 6, address: string, port: number): void;
  /** A frame (L2) or packet (L3) lwIP sends; `frame` is a view into the module's memory, valid only during the call. */
  tx(frame: Uint8Array): void;
}

/** The few WebAssembly JS API pieces used (the DOM lib types them; this package builds without it). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: object };
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

interface Exports {
  memory: { buffer: ArrayBuffer };
  el_io(): number;
  el_addr(): number;
  el_setup(mode: number, mtu: number): number;
  el_set_mtu(mtu: number): void;
  el_set_ipv4(): void;
  el_set_ipv6(): void;
  el_input(len: number): number;
  el_poll(): number;
  el_tcp_new(family: number): number;
  el_tcp_bind(id: number): number;
  el_tcp_listen(id: number, backlog: number): number;
  el_tcp_connect(id: number): number;
  el_tcp_write(id: number, len: number, more: number): number;
  el_tcp_output(id: number): number;
  el_tcp_recved(id: number, len: number): void;
  el_tcp_sndbuf(id: number): number;
  el_tcp_unacked(id: number): number;
  el_tcp_shutdown(id: number, rx: number, tx: number): number;
  el_tcp_close(id: number): void;
  el_tcp_abort(id: number): void;
  el_tcp_nodelay(id: number, on: number): void;
  el_tcp_keepalive(id: number, on: number, idleMs: number): void;
  el_tcp_addr(id: number, which: number): void;
  el_udp_new(family: number): number;
  el_udp_bind(id: number): number;
  el_udp_sendto(id: number, len: number): number;
  el_udp_local(id: number): void;
  el_udp_close(id: number): void;
}

/** The size of the module's `io` buffer (csrc/glue.c IO_SIZE). */
export const IO_SIZE = 65536;

let compiled: object | undefined;

/** The compiled module, once per process (instances are cheap, compiling is not). */
function wasmModule(): object {
  compiled ??= new WA.Module(readFileSync(new URL('../wasm/lwip.wasm', import.meta.url)));
  return compiled;
}

export interface SockAddr {
  family: 4 | 6;
  address: string;
  port: number;
}

/** A typed face over one lwIP instance. */
export class Lwip {
  readonly x: Exports;
  readonly mem: Uint8Array;
  readonly io: number;
  private readonly addrPtr: number;

  /** `clock`: milliseconds, any origin (default: performance.now); tests drive lwIP's timers with their own. */
  constructor(
    private readonly sink: EventSink,
    clock?: () => number,
  ) {
    const time = clock ?? (() => performance.now());
    const start = time();
    const copy = (ptr: number, len: number): Buffer => {
      const b = Buffer.allocUnsafe(len);
      b.set(this.mem.subarray(ptr, ptr + len));
      return b;
    };
    const imports = {
      el: {
        now: () => (time() - start) >>> 0,
        rand: () => (Math.random() * 0x100000000) >>> 0,
        assert_failed: (file: number, line: number) => {
          let end = file;
          while (this.mem[end] !== 0 && end - file < 256) end++;
          throw new ElError('EL_ERR_INTERNAL', `lwIP assertion failed at ${Buffer.from(this.mem.subarray(file, end)).toString()}:${line}`);
        },
        connected: (id: number) => sink.connected(id),
        accept: (listener: number, id: number) => (sink.accept(listener, id) ? 0 : 1),
        recv: (id: number, ptr: number, len: number) => sink.recv(id, copy(ptr, len)),
        fin: (id: number) => sink.fin(id),
        sent: (id: number, len: number) => sink.sent(id, len),
        err: (id: number, err: number) => sink.err(id, err),
        udp_recv: (id: number, ptr: number, len: number) => {
          const a = this.readAddr();
          sink.udpRecv(id, copy(ptr, len), a.family, a.address, a.port);
        },
        tx: (ptr: number, len: number) => sink.tx(this.mem.subarray(ptr, ptr + len)),
      },
    };
    const instance = new WA.Instance(wasmModule(), imports);
    this.x = instance.exports as unknown as Exports;
    // The module's memory has a fixed size (initial = maximum): this view stays valid.
    this.mem = new Uint8Array(this.x.memory.buffer);
    this.io = this.x.el_io();
    this.addrPtr = this.x.el_addr();
  }

  /** Copies `data` into io (at most IO_SIZE bytes). */
  toIo(data: Uint8Array, offset = 0): void {
    this.mem.set(data, this.io + offset);
  }

  /** Writes a socket address (family 0: any of both families) for the next call. */
  writeAddr(family: 0 | 4 | 6, address: string | undefined, port: number): void {
    const m = this.mem;
    const p = this.addrPtr;
    m.fill(0, p, p + 20);
    m[p] = family;
    m[p + 2] = port & 0xff;
    m[p + 3] = port >>> 8;
    if (family === 4) m.set(ipv4Bytes(address!), p + 4);
    else if (family === 6) m.set(ipv6Bytes(address!), p + 4);
  }

  readAddr(): SockAddr {
    const m = this.mem;
    const p = this.addrPtr;
    const family = m[p] === 6 ? 6 : 4;
    const port = m[p + 2] | (m[p + 3] << 8);
    const bytes = m.subarray(p + 4, p + 20);
    return { family, port, address: family === 4 ? `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}` : ipv6String(bytes) };
  }
}

export function ipv4Bytes(a: string): Uint8Array {
  const parts = a.split('.').map(Number);
  if (parts.length !== 4 || parts.some((n) => !Number.isInteger(n) || n < 0 || n > 255)) throw new ElError('EL_ERR_INVALID', `not an IPv4 address: ${a}`);
  return Uint8Array.from(parts);
}

export function ipv6Bytes(a: string): Uint8Array {
  let s = a.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const out = new Uint8Array(16);
  // An embedded IPv4 tail (::ffff:1.2.3.4).
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const b = ipv4Bytes(v4[1]);
    s = s.slice(0, -v4[1].length) + `${((b[0] << 8) | b[1]).toString(16)}:${((b[2] << 8) | b[3]).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) throw new ElError('EL_ERR_INVALID', `not an IPv6 address: ${a}`);
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  if (halves.length === 1 && head.length !== 8) throw new ElError('EL_ERR_INVALID', `not an IPv6 address: ${a}`);
  const groups = [...head, ...new Array<string>(8 - head.length - tail.length).fill('0'), ...tail];
  if (groups.length !== 8) throw new ElError('EL_ERR_INVALID', `not an IPv6 address: ${a}`);
  for (let i = 0; i < 8; i++) {
    const g = groups[i];
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) throw new ElError('EL_ERR_INVALID', `not an IPv6 address: ${a}`);
    const v = parseInt(g, 16);
    out[i * 2] = v >>> 8;
    out[i * 2 + 1] = v & 0xff;
  }
  return out;
}

/** RFC 5952 text form (as node:net reports addresses). */
export function ipv6String(b: Uint8Array): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((b[i * 2] << 8) | b[i * 2 + 1]);
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) return `::ffff:${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}
