/**
 * One EL session from a client to a switch node: TLS (or WebSocket) connect, optionally
 * through an HTTP proxy, hello → welcome,
 * then frames both ways with ping/pong keepalive. Reconnecting is the caller's job
 * (see connector.ts); a link is used once.
 */
import { EventEmitter } from 'node:events';
import type { KeyObject } from 'node:crypto';
import { connect as tlsConnect, type ConnectionOptions, type PeerCertificate, type TLSSocket } from 'node:tls';
import { isIP, type Socket } from 'node:net';
import type { Logger } from 'pino';
import {
  ALPN,
  CAP_GSO,
  CAP_USO,
  coalesceUdp,
  ElError,
  encodeControl,
  HEADER_LENGTH,
  isErrorCode,
  L2_OVERHEAD,
  MAX_CONTROL_PAYLOAD,
  MAX_RECORD_PAYLOAD,
  parseControl,
  PROTOCOL_VERSION,
  RecordType,
  isResumeText,
  resumeProof,
  signHelloProof,
  softwareSegment,
  VNET_HDR_LENGTH,
  vnetHdrNeedsWork,
  VNET_GSO_UDP_L4,
  vnetGsoType,
  type ControlMessage,
  type PayloadAllocator,
  type Welcome,
} from '@elink/protocol';
import { defaultFlushScheduler, OutputQueue, RecordWriter, TlsRecordConn, WS_PATH, WsRecordConn, type FlushScheduler, type RecordConn, type WsConnectOptions } from '@elink/transport';
import type { ServerInfo } from './login.js';
import { certificateFailure, isCertificateFailure } from './certificate-failure.js';
import type { HttpProxy } from './proxy-config.js';
import { authority, openTunnel } from './proxy-tunnel.js';
import { DEVICE_READ_BYTES } from './device-read.js';
import { clientTlsContext } from './tls-context.js';

/** How a client reaches a switch node: raw TLS, a WebSocket, or raw TLS first and then a WebSocket. */
export type Transport = 'tls' | 'ws' | 'auto';
export const TRANSPORTS: readonly Transport[] = ['tls', 'ws', 'auto'];

/** The WebSocket URL of a node: the same host and port as raw TLS (docs/protocol.md §1.1). */
export function wsUrl(host: string, port: number): string {
  return `wss://${authority(host, port)}${WS_PATH}`;
}

/** Where a transport's TCP connection goes (the proxy's CONNECT target): the node, or for
 * a WebSocket the ingress of its `ws` URL. */
export function carrierTarget(server: ServerInfo, transport: 'tls' | 'ws'): { host: string; port: number } {
  if (transport === 'ws' && server.ws) {
    const u = new URL(server.ws);
    return { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 443) };
  }
  return { host: server.host, port: server.port };
}

/** Hands the TLS sessions `socket` receives to opts.onSession (resumption next time). */
function keepSession(socket: TLSSocket, opts: SwitchLinkOptions): TLSSocket {
  const keep = opts.onSession;
  if (keep) socket.on('session', (s: Buffer) => keep(s));
  return socket;
}

/** The TLS socket under a conn: the raw one's, or the one ws runs on. */
function tlsSocketOf(conn: RecordConn): TLSSocket | undefined {
  if (conn instanceof TlsRecordConn) return conn.socket;
  if (conn instanceof WsRecordConn) return (conn.socket as TLSSocket).encrypted === true ? (conn.socket as TLSSocket) : undefined;
  return undefined;
}

const carrierFailures = new WeakSet<ElError>();

/** Marks `err` as a failure before hello: the ticket was not presented. */
function carrierFailure(err: ElError): ElError {
  carrierFailures.add(err);
  return err;
}

/** True when SwitchLink.connect failed before sending hello (connect, proxy, TLS, ALPN,
 * WebSocket upgrade): the ticket is unspent and another transport may try it. */
export function isCarrierFailure(err: unknown): boolean {
  return err instanceof ElError && carrierFailures.has(err);
}

/** A transport error as an ElError: a certificate failure described (a promise), else unavailable. */
function describeCarrierError(cause: unknown, opts: SwitchLinkOptions, what: string): ElError | Promise<ElError> {
  const { server } = opts;
  if (cause instanceof ElError) return cause; // the fingerprint check's, the proxy's, a refused upgrade
  if (isCertificateFailure(cause)) {
    return certificateFailure(cause, { what: `switch ${server.node}`, host: server.host, port: server.port, servername: isIP(server.host) ? undefined : server.host, ca: opts.ca, alpn: [ALPN] });
  }
  const err = cause as Error;
  return new ElError('EL_ERR_UNAVAILABLE', `cannot connect to ${what}: ${err?.message ?? String(cause)}`, { cause });
}

/** The `bye` reason with which a switch ends a session that a newer one of the same user
 * and device took over (protocol.md §3.3): this client must stop, not reconnect. */
export const SUPERSEDED = 'superseded';

export interface SwitchLinkOptions {
  server: ServerInfo;
  ticket: string;
  mac?: string;
  hostname?: string;
  /** PEM CA that signed the switch's certificate; default: the system's. */
  ca?: string | Buffer;
  ciphers?: string;
  /** Raw TLS (default) or WebSocket; 'auto' is the Connector's choice between the two. */
  transport?: Exclude<Transport, 'auto'>;
  /** Through this HTTP proxy (CONNECT), already checked against NO_PROXY. */
  proxy?: HttpProxy;
  /** Proxy tunnel + connect + TLS (+ upgrade) + welcome must finish within this. */
  connectTimeoutMs?: number;
  /** Outgoing bytes the socket may hold before frames are dropped instead of queued. */
  maxBufferedBytes?: number;
  /** Offer the "gso" capability (FRAME_GSO records both ways): the caller's device has offload. */
  gso?: boolean;
  /** With gso, offer "uso" too: UDP super-frames both ways (runs of one flow merged here,
   * coalesceUdp; the caller writes those it gets to a device that takes them or splits them). */
  uso?: boolean;
  /** Memory for the frames read (each is copied out of the shared read buffer); default:
   * a buffer of its own each. Memory from `scheduler`'s arena lives until its next full flush. */
  allocate?: PayloadAllocator;
  /** Flushes the link's output (pongs, pings) and, at the end of each read, every queue of
   * the caller on it (the device's). Default: the process-wide one. */
  scheduler?: FlushScheduler;
  /** The device key: hello carries its proof over the channel binding (a ticket bound to it needs one). */
  deviceKey?: KeyObject;
  /** The resume secret a node gave for `ticket` (welcome.resume): hello carries its resume
   * proof over the channel binding beside `proof` (a node of the cluster then skips both
   * Ed25519 checks; any other checks `proof`). A secret: never logged. */
  resume?: string;
  /** A TLS session from an earlier connection to this node, to resume (cheaper handshake). */
  session?: Buffer;
  /** A TLS session to keep for the next connection to this node (TLS 1.3 sends it after the handshake). */
  onSession?: (session: Buffer) => void;
  logger: Logger;
}

export interface LinkStats {
  framesIn: number;
  framesOut: number;
  bytesIn: number;
  bytesOut: number;
  /** Frames not sent: the socket held more than maxBufferedBytes (slow_peer), a read's
   * batch too large (queue_full), or a super-frame that could not be segmented. */
  framesDropped: number;
  /** framesDropped by reason (the names of el_switch_frames_dropped_total's). */
  drops: LinkDrops;
  /** UDP super-frames sent ("uso"), and the datagrams they hold. */
  usoFramesOut: number;
  usoDatagramsOut: number;
}

/** Frames a link did not send: its queue full for the tick (queue_full), the socket over
 * its high-water mark (slow_peer), a super-frame that could not be segmented (bad_gso). */
export interface LinkDrops {
  queue_full: number;
  slow_peer: number;
  bad_gso: number;
}

/**
 * Events: 'frame' (frame: Buffer, gso: boolean) for each FRAME record (gso false) and
 * FRAME_GSO record (gso true: the payload starts with a virtio_net_hdr); 'close' (err?: ElError) once.
 */
export class SwitchLink extends EventEmitter {
  private framesIn = 0;
  private bytesIn = 0;
  /** Super-frames softwareSegment() could not split. */
  private unsegmentable = 0;
  /** UDP super-frames sent, and the datagrams merged into them (uso). */
  private usoFramesOut = 0;
  private usoDatagramsOut = 0;
  private closed = false;
  private markEnded!: (err: ElError | undefined) => void;
  /** Resolves once the link has closed, with its 'close' event's error: unlike a listener
   * attached after connect() resolved, it also holds a close in the read that brought the
   * welcome (a `bye` or an error right behind it). */
  readonly ended = new Promise<ElError | undefined>((resolve) => (this.markEnded = resolve));
  private lastHeard = Date.now();
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private pingId = 0;
  /** Every record we send: frames from the device, ping/pong. */
  private readonly queue: OutputQueue;
  /** Both sides agreed on "gso": FRAME_GSO may be sent and received. */
  readonly gso: boolean;
  /** Both sides agreed on "uso" too: FRAME_GSO may be a UDP super-frame. */
  readonly uso: boolean;
  /** What carries the session (for logs). */
  transport: 'tls' | 'ws' = 'tls';
  /** The proxy it goes through (display form, no password), if any. */
  proxy: string | undefined;
  /** The resume secret of this session's ticket (welcome.resume, taken out of `welcome`
   * so that logging a welcome never shows it); undefined when the node gave none. */
  readonly resumeSecret: string | undefined;

  readonly welcome: Welcome;

  private constructor(
    private readonly conn: RecordConn,
    received: Welcome,
    private readonly logger: Logger,
    maxBuffered: number,
    private readonly scheduler: FlushScheduler,
  ) {
    super();
    const { resume, ...welcome } = received;
    this.welcome = welcome;
    // Malformed: ignored, as a node that gave none (the full path then, as always).
    this.resumeSecret = resume !== undefined && isResumeText(resume) ? resume : undefined;
    this.gso = welcome.caps?.includes(CAP_GSO) ?? false;
    this.uso = this.gso && (welcome.caps?.includes(CAP_USO) ?? false);
    // No stall timeout: a switch that reads nothing is found by the keepalive.
    this.queue = new OutputQueue(new RecordWriter(conn), { highWaterBytes: maxBuffered, maxBytes: DEVICE_READ_BYTES, scheduler });
  }

  get stats(): LinkStats {
    const d = this.queue.drops;
    return {
      framesIn: this.framesIn,
      framesOut: this.queue.framesOut,
      bytesIn: this.bytesIn,
      bytesOut: this.queue.bytesOut,
      // (A record writer refuses nothing: the queue's device_drop stays 0 here.)
      framesDropped: this.unsegmentable + d.queue_full + d.slow_peer + d.device_drop,
      drops: { queue_full: d.queue_full, slow_peer: d.slow_peer, bad_gso: this.unsegmentable },
      usoFramesOut: this.usoFramesOut,
      usoDatagramsOut: this.usoDatagramsOut,
    };
  }

  /** The switch sent `redirect` (it drains): the client is to ask the broker where to go. */
  redirected = false;

  /** Whether the TLS handshake resumed an earlier session (SwitchLinkOptions.session). */
  get tlsResumed(): boolean {
    return tlsSocketOf(this.conn)?.isSessionReused() ?? false;
  }

  /**
   * Resolves once the switch has sent `welcome`; rejects with an ElError otherwise. The
   * carrier: raw TLS (ALPN el/1) or a WebSocket (wss://host:port/v1/el on the same port,
   * ALPN http/1.1), either through an HTTP CONNECT tunnel when `proxy` is given. A failure
   * before `hello` was sent is marked (isCarrierFailure): the ticket is unspent, and
   * another transport may try it.
   */
  static async connect(opts: SwitchLinkOptions): Promise<SwitchLink> {
    const { server } = opts;
    const timeoutMs = opts.connectTimeoutMs ?? 10_000;
    const deadline = Date.now() + timeoutMs;
    const transport = opts.transport ?? 'tls';
    // A node behind an L7 ingress (servers[].ws): the WebSocket goes to the ingress, whose
    // certificate is checked by its name, not by the node's fingerprint.
    const ingress = transport === 'ws' ? carrierTarget(server, 'ws') : undefined;
    const target = ingress ?? { host: server.host, port: server.port };
    let tunnel: Socket | undefined;
    if (opts.proxy) {
      try {
        tunnel = await openTunnel(opts.proxy, target.host, target.port, timeoutMs);
      } catch (e) {
        throw carrierFailure(e as ElError);
      }
    }
    const remaining = (): number => Math.max(1, deadline - Date.now());
    const tlsOptions = {
      // One context per CA and cipher list for the process, not one per connection (tls-context.ts).
      secureContext: clientTlsContext({ ca: opts.ca, ciphers: opts.ciphers }),
      servername: isIP(target.host) ? undefined : target.host,
      ...(opts.session ? { session: opts.session } : {}),
      // The broker (reached over verified TLS) named this node's certificate: pinning it
      // is stronger than a host name check, and lets nodes advertise bare addresses.
      // (Only when pinned: an explicit undefined would override node:tls's default check.)
      ...(server.fingerprint && !server.ws ? { checkServerIdentity: (_host: string, cert: PeerCertificate) => pinCheck(cert, server.fingerprint!) } : {}),
    };
    if (transport === 'ws') {
      const url = server.ws ?? wsUrl(server.host, server.port);
      let conn: WsRecordConn;
      try {
        conn = await WsRecordConn.connect(
          url,
          {
            ...tlsOptions,
            ALPNProtocols: ['http/1.1'],
            handshakeTimeout: remaining(),
            // Our own TLS socket (without the request's `path`, which node:net would take for a
            // Unix socket): over the tunnel, and keeping the TLS session for resumption.
            createConnection: (o: ConnectionOptions) => keepSession(tlsConnect({ ...o, path: undefined, ...tlsOptions, servername: isIP(target.host) ? '' : target.host, ...(tunnel ? { socket: tunnel } : {}) } as ConnectionOptions), opts),
          } as WsConnectOptions,
          { allocate: opts.allocate },
        );
      } catch (e) {
        tunnel?.destroy();
        throw carrierFailure(await describeCarrierError(e, opts, `WebSocket ${url}`));
      }
      conn.socket.setNoDelay(true);
      return SwitchLink.handshake(conn, opts, remaining(), undefined);
    }
    // Decrypted data lands in one shared buffer, not a new Buffer per read (V8's full
    // GCs, see @elink/transport shared-read-buffer.ts); the reader copies what it keeps.
    const conn = TlsRecordConn.connect({ host: server.host, port: server.port, ...tlsOptions, ALPNProtocols: [ALPN], ...(tunnel ? { socket: tunnel } : {}) }, { allocate: opts.allocate });
    conn.socket.setNoDelay(true);
    keepSession(conn.socket, opts);
    return SwitchLink.handshake(conn, opts, remaining(), conn.socket);
  }

  /** hello → welcome on an opened carrier; `tls`: the raw TLS socket, whose handshake is still running (hello goes on secureConnect). */
  private static handshake(conn: RecordConn, opts: SwitchLinkOptions, timeoutMs: number, tls: TLSSocket | undefined): Promise<SwitchLink> {
    const { server, logger } = opts;
    const scheduler = opts.scheduler ?? defaultFlushScheduler;
    return new Promise<SwitchLink>((resolve, reject) => {
      let link: SwitchLink | undefined;
      let settled = false;
      let helloSent = false;
      // A promise when the error is still being described (a certificate failure).
      const fail = (err: ElError | Promise<ElError>) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        conn.destroy();
        const before = !helloSent;
        void Promise.resolve(err).then((e) => reject(before ? carrierFailure(e) : e));
      };
      const timer = setTimeout(() => fail(new ElError('EL_ERR_UNAVAILABLE', `switch ${server.host}:${server.port} did not welcome us within ${timeoutMs} ms`)), timeoutMs);

      // Before welcome only control records are accepted.
      conn.accept(RecordType.CONTROL, MAX_CONTROL_PAYLOAD);
      const beforeWelcome = (payload: Buffer): void => {
        let msg: ControlMessage;
        try {
          msg = parseControl(payload);
        } catch (err) {
          return fail(err as ElError);
        }
        if (msg.type === 'welcome') {
          settled = true;
          clearTimeout(timer);
          conn.accept(RecordType.FRAME, msg.mtu + L2_OVERHEAD);
          link = new SwitchLink(conn, msg, logger, opts.maxBufferedBytes ?? 4 << 20, scheduler);
          link.transport = opts.transport ?? 'tls';
          link.proxy = opts.proxy?.display;
          if (link.gso) conn.accept(RecordType.FRAME_GSO, MAX_RECORD_PAYLOAD);
          link.start();
          resolve(link);
        } else if (msg.type === 'error') {
          fail(new ElError(isErrorCode(msg.code) ? msg.code : 'EL_ERR_PROTOCOL', `switch refused the session: ${msg.message}`));
        } else {
          fail(new ElError('EL_ERR_PROTOCOL', `expected welcome, got ${msg.type}`));
        }
      };
      conn.start({
        onRecord: (type, payload) => (link ? link.onRecord(type, payload) : beforeWelcome(payload)),
        // Out in this turn: pongs, and the frames the caller queued for its device.
        onReadEnd: () => scheduler.flushNow(),
        onError: (err) => (link ? link.shutdown(err) : fail(err)),
        onClose: (cause) => {
          if (link) {
            link.shutdown(cause ? new ElError('EL_ERR_UNAVAILABLE', `connection to switch lost: ${cause.message}`, { cause }) : new ElError('EL_ERR_UNAVAILABLE', 'switch closed the connection'));
          } else if (!cause) {
            fail(new ElError('EL_ERR_UNAVAILABLE', `switch ${server.host}:${server.port} closed the connection before welcome`));
          } else {
            fail(describeCarrierError(cause, opts, `switch ${server.host}:${server.port}`));
          }
        },
      });
      const sendHello = (): void => {
        helloSent = true;
        // The proof ties this hello to this one TLS connection (RFC 9266): worthless anywhere else.
        const binding = opts.deviceKey ? conn.channelBinding?.() : undefined;
        // The resume proof goes beside the device proof, never instead: a node that cannot
        // check it (another cluster, restarted, older) admits by the device proof.
        conn.write(
          encodeControl({
            type: 'hello',
            version: PROTOCOL_VERSION,
            ticket: opts.ticket,
            ...(opts.mac ? { mac: opts.mac } : {}),
            ...(opts.hostname ? { hostname: opts.hostname } : {}),
            ...(opts.gso ? { caps: opts.uso ? [CAP_GSO, CAP_USO] : [CAP_GSO] } : {}),
            ...(opts.deviceKey && binding ? { proof: signHelloProof(opts.deviceKey, binding) } : {}),
            ...(opts.deviceKey && binding && opts.resume ? { resume: resumeProof(opts.resume, binding) } : {}),
          }),
        );
      };
      if (!tls) return sendHello();
      tls.on('secureConnect', () => {
        if (tls.alpnProtocol !== ALPN) return fail(new ElError('EL_ERR_PROTOCOL', `switch did not agree to ALPN ${ALPN}`));
        sendHello();
      });
    });
  }

  private start(): void {
    const { interval, timeout } = this.welcome.keepalive;
    this.lastHeard = Date.now();
    this.keepaliveTimer = setInterval(() => {
      if (Date.now() - this.lastHeard > timeout * 1000) {
        this.shutdown(new ElError('EL_ERR_KEEPALIVE_TIMEOUT', `nothing heard from the switch for ${timeout} s`));
        return;
      }
      this.sendControl({ type: 'ping', id: ++this.pingId });
    }, interval * 1000);
    this.keepaliveTimer.unref();
  }

  private onRecord(type: number, payload: Buffer): void {
    if (this.closed) return;
    this.lastHeard = Date.now();
    if (type === RecordType.FRAME || type === RecordType.FRAME_GSO) {
      this.framesIn++;
      this.bytesIn += payload.length;
      this.emit('frame', payload, type === RecordType.FRAME_GSO);
      return;
    }
    let msg;
    try {
      msg = parseControl(payload);
    } catch (err) {
      return this.shutdown(err as ElError);
    }
    switch (msg.type) {
      case 'ping':
        this.sendControl({ type: 'pong', id: msg.id });
        return;
      case 'pong':
        return;
      case 'bye':
        if (msg.reason === SUPERSEDED) return this.shutdown(new ElError('EL_ERR_SUPERSEDED', 'the switch ended this session: a newer session of the same user and device took over ("superseded")'));
        return this.shutdown(new ElError('EL_ERR_UNAVAILABLE', `switch ended the session: ${msg.reason}`));
      case 'redirect':
        this.redirected = true;
        return this.shutdown(new ElError('EL_ERR_UNAVAILABLE', `switch ended the session: ${msg.reason}`));
      case 'error':
        return this.shutdown(new ElError(isErrorCode(msg.code) ? msg.code : 'EL_ERR_PROTOCOL', `switch: ${msg.message}`));
      default:
        return this.shutdown(new ElError('EL_ERR_PROTOCOL', `unexpected ${msg.type} from switch`));
    }
  }

  /** Queued behind the frames; leaves with the read's or the tick's flush. */
  private sendControl(msg: ControlMessage): void {
    this.queue.push(RecordType.CONTROL, encodeControl(msg).subarray(HEADER_LENGTH));
  }

  /**
   * Sends a batch of frames as one TLS write (one record each): the switch's CPU cost is
   * per TLS record, so batching what one TAP wake-up delivered is what keeps it fast.
   * Written before it returns: the frames may be the device's reused read buffers.
   */
  sendFrames(frames: readonly Buffer[]): void {
    if (this.closed) return;
    for (let i = 0; i < frames.length; i++) this.queue.push(RecordType.FRAME, frames[i]);
    this.queue.flush();
  }

  /**
   * Sends packets read from an offload device (each a virtio_net_hdr, then the frame):
   * FRAME_GSO for those whose header asks for segmentation or a checksum if the switch
   * agreed to "gso", else such packets segmented here; plain FRAMEs for the rest. With
   * "uso" agreed, runs of one UDP flow in `packets` leave as one UDP super-frame each. One
   * write, before it returns, as sendFrames().
   */
  sendVnetPackets(packets: readonly Buffer[]): void {
    if (this.closed) return;
    const q = this.queue;
    if (this.uso && packets.length > 1) {
      const merged = coalesceUdp(packets, this.welcome.mode === 'l2');
      if (merged !== packets) {
        let superFrames = 0;
        for (const p of merged) if (p[1] === VNET_GSO_UDP_L4) superFrames++;
        this.usoFramesOut += superFrames;
        // Each super-frame of k datagrams took the place of k packets.
        this.usoDatagramsOut += packets.length - merged.length + superFrames;
        packets = merged;
      }
    }
    for (const p of packets) {
      if (p.length <= VNET_HDR_LENGTH) continue;
      if (!vnetHdrNeedsWork(p)) {
        q.push(RecordType.FRAME, p.subarray(VNET_HDR_LENGTH));
      } else if (this.gso && p.length <= MAX_RECORD_PAYLOAD && (this.uso || vnetGsoType(p) !== VNET_GSO_UDP_L4)) {
        // (A UDP super-frame from a local UDP_SEGMENT sender goes whole only to a switch that took "uso".)
        // (A super-frame too long for one record — a gso_max_size above 64 KiB — is segmented below.)
        q.push(RecordType.FRAME_GSO, p);
      } else {
        const l2 = this.welcome.mode === 'l2';
        const frames = softwareSegment(p, l2, this.welcome.mtu + (l2 ? L2_OVERHEAD : 0));
        if (frames === undefined) {
          this.unsegmentable++;
          continue;
        }
        for (const f of frames) q.push(RecordType.FRAME, f);
      }
    }
    q.flush();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Orderly close: what is queued, `bye`, then end the TLS stream. */
  close(reason = 'client closing'): void {
    if (this.closed) return;
    this.queue.flush();
    this.conn.end(encodeControl({ type: 'bye', reason }));
    this.finish(undefined);
    // Don't wait forever for the peer's FIN.
    setTimeout(() => this.conn.destroy(), 1000).unref();
  }

  private shutdown(err: ElError): void {
    if (this.closed) return;
    this.conn.destroy();
    this.finish(err);
  }

  private finish(err: ElError | undefined): void {
    this.closed = true;
    this.queue.close();
    clearInterval(this.keepaliveTimer);
    if (err) this.logger.warn({ code: err.code, err: err.message }, 'switch session ended');
    this.markEnded(err);
    this.emit('close', err);
  }
}

function pinCheck(cert: PeerCertificate, fingerprint: string): Error | undefined {
  const want = fingerprint.replace(/:/g, '').toLowerCase();
  const got = (cert.fingerprint256 ?? '').replace(/:/g, '').toLowerCase();
  return got === want ? undefined : new ElError('EL_ERR_PROTOCOL', `switch certificate ${cert.fingerprint256} does not match the fingerprint the broker gave (${fingerprint})`);
}
