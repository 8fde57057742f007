/**
 * One EL session from a client to a switch node: TLS connect, hello → welcome,
 * then frames both ways with ping/pong keepalive. Reconnecting is the caller's job
 * (see connector.ts); a link is used once.
 */
import { EventEmitter } from 'node:events';
import { connect, type ConnectionOptions, type TLSSocket, type PeerCertificate } from 'node:tls';
import { isIP } from 'node:net';
import type { Logger } from 'pino';
import {
  ALPN,
  CAP_GSO,
  ElError,
  encodeControl,
  HEADER_LENGTH,
  isErrorCode,
  L2_OVERHEAD,
  MAX_CONTROL_PAYLOAD,
  MAX_RECORD_PAYLOAD,
  parseControl,
  PROTOCOL_VERSION,
  RecordReader,
  RecordType,
  sharedReadOption,
  softwareSegment,
  VNET_HDR_LENGTH,
  vnetHdrNeedsWork,
  writeBuffer,
  writeRecordHeader,
  writesThrough,
  type PayloadAllocator,
  type Welcome,
} from '@elink/protocol';
import type { ServerInfo } from './login.js';
import { certificateFailure, isCertificateFailure } from './certificate-failure.js';

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
  /** Connect + TLS + welcome must finish within this. */
  connectTimeoutMs?: number;
  /** Outgoing bytes the socket may hold before frames are dropped instead of queued. */
  maxBufferedBytes?: number;
  /** Offer the "gso" capability (FRAME_GSO records both ways): the caller's device has offload. */
  gso?: boolean;
  /** Memory for the frames read (RecordReader's allocate: each is copied out of the shared
   * read buffer); default: a buffer of its own each. */
  allocate?: PayloadAllocator;
  logger: Logger;
}

export interface LinkStats {
  framesIn: number;
  framesOut: number;
  bytesIn: number;
  bytesOut: number;
  framesDropped: number;
}

/**
 * Events: 'frame' (frame: Buffer, gso: boolean) for each FRAME record (gso false) and
 * FRAME_GSO record (gso true: the payload starts with a virtio_net_hdr); 'close' (err?: ElError) once.
 */
export class SwitchLink extends EventEmitter {
  readonly stats: LinkStats = { framesIn: 0, framesOut: 0, bytesIn: 0, bytesOut: 0, framesDropped: 0 };
  private closed = false;
  private lastHeard = Date.now();
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private pingId = 0;
  private readonly maxBuffered: number;
  /** Both sides agreed on "gso": FRAME_GSO may be sent and received. */
  readonly gso: boolean;

  private constructor(
    private readonly socket: TLSSocket,
    private readonly reader: RecordReader,
    readonly welcome: Welcome,
    private readonly logger: Logger,
    maxBuffered: number,
  ) {
    super();
    this.maxBuffered = maxBuffered;
    this.gso = welcome.caps?.includes(CAP_GSO) ?? false;
  }

  /** Resolves once the switch has sent `welcome`; rejects with an ElError otherwise. */
  static connect(opts: SwitchLinkOptions): Promise<SwitchLink> {
    const { server, logger } = opts;
    const timeoutMs = opts.connectTimeoutMs ?? 10_000;
    return new Promise<SwitchLink>((resolve, reject) => {
      let link: SwitchLink | undefined;
      let settled = false;
      // A promise when the error is still being described (a certificate failure).
      const fail = (err: ElError | Promise<ElError>) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.destroy();
        void Promise.resolve(err).then(reject);
      };
      // `onread` is documented for tls.connect but missing from @types/node's ConnectionOptions.
      const socket = connect(<ConnectionOptions>{
        host: server.host,
        port: server.port,
        ca: opts.ca,
        ciphers: opts.ciphers,
        ALPNProtocols: [ALPN],
        servername: isIP(server.host) ? undefined : server.host,
        // The broker (reached over verified TLS) named this node's certificate: pinning it
        // is stronger than a host name check, and lets nodes advertise bare addresses.
        // (Only when pinned: an explicit undefined would override node:tls's default check.)
        ...(server.fingerprint ? { checkServerIdentity: (_host: string, cert: PeerCertificate) => pinCheck(cert, server.fingerprint!) } : {}),
        // Decrypted data lands in one shared buffer, not a new Buffer per read (V8's full
        // GCs, see shared-read-buffer.ts); the reader copies what it keeps.
        onread: sharedReadOption((chunk) => {
          const err = reader.push(chunk);
          if (err) (link ? link.shutdown(err) : fail(err));
        }),
      });
      socket.setNoDelay(true);
      const timer = setTimeout(() => fail(new ElError('EL_ERR_UNAVAILABLE', `switch ${server.host}:${server.port} did not welcome us within ${timeoutMs} ms`)), timeoutMs);

      // Control records never come from `allocate` (its owner may recycle that memory).
      const allocate = opts.allocate;
      const frameMemory: PayloadAllocator | undefined = allocate && ((type, size) => (type === RecordType.CONTROL ? Buffer.allocUnsafe(size) : allocate(type, size)));
      const reader = new RecordReader((type, payload) => {
        if (link) return link.onRecord(type, payload);
        // Before welcome only control records are accepted.
        let msg;
        try {
          msg = parseControl(payload);
        } catch (err) {
          return fail(err as ElError);
        }
        if (msg.type === 'welcome') {
          settled = true;
          clearTimeout(timer);
          reader.accept(RecordType.FRAME, msg.mtu + L2_OVERHEAD);
          link = new SwitchLink(socket, reader, msg, logger, opts.maxBufferedBytes ?? 4 << 20);
          if (link.gso) reader.accept(RecordType.FRAME_GSO, MAX_RECORD_PAYLOAD);
          link.start();
          resolve(link);
        } else if (msg.type === 'error') {
          fail(new ElError(isErrorCode(msg.code) ? msg.code : 'EL_ERR_PROTOCOL', `switch refused the session: ${msg.message}`));
        } else {
          fail(new ElError('EL_ERR_PROTOCOL', `expected welcome, got ${msg.type}`));
        }
      }, frameMemory, { transientChunks: true }).accept(RecordType.CONTROL, MAX_CONTROL_PAYLOAD);

      socket.on('secureConnect', () => {
        if (socket.alpnProtocol !== ALPN) return fail(new ElError('EL_ERR_PROTOCOL', `switch did not agree to ALPN ${ALPN}`));
        socket.write(
          encodeControl({
            type: 'hello',
            version: PROTOCOL_VERSION,
            ticket: opts.ticket,
            ...(opts.mac ? { mac: opts.mac } : {}),
            ...(opts.hostname ? { hostname: opts.hostname } : {}),
            ...(opts.gso ? { caps: [CAP_GSO] } : {}),
          }),
        );
      });
      socket.on('error', (err) => {
        if (link) link.shutdown(new ElError('EL_ERR_UNAVAILABLE', `connection to switch lost: ${err.message}`, { cause: err }));
        else if (isCertificateFailure(err))
          fail(certificateFailure(err, { what: `switch ${server.node}`, host: server.host, port: server.port, servername: isIP(server.host) ? undefined : server.host, ca: opts.ca, alpn: [ALPN] }));
        // The fingerprint check's own error (pinCheck) keeps its code.
        else fail(err instanceof ElError ? err : new ElError('EL_ERR_UNAVAILABLE', `cannot connect to switch ${server.host}:${server.port}: ${err.message}`, { cause: err }));
      });
      socket.on('close', () => {
        if (link) link.shutdown(new ElError('EL_ERR_UNAVAILABLE', 'switch closed the connection'));
        else fail(new ElError('EL_ERR_UNAVAILABLE', `switch ${server.host}:${server.port} closed the connection before welcome`));
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
      this.socket.write(encodeControl({ type: 'ping', id: ++this.pingId }));
    }, interval * 1000);
    this.keepaliveTimer.unref();
  }

  private onRecord(type: number, payload: Buffer): void {
    this.lastHeard = Date.now();
    if (type === RecordType.FRAME || type === RecordType.FRAME_GSO) {
      this.stats.framesIn++;
      this.stats.bytesIn += payload.length;
      this.emit('frame', payload, type === RecordType.FRAME_GSO);
      return;
    }
    let msg;
    try {
      msg = parseControl(payload);
    } catch (err) {
      this.reader.fail(err as ElError);
      return this.shutdown(err as ElError);
    }
    switch (msg.type) {
      case 'ping':
        this.socket.write(encodeControl({ type: 'pong', id: msg.id }));
        return;
      case 'pong':
        return;
      case 'bye':
        if (msg.reason === SUPERSEDED) return this.shutdown(new ElError('EL_ERR_SUPERSEDED', 'the switch ended this session: a newer session of the same user and device took over ("superseded")'));
        return this.shutdown(new ElError('EL_ERR_UNAVAILABLE', `switch ended the session: ${msg.reason}`));
      case 'redirect':
        return this.shutdown(new ElError('EL_ERR_UNAVAILABLE', `switch ended the session: ${msg.reason}`));
      case 'error':
        return this.shutdown(new ElError(isErrorCode(msg.code) ? msg.code : 'EL_ERR_PROTOCOL', `switch: ${msg.message}`));
      default:
        return this.shutdown(new ElError('EL_ERR_PROTOCOL', `unexpected ${msg.type} from switch`));
    }
  }

  /**
   * Sends a batch of frames as one TLS write (one record each): the switch's CPU cost is
   * per TLS record, so batching what one TAP wake-up delivered is what keeps it fast.
   */
  sendFrames(frames: readonly Buffer[]): void {
    this.sendRecords(frames, RecordType.FRAME);
  }

  /**
   * Sends packets read from an offload device (each a virtio_net_hdr, then the frame):
   * FRAME_GSO for those whose header asks for segmentation or a checksum if the switch
   * agreed to "gso", else such packets segmented here; plain FRAMEs for the rest.
   */
  sendVnetPackets(packets: readonly Buffer[]): void {
    const records: Buffer[] = [];
    const types: number[] = [];
    for (const p of packets) {
      if (p.length <= VNET_HDR_LENGTH) continue;
      if (!vnetHdrNeedsWork(p)) {
        records.push(p.subarray(VNET_HDR_LENGTH));
        types.push(RecordType.FRAME);
      } else if (this.gso && p.length <= MAX_RECORD_PAYLOAD) {
        // (A super-frame too long for one record — a gso_max_size above 64 KiB — is segmented below.)
        records.push(p);
        types.push(RecordType.FRAME_GSO);
      } else {
        const l2 = this.welcome.mode === 'l2';
        const frames = softwareSegment(p, l2, this.welcome.mtu + (l2 ? L2_OVERHEAD : 0));
        if (frames === undefined) {
          this.stats.framesDropped++;
          continue;
        }
        for (const f of frames) {
          records.push(f);
          types.push(RecordType.FRAME);
        }
      }
    }
    this.sendRecords(records, types);
  }

  /** One TLS write carrying one record per buffer; `types` gives each record's type, or one for all. */
  private sendRecords(frames: readonly Buffer[], types: readonly number[] | number): void {
    if (this.closed || frames.length === 0) return;
    if (this.socket.writableLength > this.maxBuffered) {
      this.stats.framesDropped += frames.length;
      return;
    }
    let total = 0;
    for (const f of frames) total += HEADER_LENGTH + f.length;
    // Reused memory, not a new ArrayBuffer per write: see scratch-buffer.ts (V8's full GCs).
    const { buf: out, done } = writeBuffer(total, writesThrough(this.socket));
    let off = 0;
    for (let i = 0; i < frames.length; i++) {
      const f = frames[i];
      off = writeRecordHeader(out, off, typeof types === 'number' ? types : types[i], f.length);
      off += f.copy(out, off);
    }
    this.stats.framesOut += frames.length;
    this.stats.bytesOut += total - frames.length * HEADER_LENGTH;
    this.socket.write(out, done);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Orderly close: `bye`, then end the TLS stream. */
  close(reason = 'client closing'): void {
    if (this.closed) return;
    this.socket.end(encodeControl({ type: 'bye', reason }));
    this.finish(undefined);
    // Don't wait forever for the peer's FIN.
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  private shutdown(err: ElError): void {
    if (this.closed) return;
    this.socket.destroy();
    this.finish(err);
  }

  private finish(err: ElError | undefined): void {
    this.closed = true;
    clearInterval(this.keepaliveTimer);
    if (err) this.logger.warn({ code: err.code, err: err.message }, 'switch session ended');
    this.emit('close', err);
  }
}

function pinCheck(cert: PeerCertificate, fingerprint: string): Error | undefined {
  const want = fingerprint.replace(/:/g, '').toLowerCase();
  const got = (cert.fingerprint256 ?? '').replace(/:/g, '').toLowerCase();
  return got === want ? undefined : new ElError('EL_ERR_PROTOCOL', `switch certificate ${cert.fingerprint256} does not match the fingerprint the broker gave (${fingerprint})`);
}
