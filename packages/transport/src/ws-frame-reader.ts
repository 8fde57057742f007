/**
 * Reads RFC 6455 frames from transient chunks (the shared read buffer) without assembling
 * messages: a binary message's payload is unmasked in place and handed on piece by piece
 * (sink.data), so the record reader behind it copies each record once, as over raw TLS.
 * Control frames (ping, pong, close) may arrive between the fragments of a message; their
 * payload (at most 125 bytes) is gathered in a small buffer of the reader's own.
 *
 * Enforced: no reserved bits (no extension is negotiated), known opcodes, control frames
 * final and short, continuation only inside a message, masked frames from a client and
 * unmasked ones from a server, and messages of at most `maxMessage` bytes (1009). Text
 * messages are refused (1003): EL records travel in binary ones. On the first violation
 * sink.fail() names the close code and the reader ignores all further input.
 */
import { CLOSE_NO_STATUS, CLOSE_PROTOCOL, CLOSE_TOO_BIG, CLOSE_UNSUPPORTED, MAX_CONTROL, OP_BINARY, OP_CLOSE, OP_CONTINUATION, OP_PING, OP_PONG, OP_TEXT, maskInPlace, validCloseCode } from './ws-frame.js';

export interface WsFrameSink {
  /** chunk[start, end): bytes of a binary message, unmasked; valid only during the call. */
  wsData(chunk: Buffer, start: number, end: number): void;
  /** A ping: answer with a pong carrying `payload` (valid only during the call). */
  wsPing(payload: Buffer): void;
  /** The peer's close frame (1005 when it carried no code). */
  wsClose(code: number): void;
  /** The peer broke the protocol: close with `code`. */
  wsFail(code: number, message: string): void;
}

const HEADER = 0;
const PAYLOAD = 1;
const DONE = 2;

export class WsFrameReader {
  private state = HEADER;
  /** Header bytes gathered so far (a header may be split over chunks). */
  private readonly head = Buffer.allocUnsafe(14);
  private headHave = 0;
  private opcode = 0;
  private fin = false;
  private masked = false;
  private readonly key = Buffer.allocUnsafe(4);
  private phase = 0;
  /** Payload bytes of the current frame still to come. */
  private remaining = 0;
  /** A binary message is in progress (between its first and its final frame). */
  private inMessage = false;
  private messageBytes = 0;
  // Slices of Node's pool, not memory of their own: idle sessions by the thousand hold these.
  private readonly control = Buffer.allocUnsafe(MAX_CONTROL);
  private controlHave = 0;

  /**
   * `fromClient`: frames must be masked (the server's reader) or must not be (the client's).
   */
  constructor(
    private readonly sink: WsFrameSink,
    private readonly fromClient: boolean,
    private readonly maxMessage: number,
  ) {}

  get done(): boolean {
    return this.state === DONE;
  }

  /** Stops reading (the conn closed or failed). */
  stop(): void {
    this.state = DONE;
  }

  /** One chunk read; it is unmasked in place. */
  push(chunk: Buffer): void {
    let at = 0;
    const end = chunk.length;
    while (at < end && this.state !== DONE) {
      if (this.state === HEADER) at = this.readHeader(chunk, at, end);
      else {
        const take = Math.min(this.remaining, end - at);
        if (this.opcode & 0x8) {
          chunk.copy(this.control, this.controlHave, at, at + take);
          this.controlHave += take;
        } else {
          if (this.masked) this.phase = maskInPlace(chunk, at, at + take, this.key, this.phase);
          this.sink.wsData(chunk, at, at + take);
          if (this.state === DONE) return; // the sink stopped the reader
        }
        at += take;
        this.remaining -= take;
        if (this.remaining === 0) this.frameDone();
      }
    }
  }

  /** Gathers the header from chunk[at, end); returns where it stopped. */
  private readHeader(chunk: Buffer, at: number, end: number): number {
    const h = this.head;
    // Fast path: the whole header is in this chunk (almost always): read it in place.
    let src = chunk;
    let base = at;
    if (this.headHave === 0 && end - at >= 2) {
      const need = headerSize(chunk[at + 1]!);
      if (end - at < need) return this.gather(chunk, at, end);
    } else {
      at = this.gather(chunk, at, end);
      if (this.state !== HEADER || this.headHave < 2 || this.headHave < headerSize(h[1]!)) return at;
      src = h;
      base = 0;
    }
    const b0 = src[base]!;
    const b1 = src[base + 1]!;
    const size = headerSize(b1);
    if (src === chunk) at += size;
    this.headHave = 0;
    this.fin = (b0 & 0x80) !== 0;
    this.opcode = b0 & 0x0f;
    this.masked = (b1 & 0x80) !== 0;
    let len = b1 & 0x7f;
    let o = base + 2;
    if (len === 126) {
      len = src.readUInt16BE(o);
      o += 2;
    } else if (len === 127) {
      const high = src.readUInt32BE(o);
      // Beyond 2^53 a JS number cannot count it; far beyond any message we accept anyway.
      if (high > 0x1f_ffff) {
        this.fail(CLOSE_TOO_BIG, 'WebSocket frame length beyond 2^53');
        return at;
      }
      len = high * 0x1_0000_0000 + src.readUInt32BE(o + 4);
      o += 8;
    }
    if (this.masked) {
      this.key[0] = src[o]!;
      this.key[1] = src[o + 1]!;
      this.key[2] = src[o + 2]!;
      this.key[3] = src[o + 3]!;
    }
    this.phase = 0;
    this.remaining = len;
    this.check(b0, len);
    if (this.state === DONE) return at;
    this.state = PAYLOAD;
    if (len === 0) this.frameDone();
    return at;
  }

  private gather(chunk: Buffer, at: number, end: number): number {
    const h = this.head;
    while (at < end) {
      h[this.headHave++] = chunk[at++]!;
      if (this.headHave >= 2 && this.headHave === headerSize(h[1]!)) break;
    }
    return at;
  }

  /** The header's rules (RFC 6455 §5.2–5.5); fails the reader on a violation. */
  private check(b0: number, len: number): void {
    if ((b0 & 0x70) !== 0) return this.fail(CLOSE_PROTOCOL, 'WebSocket frame with reserved bits set (no extension was negotiated)');
    if (this.masked !== this.fromClient) return this.fail(CLOSE_PROTOCOL, this.fromClient ? 'unmasked WebSocket frame from a client' : 'masked WebSocket frame from a server');
    const op = this.opcode;
    if (op & 0x8) {
      if (op !== OP_CLOSE && op !== OP_PING && op !== OP_PONG) return this.fail(CLOSE_PROTOCOL, `unknown WebSocket opcode 0x${op.toString(16)}`);
      if (!this.fin) return this.fail(CLOSE_PROTOCOL, 'fragmented WebSocket control frame');
      if (len > MAX_CONTROL) return this.fail(CLOSE_PROTOCOL, `WebSocket control frame of ${len} bytes (at most ${MAX_CONTROL})`);
      this.controlHave = 0;
      return;
    }
    if (op === OP_TEXT) return this.fail(CLOSE_UNSUPPORTED, 'text WebSocket message: EL records travel in binary messages');
    if (op === OP_CONTINUATION) {
      if (!this.inMessage) return this.fail(CLOSE_PROTOCOL, 'WebSocket continuation frame outside a message');
    } else if (op === OP_BINARY) {
      if (this.inMessage) return this.fail(CLOSE_PROTOCOL, 'new WebSocket message before the previous one ended');
      this.inMessage = true;
      this.messageBytes = 0;
    } else return this.fail(CLOSE_PROTOCOL, `unknown WebSocket opcode 0x${op.toString(16)}`);
    this.messageBytes += len;
    if (this.messageBytes > this.maxMessage) return this.fail(CLOSE_TOO_BIG, `WebSocket message of more than ${this.maxMessage} bytes`);
  }

  private frameDone(): void {
    this.state = HEADER;
    const op = this.opcode;
    if (!(op & 0x8)) {
      if (this.fin) this.inMessage = false;
      return;
    }
    const payload = this.control.subarray(0, this.controlHave);
    if (this.masked) maskInPlace(payload, 0, payload.length, this.key, 0);
    if (op === OP_PING) this.sink.wsPing(payload);
    else if (op === OP_CLOSE) {
      if (payload.length === 1) return this.fail(CLOSE_PROTOCOL, 'WebSocket close frame with a 1-byte payload');
      const code = payload.length >= 2 ? payload.readUInt16BE(0) : CLOSE_NO_STATUS;
      if (payload.length >= 2 && !validCloseCode(code)) return this.fail(CLOSE_PROTOCOL, `WebSocket close code ${code} is not valid`);
      this.state = DONE;
      this.sink.wsClose(code);
    }
  }

  private fail(code: number, message: string): void {
    this.state = DONE;
    this.sink.wsFail(code, message);
  }
}

/** Header length from its second byte. */
function headerSize(b1: number): number {
  const len = b1 & 0x7f;
  return (len === 126 ? 4 : len === 127 ? 10 : 2) + (b1 & 0x80 ? 4 : 0);
}
