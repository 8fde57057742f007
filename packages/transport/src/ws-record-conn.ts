/**
 * A RecordConn over a WebSocket: EL for L7 load balancers and ingresses that pass only
 * HTTP (docs/protocol.md §1.1). Each write() is one binary message holding whole records
 * (a batch larger than WS_SEND_MESSAGE is cut at record boundaries into several); the
 * receiver reads the messages' concatenation as the record stream.
 *
 * The data path is raw TLS's plus a 2–14-byte header (docs/benchmarks.md): input lands in
 * the shared read buffer, WsFrameReader unmasks it in place and hands each binary payload
 * piece to the same RecordInput as TLS (frames into `allocate`'s memory), onReadEnd once
 * per socket read; a batch from RecordWriter goes out as one frame with one socket write,
 * its header written into the room the writer left in front of it (writeFramed); a batch
 * given to write() is framed in a scratch buffer of our own (it may itself be in the
 * shared one). The opening
 * handshake is ws-handshake.ts's.
 *
 * backlog() is the socket's writableLength, so the session's output queue sees a slow
 * peer exactly as over TLS. A close frame from the peer is its end (onEnd, then onClose);
 * a connection lost without one is a close with a cause. A frame that breaks RFC 6455 or
 * a text message is answered with a close frame (1002, 1003, 1009) and onError.
 */
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { CHANNEL_BINDING_LABEL, CHANNEL_BINDING_LENGTH, ElError, HEADER_LENGTH, type PayloadAllocator } from '@elink/protocol';
import type { RecordConn, RecordHandlers } from './record-conn.js';
import { RecordInput } from './record-input.js';
import { ScratchBuffer, writeBuffer, writesThrough as socketWritesThrough } from './scratch-buffer.js';
import { readIntoSharedBuffer } from './shared-read-buffer.js';
import { CLOSE_NORMAL, CLOSE_NO_STATUS, headerLength, maskInPlace, MAX_CONTROL, MAX_HEADER, nextMaskKey, OP_BINARY, OP_CLOSE, OP_PONG, writeHeader } from './ws-frame.js';
import { WsFrameReader, type WsFrameSink } from './ws-frame-reader.js';
import { openWebSocket, type WsConnectOptions } from './ws-handshake.js';

// RFC 9266's exporter has an empty context; one shared empty buffer, not one per connection.
const NO_CONTEXT = Buffer.alloc(0);

/** The largest message either side accepts. */
export const WS_MAX_MESSAGE = 1 << 20;
/** A batch larger than this is sent as several messages of whole records (one record
 * alone may be up to 65,538 bytes). */
export const WS_SEND_MESSAGE = 128 * 1024;

/** Room RecordWriter leaves in front of a batch (writeFramed): the longest header
 * (MAX_HEADER, 14) rounded up to 8, so the payload stays 8-byte aligned for masking. */
export const WS_HEADROOM = 16;

/** Frames are built here when the socket copies them at once (writesThrough): not in the
 * shared scratch buffer, which may hold the batch being framed. One for the process. */
const frames = new ScratchBuffer(WS_SEND_MESSAGE + 64);
/** Where a frame's payload starts in `frames` when its header is shorter: 8-byte aligned,
 * so masking runs word-wise. */
const PAYLOAD_AT = 16;
/** Pings are answered only while less than this waits to be sent: a peer that pings and
 * never reads cannot grow our queue with pongs. */
const PONG_BACKLOG = 256 * 1024;

export interface WsRecordConnOptions {
  /** Memory for frames (not control records) read; default a buffer of their own each. */
  allocate?: PayloadAllocator;
}

export class WsRecordConn implements RecordConn, WsFrameSink {
  readonly headroom = WS_HEADROOM;
  private readonly input: RecordInput;
  private readonly reader: WsFrameReader;
  private started = false;
  private closeSent = false;
  private closeReceived = false;
  private closeCause: Error | undefined;
  private binding: Buffer | undefined;
  /** Only a TLS socket copies (encrypts) a write before write() returns; a plain one may
   * keep the buffer (behind an ingress that ended TLS: switch.websocket.listen). */
  private readonly tls: boolean;

  private constructor(
    /** The TLS socket (or, behind an ingress that ends TLS, the TCP socket) the WebSocket runs on. */
    readonly socket: Socket,
    readonly remoteAddress: string | undefined,
    readonly remotePort: number | undefined,
    opts: WsRecordConnOptions,
    /** The client side: masks what it sends, expects unmasked frames. */
    private readonly masking: boolean,
    /** Bytes read past the handshake, framed like the rest. */
    private head: Buffer | undefined,
  ) {
    this.input = new RecordInput(opts.allocate);
    this.reader = new WsFrameReader(this, !masking, WS_MAX_MESSAGE);
    this.tls = (socket as TLSSocket).encrypted === true;
    // Listeners from the start, so no 'error' goes unhandled before start().
    socket.on('error', (err) => {
      this.closeCause ??= err;
    });
    socket.on('close', () => {
      this.reader.stop();
      const cause = this.closeReceived ? this.closeCause : (this.closeCause ?? new Error('WebSocket connection lost without a close frame'));
      this.input.handlers?.onClose(cause);
    });
  }

  /** Wraps a socket upgraded by answerUpgrade() (ws-handshake.ts); `remote` names the
   * client (after any PROXY header or trusted X-Forwarded-For), `head` is what was read
   * past the request. */
  static accept(socket: Socket, remote: { remoteAddress?: string | undefined; remotePort?: number | undefined }, opts: WsRecordConnOptions = {}, head?: Buffer): WsRecordConn {
    return new WsRecordConn(socket, remote.remoteAddress, remote.remotePort, opts, false, head && head.length > 0 ? head : undefined);
  }

  /**
   * Opens `url` (wss://host:port/v1/el) offering WS_SUBPROTOCOL. `options` are
   * node:https's (ca, servername, checkServerIdentity, createConnection for a proxy
   * tunnel, headers) and handshakeTimeout. Resolves once the upgrade is done; rejects
   * with the socket's or the TLS error, or an ElError naming the HTTP status the server
   * answered instead.
   */
  static async connect(url: string, options: WsConnectOptions, opts: WsRecordConnOptions = {}): Promise<WsRecordConn> {
    const { socket, head } = await openWebSocket(url, options);
    return new WsRecordConn(socket, socket.remoteAddress, socket.remotePort, opts, true, head.length > 0 ? head : undefined);
  }

  get peer(): string {
    return `${this.remoteAddress ?? '?'}:${this.remotePort ?? 0}`;
  }

  start(handlers: RecordHandlers): void {
    if (this.started) throw new Error('WsRecordConn.start() called twice');
    this.started = true;
    this.input.handlers = handlers;
    if (this.head) {
      const head = this.head;
      this.head = undefined;
      this.onChunk(head);
    }
    const onChunk = (chunk: Buffer): void => this.onChunk(chunk);
    const s = this.socket as TLSSocket;
    if (!readIntoSharedBuffer(s, onChunk)) s.on('data', onChunk);
    s.on('end', () => {
      // A FIN after the peer's close frame is the normal end; without one, a loss (onClose says so).
      if (!this.closeSent) this.socket.end();
    });
  }

  private onChunk(chunk: Buffer): void {
    if (this.reader.done) return;
    this.reader.push(chunk);
    this.input.readEnd();
  }

  accept(type: number, maxPayload: number): void {
    this.input.reader.accept(type, maxPayload);
  }

  wsData(chunk: Buffer, start: number, end: number): void {
    if (!this.input.pushPart(start === 0 && end === chunk.length ? chunk : chunk.subarray(start, end))) this.reader.stop();
  }

  wsPing(payload: Buffer): void {
    if (!this.closeSent && this.socket.writableLength < PONG_BACKLOG) this.control(OP_PONG, payload);
  }

  wsClose(code: number): void {
    this.closeReceived = true;
    // Echo the code (RFC 6455 §5.5.1), then end our side; the peer ends the connection.
    if (!this.closeSent) this.sendClose(code === CLOSE_NO_STATUS ? CLOSE_NORMAL : code);
    this.input.handlers?.onEnd?.();
  }

  wsFail(code: number, message: string): void {
    this.sendClose(code);
    this.input.fail(new ElError('EL_ERR_PROTOCOL', message));
  }

  /**
   * One binary message per batch (pieces of whole records above WS_SEND_MESSAGE). With
   * `done` the batch is ours until it runs: behind a backlog its pieces are written as
   * they are (the client masks them in place), after a header each, and `done` goes with
   * the last; the socket writes in order, so every piece is out by then.
   */
  write(batch: Buffer, done?: (err?: Error | null) => void): void {
    if (this.closeSent || this.socket.destroyed || this.socket.writableEnded) return;
    if (batch.length <= WS_SEND_MESSAGE) return void this.send(batch, done);
    // Cut at record boundaries, every message whole records: each hop forwards a message
    // only once it has all of it, so large messages would add their transfer time to the
    // round trip of every stream inside.
    let start = 0;
    let end = 0;
    let queued = false;
    while (end < batch.length) {
      const next = end + HEADER_LENGTH + batch.readUInt16BE(end + 1);
      if (next - start > WS_SEND_MESSAGE && end > start) {
        queued = this.send(batch.subarray(start, end), undefined, done !== undefined, queued);
        start = end;
      }
      end = next;
    }
    this.send(batch.subarray(start), done, done !== undefined, queued);
  }

  /**
   * One binary message for the batch buf[start, …) that RecordWriter built behind
   * `headroom` free bytes: the header goes in front, the client masks in place, and the
   * frame leaves in one socket write with no copy, through or behind a backlog alike
   * (before, the batch was copied once more, or header and batch went as two writes
   * that the socket gathered with writev). `done` as write()'s.
   */
  writeFramed(buf: Buffer, start: number, done?: (err?: Error | null) => void): void {
    const len = buf.length - start;
    if (len > WS_SEND_MESSAGE || start < MAX_HEADER) return this.write(buf.subarray(start), done);
    const s = this.socket;
    if (this.closeSent || s.destroyed || s.writableEnded) return;
    const mask = this.masking ? nextMaskKey() : undefined;
    const at = start - headerLength(len, this.masking);
    writeHeader(buf, at, OP_BINARY, len, mask);
    if (mask) maskInPlace(buf, start, buf.length, mask, 0);
    s.write(at === 0 ? buf : buf.subarray(at), done);
  }

  /** One binary frame with `payload`, one socket write (two behind a backlog). `kept`:
   * the caller's batch stays ours after this piece (a `done` comes with a later one).
   * `queued`: an earlier piece went out as the caller's memory, so this one must too (its
   * `done` may not run before that piece is written). Returns whether this one did. */
  private send(payload: Buffer, done: ((err?: Error | null) => void) | undefined, kept = done !== undefined, queued = false): boolean {
    const s = this.socket;
    const len = payload.length;
    const mask = this.masking ? nextMaskKey() : undefined;
    const hlen = headerLength(len, this.masking);
    if (!queued && this.tls && socketWritesThrough(s)) {
      // Through: the socket encrypts the frame before write() returns.
      const buf = frames.take(PAYLOAD_AT + len);
      const at = PAYLOAD_AT - hlen;
      writeHeader(buf, at, OP_BINARY, len, mask);
      payload.copy(buf, PAYLOAD_AT);
      if (mask) maskInPlace(buf, PAYLOAD_AT, PAYLOAD_AT + len, mask, 0);
      s.write(buf.subarray(at));
      done?.();
      return false;
    }
    if (kept) {
      // Behind a backlog the socket queues writes and sends them together: the header and
      // the caller's memory as it is, no copy (and no buffer of our own to allocate).
      const header = Buffer.allocUnsafe(hlen);
      writeHeader(header, 0, OP_BINARY, len, mask);
      if (mask) maskInPlace(payload, 0, len, mask, 0);
      s.write(header);
      s.write(payload, done);
      return true;
    }
    const { buf, done: release } = writeBuffer(hlen + len, false);
    writeHeader(buf, 0, OP_BINARY, len, mask);
    payload.copy(buf, hlen);
    if (mask) maskInPlace(buf, hlen, hlen + len, mask, 0);
    s.write(buf, release);
    done?.();
    return false;
  }

  /** A control frame (pong, close): small, a buffer from Node's pool. */
  private control(opcode: number, payload: Buffer): void {
    const s = this.socket;
    if (s.destroyed || s.writableEnded) return;
    const len = Math.min(payload.length, MAX_CONTROL);
    const mask = this.masking ? nextMaskKey() : undefined;
    const hlen = headerLength(len, this.masking);
    const buf = Buffer.allocUnsafe(hlen + len);
    writeHeader(buf, 0, opcode, len, mask);
    payload.copy(buf, hlen, 0, len);
    if (mask) maskInPlace(buf, hlen, hlen + len, mask, 0);
    s.write(buf);
  }

  /** Sends a close frame (once) and ends our side of the socket. */
  private sendClose(code: number): void {
    if (this.closeSent) return;
    this.closeSent = true;
    const payload = Buffer.allocUnsafe(2);
    payload.writeUInt16BE(code, 0);
    this.control(OP_CLOSE, payload);
    if (!this.socket.destroyed) this.socket.end();
  }

  writesThrough(): boolean {
    return this.tls && !this.closeSent && socketWritesThrough(this.socket);
  }

  backlog(): number {
    return this.socket.writableLength;
  }

  end(last?: Buffer): void {
    if (this.closeSent || this.socket.destroyed) return;
    if (last) this.write(last);
    this.sendClose(CLOSE_NORMAL);
  }

  destroy(): void {
    this.reader.stop();
    this.input.stop();
    this.socket.destroy();
  }

  get destroyed(): boolean {
    return this.socket.destroyed;
  }

  /**
   * RFC 9266 tls-exporter of the TLS connection the WebSocket runs on (TLS 1.3 only, as
   * TlsRecordConn's): the same at both ends when the client's TLS reaches the switch
   * itself. Undefined on the plain-HTTP listener (an ingress ended the client's TLS), so
   * there a ticket bound to a device key is refused.
   */
  channelBinding(): Buffer | undefined {
    if (this.binding) return this.binding;
    const s = this.socket as Partial<TLSSocket>;
    if (s.destroyed || typeof s.getProtocol !== 'function' || s.getProtocol() !== 'TLSv1.3') return undefined;
    this.binding = s.exportKeyingMaterial!(CHANNEL_BINDING_LENGTH, CHANNEL_BINDING_LABEL, NO_CONTEXT);
    return this.binding;
  }
}
