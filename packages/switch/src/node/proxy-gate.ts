/**
 * PROXY protocol (v1/v2) in front of a TLS listener (switch client port, broker HTTPS),
 * after ConnectionGuard admitted the TCP connection on the load balancer's address:
 *
 *   source in a trusted range, header within the deadline  → on to TLS, reporting the real source
 *   source in a trusted range, no/bad/slow/oversized header → refused (missing, malformed, too_large, timeout)
 *   source not trusted, stream starts like a PROXY header   → refused (untrusted): nobody else may name a source
 *   source not trusted, anything else                       → on to TLS as before
 *
 * Refusals are counted in el_proxy_header_refused_total{listener,reason} and reported to
 * `onRefused` (the listener's sampled pre-auth log).
 */
import type { Socket } from 'node:net';
import type { Server as TlsServer, TLSSocket } from 'node:tls';
import { Counter, type Registry } from 'prom-client';
import { inheritRemote, looksLikeProxyHeader, readProxyHeader, setProxiedRemote, TrustedSources, type ProxyRefusal } from '@elink/transport';

export interface ProxyProtocolOptions {
  /** Load balancer source ranges (CIDR); empty: PROXY headers are refused from everyone. */
  trusted: readonly string[];
}

export interface ProxyGateOptions extends ProxyProtocolOptions {
  listener: string;
  /** The header (trusted sources) or the first bytes (others) must arrive within this. */
  timeoutMs: number;
  registry?: Registry | undefined;
  onRefused?: (reason: ProxyRefusal, peer: string) => void;
  /** The header named this source (before TLS); false: the socket was refused (destroyed) for it, e.g. ConnectionGuard.readmit. */
  onSource?: (raw: Socket, address: string, port: number) => boolean;
}

function counterIn(registry: Registry): Counter<'listener' | 'reason'> {
  return (
    (registry.getSingleMetric('el_proxy_header_refused_total') as Counter<'listener' | 'reason'> | undefined) ??
    new Counter({ name: 'el_proxy_header_refused_total', help: 'Connections closed for their PROXY protocol header (missing from a trusted source, malformed, too large, slow, or sent from an untrusted source), by listener and reason', labelNames: ['listener', 'reason'], registers: [registry] })
  );
}

export class ProxyGate {
  readonly trusted: TrustedSources;
  /** Refused connections by reason (also in the metric). */
  readonly refused = new Map<ProxyRefusal, number>();
  private readonly counter: Counter<'listener' | 'reason'> | undefined;

  constructor(private readonly opts: ProxyGateOptions) {
    this.trusted = new TrustedSources(opts.trusted);
    this.counter = opts.registry ? counterIn(opts.registry) : undefined;
  }

  /** Calls `next(raw)` once `raw` may go on to TLS (paused, nothing lost); destroys it otherwise. */
  pass(raw: Socket, next: (raw: Socket) => void): void {
    const peer = `${raw.remoteAddress}:${raw.remotePort}`;
    if (this.trusted.has(raw.remoteAddress)) {
      void readProxyHeader(raw, { timeoutMs: this.opts.timeoutMs }).then((r) => {
        if (raw.destroyed) return;
        if (!r.ok) return this.refuse(raw, r.reason, peer);
        if (r.source) {
          if (this.opts.onSource && !this.opts.onSource(raw, r.source.address, r.source.port)) return;
          setProxiedRemote(raw, r.source);
        }
        next(raw);
      });
      return;
    }
    // Peek at the first bytes: a TLS ClientHello never starts like a PROXY header.
    const timer = setTimeout(() => done(undefined), this.opts.timeoutMs);
    const done = (first: Buffer | undefined): void => {
      clearTimeout(timer);
      raw.off('data', done);
      raw.off('close', closed);
      if (raw.destroyed) return;
      raw.pause();
      if (first === undefined) return this.refuse(raw, 'timeout', peer);
      raw.unshift(first);
      if (looksLikeProxyHeader(first)) return this.refuse(raw, 'untrusted', peer);
      next(raw);
    };
    const closed = (): void => {
      clearTimeout(timer);
      raw.off('data', done);
    };
    raw.on('data', done);
    raw.once('close', closed);
  }

  private refuse(raw: Socket, reason: ProxyRefusal, peer: string): void {
    raw.destroy();
    this.refused.set(reason, (this.refused.get(reason) ?? 0) + 1);
    this.counter?.inc({ listener: this.opts.listener, reason });
    this.opts.onRefused?.(reason, peer);
  }
}

/**
 * Puts `gate` in front of a TLS server that listens itself (the broker's HTTPS): the
 * server's 'connection' listeners (TLS, and whatever else was attached so far) run only
 * once the gate passes the socket, and the TLS socket reports the header's source
 * (request.socket.remoteAddress, fastify's request.ip). Call before ConnectionGuard.attach,
 * whose admission then still runs first, on the load balancer's address.
 */
export function gateTlsServer(server: TlsServer, gate: ProxyGate): void {
  const inner = server.listeners('connection') as ((socket: Socket) => void)[];
  server.removeAllListeners('connection');
  server.on('connection', (raw: Socket) => {
    if (raw.destroyed) return; // refused at accept
    gate.pass(raw, (s) => {
      for (const l of inner) l.call(server, s);
    });
  });
  server.prependListener('secureConnection', (socket: TLSSocket) => inheritRemote(socket));
  server.prependListener('tlsClientError', (_err: Error, socket: TLSSocket) => inheritRemote(socket));
}
