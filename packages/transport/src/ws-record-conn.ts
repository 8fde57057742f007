/**
 * A RecordConn over a WebSocket (the `ws` package): EL for L7 load balancers and
 * ingresses that pass only HTTP (docs/protocol.md §1.1). Each write() is one binary
 * message holding whole records (a batch larger than WS_MAX_MESSAGE is cut at record
 * boundaries into several); the receiver reads the messages' concatenation as the
 * record stream, through the same RecordInput as TLS (frames into `allocate`'s memory).
 *
 * backlog() is the WebSocket's bufferedAmount (the socket's queue plus what the ws
 * sender holds), so the session's output queue sees a slow peer exactly as over TLS.
 * A close frame from the peer is its end (onEnd, then onClose); a connection lost
 * without one is a close with a cause. Text messages break the protocol (onError).
 */
import type { ClientRequest, IncomingMessage } from 'node:http';
import { ElError, HEADER_LENGTH, type PayloadAllocator } from '@elink/protocol';
import type { Writable } from 'node:stream';
import type { ConnectionOptions } from 'node:tls';
import WebSocket, { type ClientOptions } from 'ws';
import type { RecordConn, RecordHandlers } from './record-conn.js';
import { RecordInput } from './record-input.js';
import { writesThrough as socketWritesThrough } from './scratch-buffer.js';

/** The WebSocket subprotocol (Sec-WebSocket-Protocol) of EL version 1. */
export const WS_SUBPROTOCOL = 'el.v1';
/** The path of the upgrade request. */
export const WS_PATH = '/v1/el';
/** The largest message either side sends or accepts (ws maxPayload): whole records, so at
 * least one record of 65,535 bytes, and a batch of many. */
export const WS_MAX_MESSAGE = 1 << 20;

/** ws's client options and the node:tls ones it passes on (ws's types leave those out). */
export type WsConnectOptions = ClientOptions & Pick<ConnectionOptions, 'servername' | 'ALPNProtocols' | 'ca' | 'ciphers'>;

export interface WsRecordConnOptions {
  /** Memory for frames (not control records) read; default a buffer of their own each. */
  allocate?: PayloadAllocator;
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

  private constructor(
    readonly ws: WebSocket,
    readonly remoteAddress: string | undefined,
    readonly remotePort: number | undefined,
    opts: WsRecordConnOptions,
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
    return new WsRecordConn(ws, remote.remoteAddress, remote.remotePort, opts);
  }

  /**
   * Opens `url` (wss://host:port/v1/el) offering WS_SUBPROTOCOL. `options` are ws's (and
   * node:tls's: ca, servername, checkServerIdentity, createConnection for a proxy tunnel).
   * Resolves once the upgrade is done; rejects with ws's or the TLS error, or an ElError
   * naming the HTTP status the server answered instead.
   */
  static connect(url: string, options: WsConnectOptions, opts: WsRecordConnOptions = {}): Promise<WsRecordConn> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, [WS_SUBPROTOCOL], { perMessageDeflate: false, maxPayload: WS_MAX_MESSAGE, ...options });
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
        conn = new WsRecordConn(ws, socket?.remoteAddress, socket?.remotePort, opts);
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
    if (batch.length <= WS_MAX_MESSAGE) {
      this.ws.send(batch, { binary: true }, done);
      return;
    }
    // Cut at record boundaries: every message holds whole records. Rare (batches above
    // 1 MiB), so copied first: after the first message the socket may keep what it is given.
    batch = Buffer.from(batch);
    done?.(null);
    let start = 0;
    let end = 0;
    while (end < batch.length) {
      const next = end + HEADER_LENGTH + batch.readUInt16BE(end + 1);
      if (next - start > WS_MAX_MESSAGE) {
        this.ws.send(batch.subarray(start, end), { binary: true });
        start = end;
      }
      end = next;
    }
    this.ws.send(batch.subarray(start), { binary: true });
  }

  /**
   * True when ws hands the batch straight to an idle TLS socket, which encrypts it before
   * send() returns (scratch-buffer.ts writesThrough): without permessage-deflate the ws
   * sender queues nothing of its own, and a client's masking copies the batch anyway. The
   * socket is ws's internal `_socket`; without it (another ws version), never.
   */
  writesThrough(): boolean {
    if (this.ending || this.isDestroyed || this.ws.readyState !== WebSocket.OPEN) return false;
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
}
