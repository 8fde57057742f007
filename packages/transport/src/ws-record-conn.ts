/**
 * A RecordConn over a WebSocket (the `ws` package): EL for L7 load balancers and
 * ingresses that pass only HTTP (docs/protocol.md §1.1). Each write() is one binary
 * message holding whole records (a batch larger than WS_SEND_MESSAGE is cut at record
 * boundaries into several); the receiver reads the messages' concatenation as the
 * record stream, through the same RecordInput as TLS (frames into `allocate`'s memory).
 *
 * backlog() is the WebSocket's bufferedAmount (the socket's queue plus what the ws
 * sender holds), so the session's output queue sees a slow peer exactly as over TLS.
 * A close frame from the peer is its end (onEnd, then onClose); a connection lost
 * without one is a close with a cause. Text messages break the protocol (onError).
 */
import { randomFillSync } from 'node:crypto';
import type { ClientRequest, IncomingMessage } from 'node:http';
import { CHANNEL_BINDING_LABEL, CHANNEL_BINDING_LENGTH, ElError, HEADER_LENGTH, type PayloadAllocator } from '@elink/protocol';
import type { Writable } from 'node:stream';
import type { ConnectionOptions, TLSSocket } from 'node:tls';
import WebSocket, { type ClientOptions } from 'ws';
import type { RecordConn, RecordHandlers } from './record-conn.js';
import { RecordInput } from './record-input.js';
import { writesThrough as socketWritesThrough } from './scratch-buffer.js';

// RFC 9266's exporter has an empty context; one shared empty buffer, not one per connection.
const NO_CONTEXT = Buffer.alloc(0);

/** The WebSocket subprotocol (Sec-WebSocket-Protocol) of EL version 1. */
export const WS_SUBPROTOCOL = 'el.v1';
/** The path of the upgrade request. */
export const WS_PATH = '/v1/el';
/** The largest message either side accepts (ws maxPayload). */
export const WS_MAX_MESSAGE = 1 << 20;
/** A batch larger than this is sent as several messages of whole records (one record
 * alone may be up to 65,538 bytes). */
export const WS_SEND_MESSAGE = 128 * 1024;

/** ws's client options and the node:tls ones it passes on (ws's types leave those out). */
export type WsConnectOptions = ClientOptions & Pick<ConnectionOptions, 'servername' | 'ALPNProtocols' | 'ca' | 'ciphers'>;

export interface WsRecordConnOptions {
  /** Memory for frames (not control records) read; default a buffer of their own each. */
  allocate?: PayloadAllocator;
}

/** A client's masking key: random (RFC 6455 §5.3), and never all zeros, for which ws would
 * send the caller's buffer itself instead of a masked copy (writesThrough relies on the copy). */
function generateMask(mask: Buffer): void {
  randomFillSync(mask, 0, 4);
  if ((mask[0]! | mask[1]! | mask[2]! | mask[3]!) === 0) mask[0] = 1;
}

/** Close codes (RFC 6455 §7.4.1). */
const NORMAL = 1000;
const NO_CLOSE_FRAME = 1006;

export class WsRecordConn implements RecordConn {
  private readonly input: RecordInput;
  private started = false;
  private ending = false;
  private isDestroyed = false;
  private closeCause: Error | undefined;
  private binding: Buffer | undefined;

  private constructor(
    readonly ws: WebSocket,
    readonly remoteAddress: string | undefined,
    readonly remotePort: number | undefined,
    opts: WsRecordConnOptions,
    /** The client side: ws masks every message into a buffer of its own (never a zero mask,
     * see connect), so send() is done with the batch when it returns. */
    private readonly masking: boolean,
  ) {
    this.input = new RecordInput(opts.allocate);
    ws.binaryType = 'nodebuffer';
    // Listeners from the start, so no 'error' goes unhandled and no message is lost before start().
    ws.on('error', (err) => {
      this.closeCause ??= err;
    });
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) this.input.push(data);
      else if (!this.isDestroyed) this.input.handlers?.onError(new ElError('EL_ERR_PROTOCOL', 'text WebSocket message: EL records travel in binary messages'));
    });
    ws.on('close', (code: number) => {
      this.isDestroyed = true;
      const h = this.input.handlers;
      if (code !== NO_CLOSE_FRAME && this.closeCause === undefined) h?.onEnd?.();
      h?.onClose(code === NO_CLOSE_FRAME ? (this.closeCause ?? new Error('WebSocket connection lost without a close frame')) : this.closeCause);
    });
  }

  /** Wraps a WebSocket a server upgraded; the address is the HTTP connection's (after any PROXY header). */
  static accept(ws: WebSocket, remote: { remoteAddress?: string | undefined; remotePort?: number | undefined }, opts: WsRecordConnOptions = {}): WsRecordConn {
    return new WsRecordConn(ws, remote.remoteAddress, remote.remotePort, opts, false);
  }

  /**
   * Opens `url` (wss://host:port/v1/el) offering WS_SUBPROTOCOL. `options` are ws's (and
   * node:tls's: ca, servername, checkServerIdentity, createConnection for a proxy tunnel).
   * Resolves once the upgrade is done; rejects with ws's or the TLS error, or an ElError
   * naming the HTTP status the server answered instead.
   */
  static connect(url: string, options: WsConnectOptions, opts: WsRecordConnOptions = {}): Promise<WsRecordConn> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, [WS_SUBPROTOCOL], { perMessageDeflate: false, maxPayload: WS_MAX_MESSAGE, generateMask, ...options });
      let conn: WsRecordConn | undefined;
      const fail = (err: Error): void => {
        ws.terminate();
        reject(err);
      };
      ws.once('unexpected-response', (_req: ClientRequest, res: IncomingMessage) => {
        res.resume();
        fail(new ElError('EL_ERR_PROTOCOL', `${url} answered HTTP ${res.statusCode} instead of a WebSocket upgrade (a node without WebSocket, or a proxy or ingress in between refusing it)`));
      });
      ws.once('error', fail);
      ws.once('open', () => {
        ws.off('error', fail);
        if (ws.protocol !== WS_SUBPROTOCOL) return fail(new ElError('EL_ERR_PROTOCOL', `${url} did not agree to the WebSocket subprotocol ${WS_SUBPROTOCOL}`));
        const socket = (ws as unknown as { _socket?: { remoteAddress?: string; remotePort?: number } })._socket;
        conn = new WsRecordConn(ws, socket?.remoteAddress, socket?.remotePort, opts, true);
        resolve(conn);
      });
    });
  }

  get peer(): string {
    return `${this.remoteAddress ?? '?'}:${this.remotePort ?? 0}`;
  }

  start(handlers: RecordHandlers): void {
    if (this.started) throw new Error('WsRecordConn.start() called twice');
    this.started = true;
    this.input.handlers = handlers;
  }

  accept(type: number, maxPayload: number): void {
    this.input.reader.accept(type, maxPayload);
  }

  write(batch: Buffer, done?: (err?: Error | null) => void): void {
    if (this.ending || this.isDestroyed || this.ws.readyState !== WebSocket.OPEN) return;
    if (batch.length <= WS_SEND_MESSAGE) {
      this.ws.send(batch, { binary: true }, done);
      return;
    }
    // Cut at record boundaries, every message whole records: each hop forwards a message
    // only once it has all of it, so large messages would add their transfer time to the
    // round trip of every stream inside. Without `done` the caller reuses `batch` when
    // this returns: a piece the socket cannot take at once is copied.
    let start = 0;
    let end = 0;
    while (end < batch.length) {
      const next = end + HEADER_LENGTH + batch.readUInt16BE(end + 1);
      if (next - start > WS_SEND_MESSAGE && end > start) {
        this.sendPiece(batch.subarray(start, end), done !== undefined);
        start = end;
      }
      end = next;
    }
    this.sendPiece(batch.subarray(start), done !== undefined, done);
  }

  private sendPiece(piece: Buffer, kept: boolean, done?: (err?: Error | null) => void): void {
    this.ws.send(kept || this.masking || this.writesThrough() ? piece : Buffer.from(piece), { binary: true }, done);
  }

  /**
   * True when send() is done with the batch when it returns and nothing waits: on the
   * client side whenever nothing is buffered (masking copies the batch anyway; a backlog
   * says false, so the writer's buffers follow the socket's pace), and on the server side when ws hands it straight to an idle TLS
   * socket, which encrypts it at once (scratch-buffer.ts writesThrough): without
   * permessage-deflate the ws sender queues nothing of its own. The socket is ws's
   * internal `_socket`; without it (another ws version), never.
   */
  writesThrough(): boolean {
    if (this.ending || this.isDestroyed || this.ws.readyState !== WebSocket.OPEN) return false;
    if (this.masking) return this.ws.bufferedAmount === 0;
    const socket = (this.ws as unknown as { _socket?: Writable & { connecting?: boolean } })._socket;
    return socket !== undefined && socketWritesThrough(socket);
  }

  backlog(): number {
    return this.ws.bufferedAmount;
  }

  end(last?: Buffer): void {
    if (this.ending || this.isDestroyed) return;
    if (last) this.write(last);
    this.ending = true;
    this.ws.close(NORMAL);
  }

  destroy(): void {
    if (this.isDestroyed) return;
    this.isDestroyed = true;
    this.input.stop();
    this.ws.terminate();
  }

  get destroyed(): boolean {
    return this.isDestroyed;
  }

  /**
   * RFC 9266 tls-exporter of the TLS connection the WebSocket runs on (TLS 1.3 only, as
   * TlsRecordConn's): the same at both ends when the client's TLS reaches the switch
   * itself. Undefined on the plain-HTTP listener (an ingress ended the client's TLS), so
   * there a ticket bound to a device key is refused.
   */
  channelBinding(): Buffer | undefined {
    if (this.binding) return this.binding;
    const s = (this.ws as unknown as { _socket?: Partial<TLSSocket> })._socket;
    if (!s || s.destroyed || typeof s.getProtocol !== 'function' || s.getProtocol() !== 'TLSv1.3') return undefined;
    this.binding = s.exportKeyingMaterial!(CHANNEL_BINDING_LENGTH, CHANNEL_BINDING_LABEL, NO_CONTEXT);
    return this.binding;
  }
}
