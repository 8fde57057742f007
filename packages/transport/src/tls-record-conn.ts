/**
 * A RecordConn over a TLS socket. Input lands in the one shared read buffer (see
 * shared-read-buffer.ts), so every record is copied out by the reader (transientChunks):
 * frames into `allocate`'s memory (the switch: its FlushScheduler's arena, no ArrayBuffer
 * each), control records into memory of their own, as they may outlive the tick.
 *
 * Both sides: TlsRecordConn.accept(socket) wraps a socket a TLS server accepted (reading
 * into the shared buffer through Node's internals, else 'data'); TlsRecordConn.connect()
 * opens one with the documented `onread` option. The conn never ends or destroys itself
 * on bad input: the owner hears onError and says why before it ends.
 */
import { connect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { CHANNEL_BINDING_LABEL, CHANNEL_BINDING_LENGTH, type PayloadAllocator } from '@elink/protocol';
import type { RecordConn, RecordHandlers } from './record-conn.js';
import { RecordInput } from './record-input.js';
import { writesThrough } from './scratch-buffer.js';
import { readIntoSharedBuffer, sharedReadOption } from './shared-read-buffer.js';

// RFC 9266's exporter has an empty context; one shared empty buffer, not one per connection.
const NO_CONTEXT = Buffer.alloc(0);

export interface TlsRecordConnOptions {
  /** Memory for frames (not control records) read; default a buffer of their own each. */
  allocate?: PayloadAllocator;
}

export class TlsRecordConn implements RecordConn {
  private readonly input: RecordInput;
  private started = false;
  private closeCause: Error | undefined;

  private constructor(
    readonly socket: TLSSocket,
    input: RecordInput,
    /** Input is attached in start() (accepted sockets, and sockets over a given socket, where `onread` does not apply). */
    private readonly readOnStart: boolean,
  ) {
    this.input = input;
    // Listeners from the start, so no 'error' goes unhandled before start().
    socket.on('error', (err) => {
      this.closeCause ??= err;
    });
    socket.on('end', () => this.input.handlers?.onEnd?.());
    socket.on('close', () => this.input.handlers?.onClose(this.closeCause));
  }

  /** Wraps a socket a TLS server accepted ('secureConnection'). */
  static accept(socket: TLSSocket, opts: TlsRecordConnOptions = {}): TlsRecordConn {
    return new TlsRecordConn(socket, new RecordInput(opts.allocate), true);
  }

  /** Connects (tls.connect with `options`) reading into the shared buffer. Call start()
   * before returning to the event loop; `socket` is there for 'secureConnect' and the
   * peer's certificate. Over `options.socket` (a proxy tunnel) node ignores `onread`:
   * then input is attached as on an accepted socket. */
  static connect(options: ConnectionOptions, opts: TlsRecordConnOptions = {}): TlsRecordConn {
    const input = new RecordInput(opts.allocate);
    if (options.socket) return new TlsRecordConn(connect(options), input, true);
    // `onread` is documented for tls.connect but missing from @types/node's ConnectionOptions.
    const socket = connect(<ConnectionOptions>{ ...options, onread: sharedReadOption((chunk) => input.push(chunk)) });
    return new TlsRecordConn(socket, input, false);
  }

  get peer(): string {
    return `${this.socket.remoteAddress ?? '?'}:${this.socket.remotePort ?? 0}`;
  }

  get remoteAddress(): string | undefined {
    return this.socket.remoteAddress;
  }

  get remotePort(): number | undefined {
    return this.socket.remotePort;
  }

  start(handlers: RecordHandlers): void {
    if (this.started) throw new Error('TlsRecordConn.start() called twice');
    this.started = true;
    this.input.handlers = handlers;
    if (this.readOnStart) {
      const onData = (chunk: Buffer): void => this.input.push(chunk);
      if (!readIntoSharedBuffer(this.socket, onData)) this.socket.on('data', onData);
    }
  }

  accept(type: number, maxPayload: number): void {
    this.input.reader.accept(type, maxPayload);
  }

  write(batch: Buffer, done?: (err?: Error | null) => void): void {
    const s = this.socket;
    if (!s.destroyed && !s.writableEnded) s.write(batch, done);
  }

  writesThrough(): boolean {
    return writesThrough(this.socket);
  }

  backlog(): number {
    return this.socket.writableLength;
  }

  end(last?: Buffer): void {
    const s = this.socket;
    if (s.destroyed || s.writableEnded) return;
    if (last) s.end(last);
    else s.end();
  }

  destroy(): void {
    this.input.stop();
    this.socket.destroy();
  }

  get destroyed(): boolean {
    return this.socket.destroyed;
  }

  /** RFC 9266 tls-exporter, once the handshake is done; TLS 1.3 only: the TLS 1.2 exporter
   * is unique per connection only with the extended master secret, which node:tls cannot
   * confirm. Not kept: hello needs it once, and a buffer of its own per session would
   * live as long as the session. */
  channelBinding(): Buffer | undefined {
    const s = this.socket;
    if (s.destroyed || s.getProtocol() !== 'TLSv1.3') return undefined;
    return s.exportKeyingMaterial(CHANNEL_BINDING_LENGTH, CHANNEL_BINDING_LABEL, NO_CONTEXT);
  }
}
