/**
 * The structural interface `elink proxy` is written against (agreed with its authors;
 * the same shape as @elink/proxy's net-like.ts): node:net satisfies it, and so does
 * SegmentStack, which adds `lookup`.
 */
import type { Duplex } from 'node:stream';

export interface NetLikeSocket extends Duplex {
  remoteAddress?: string;
  remotePort?: number;
  localAddress?: string;
  localPort?: number;
  setNoDelay(v?: boolean): this;
  setKeepAlive(enable?: boolean, delayMs?: number): this;
}

export interface NetLikeServer {
  listen(port: number, host?: string, cb?: () => void): this;
  close(cb?: (err?: Error) => void): this;
  address(): { address: string; family: string; port: number } | string | null;
  on(ev: 'connection', l: (s: NetLikeSocket) => void): this;
  on(ev: 'error', l: (e: Error) => void): this;
}

export interface NetLike {
  connect(opts: { host: string; port: number }, onConnect?: () => void): NetLikeSocket;
  createServer(onConnection?: (s: NetLikeSocket) => void): NetLikeServer;
  /** Resolves a host name to one address (literal addresses as they are). */
  lookup?(host: string): Promise<string>;
}
