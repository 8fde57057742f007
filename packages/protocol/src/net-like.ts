/**
 * The seam between `elink proxy` (@elink/proxy) and the network its connections go out
 * on: node:net satisfies it (the proxy's unit tests), and so does the user-mode stack
 * (@elink/stack's SegmentStack), which adds `lookup` for names resolved with the DNS
 * servers the segment pushes. Here, once, because both packages build on it.
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
  /** Resolves a host name to one address; absent: names go to connect() as they are. */
  lookup?(host: string): Promise<string>;
}
