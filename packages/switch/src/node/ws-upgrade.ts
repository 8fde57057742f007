/**
 * EL over WebSocket (docs/protocol.md §1.1) on the switch's client port — a TLS connection
 * that negotiated ALPN `http/1.1` (or none: an L7 balancer re-encrypting to the node
 * often sends none) is HTTP/1.1, and the only thing it may do is upgrade at WS_PATH
 * with the subprotocol WS_SUBPROTOCOL, within the handshake timeout. The upgraded
 * WebSocket becomes a WsRecordConn for acceptConn(), like a raw TLS connection, so
 * admission (the ConnectionGuard, PROXY protocol, TLS handshake timeout) happened before
 * and hello, tickets and limits happen after exactly as on raw TLS. Any other request is
 * answered with a status and closed; nothing else is served. The same on the optional
 * plain-HTTP listener for an ingress that terminates TLS (switch.websocket.listen), where
 * X-Forwarded-For from the trusted ingress ranges names the client.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { isIP, type Socket } from 'node:net';
import { Counter, type Registry } from 'prom-client';
import { answerUpgrade, checkUpgrade, TrustedSources, WS_PATH, WS_SUBPROTOCOL, WsRecordConn, type WsRecordConnOptions } from '@elink/transport';

/** The last address of an X-Forwarded-For header (the one the trusted ingress appended), if it is one. */
export function lastForwarded(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header.at(-1) : header;
  const last = value?.split(',').at(-1)?.trim().replace(/^\[|\]$/g, '');
  return last && isIP(last) ? last : undefined;
}

export type WsUpgradeResult = 'ok' | 'not_found' | 'no_upgrade' | 'bad_subprotocol' | 'bad_request' | 'timeout';

export interface WsUpgradeOptions extends WsRecordConnOptions {
  /** Sources (an ingress) whose X-Forwarded-For names the client: its last address becomes
   * the conn's address. From anyone else the header is ignored. */
  trusted?: readonly string[] | undefined;
  /** X-Forwarded-For named this source for `raw` (ConnectionGuard.readmit); false: refused (destroyed). */
  onSource?: (raw: Socket, address: string, port: number) => boolean;
  /** The upgrade request must be complete within this, from the end of the TLS handshake. */
  timeoutMs: number;
  registry?: Registry | undefined;
  /** An upgraded connection, ready for SwitchNode.acceptConn. */
  onConn: (conn: WsRecordConn) => void;
  /** A connection refused before the upgrade (the node's sampled pre-auth log). */
  onRefused?: (result: Exclude<WsUpgradeResult, 'ok'>, peer: string) => void;
}

function counterIn(registry: Registry): Counter<'result'> {
  return (
    (registry.getSingleMetric('el_switch_websocket_upgrades_total') as Counter<'result'> | undefined) ??
    new Counter({ name: 'el_switch_websocket_upgrades_total', help: 'HTTP connections on the switch port by outcome: ok (upgraded to EL over WebSocket) or why refused', labelNames: ['result'], registers: [registry] })
  );
}

const STATUS: Record<Exclude<WsUpgradeResult, 'ok' | 'timeout' | 'no_upgrade'>, string> = {
  not_found: '404 Not Found',
  bad_subprotocol: '400 Bad Request',
  bad_request: '400 Bad Request',
};

export class WsUpgrade {
  readonly counts = new Map<WsUpgradeResult, number>();
  private readonly http: Server;
  private readonly counter: Counter<'result'> | undefined;
  private readonly trusted: TrustedSources | undefined;

  constructor(private readonly opts: WsUpgradeOptions) {
    this.counter = opts.registry ? counterIn(opts.registry) : undefined;
    this.trusted = opts.trusted && opts.trusted.length > 0 ? new TrustedSources(opts.trusted) : undefined;
    // Never listens: TLS sockets are handed to it. One request per connection, small headers.
    this.http = createServer({ maxHeaderSize: 8 * 1024, requestTimeout: opts.timeoutMs, headersTimeout: opts.timeoutMs });
    this.http.on('request', (req: IncomingMessage, res: ServerResponse) => {
      const result = new URL(req.url ?? '/', 'http://x').pathname === WS_PATH ? 'no_upgrade' : 'not_found';
      this.count(result);
      this.opts.onRefused?.(result, `${req.socket.remoteAddress}:${req.socket.remotePort}`);
      res.writeHead(result === 'no_upgrade' ? 426 : 404, { connection: 'close', 'content-type': 'text/plain', ...(result === 'no_upgrade' ? { upgrade: 'websocket' } : {}) });
      res.end(result === 'no_upgrade' ? `EL over WebSocket: upgrade with subprotocol ${WS_SUBPROTOCOL}\n` : 'not found\n');
    });
    this.http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head));
    this.http.on('clientError', (_err: Error, socket: Duplex) => this.refuse(socket, 'bad_request'));
  }

  /** A connection speaking HTTP (TLS that negotiated it, or the plain listener's): serve the upgrade, or refuse. */
  take(socket: Socket): void {
    const timer = setTimeout(() => {
      if (!socket.destroyed) this.refuse(socket, 'timeout');
    }, this.opts.timeoutMs);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
    (socket as Socket & { elUpgradeTimer?: NodeJS.Timeout }).elUpgradeTimer = timer;
    this.http.emit('connection', socket);
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (new URL(req.url ?? '/', 'http://x').pathname !== WS_PATH) return this.refuse(socket, 'not_found');
    const bad = checkUpgrade(req);
    if (bad !== undefined) return this.refuse(socket, bad);
    const s = socket as Socket & { elUpgradeTimer?: NodeJS.Timeout };
    let remote: { remoteAddress?: string | undefined; remotePort?: number | undefined } = s;
    const forwarded = this.trusted?.has(s.remoteAddress) ? lastForwarded(req.headers['x-forwarded-for']) : undefined;
    if (forwarded !== undefined) {
      if (this.opts.onSource && !this.opts.onSource(s, forwarded, s.remotePort ?? 0)) return;
      remote = { remoteAddress: forwarded, remotePort: s.remotePort };
    }
    answerUpgrade(req, socket);
    clearTimeout(s.elUpgradeTimer);
    this.count('ok');
    this.opts.onConn(WsRecordConn.accept(s, remote, { allocate: this.opts.allocate }, head));
  }

  private refuse(socket: Duplex, result: Exclude<WsUpgradeResult, 'ok' | 'no_upgrade'>): void {
    if (socket.destroyed) return;
    this.count(result);
    const s = socket as Duplex & { remoteAddress?: string; remotePort?: number };
    this.opts.onRefused?.(result, `${s.remoteAddress}:${s.remotePort}`);
    if (result === 'timeout' || !socket.writable) return void socket.destroy();
    socket.end(`HTTP/1.1 ${STATUS[result]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    setTimeout(() => socket.destroy(), 1000).unref();
  }

  private count(result: WsUpgradeResult): void {
    this.counts.set(result, (this.counts.get(result) ?? 0) + 1);
    this.counter?.inc({ result });
  }
}
