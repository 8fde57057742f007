/**
 * RFC 6455 framing for EL over WebSocket: frame headers, masking and the handshake's
 * accept key. Our own instead of `ws`'s sender and receiver so the data path costs what
 * raw TLS costs plus a 2–14-byte header (docs/benchmarks.md "EL over WebSocket"): frames
 * are read in place from the shared read buffer (ws-frame-reader.ts) and written through
 * a scratch buffer, never assembled in a buffer of their own.
 */
import { createHash, randomFillSync } from 'node:crypto';
import { NATIVE_MASK_MIN, nativeUnmask } from './native-mask.js';

export const OP_CONTINUATION = 0x0;
export const OP_TEXT = 0x1;
export const OP_BINARY = 0x2;
export const OP_CLOSE = 0x8;
export const OP_PING = 0x9;
export const OP_PONG = 0xa;

/** Close codes (RFC 6455 §7.4.1). */
export const CLOSE_NORMAL = 1000;
export const CLOSE_PROTOCOL = 1002;
export const CLOSE_UNSUPPORTED = 1003;
export const CLOSE_NO_STATUS = 1005;
export const CLOSE_TOO_BIG = 1009;

/** A control frame's payload is at most this (RFC 6455 §5.5). */
export const MAX_CONTROL = 125;
/** The longest header: 2 + 8 (64-bit length) + 4 (masking key). */
export const MAX_HEADER = 14;

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** Sec-WebSocket-Accept for a Sec-WebSocket-Key (RFC 6455 §4.2.2). */
export function acceptKey(key: string): string {
  return createHash('sha1')
    .update(key + GUID)
    .digest('base64');
}

/** Header length of a frame with `length` payload bytes. */
export function headerLength(length: number, masked: boolean): number {
  return (length < 126 ? 2 : length < 0x10000 ? 4 : 10) + (masked ? 4 : 0);
}

/**
 * Writes a final frame's header at buf[at]; with `mask` (4 bytes) the key follows the
 * length. Returns the offset of the payload.
 */
export function writeHeader(buf: Buffer, at: number, opcode: number, length: number, mask: Buffer | undefined): number {
  buf[at] = 0x80 | opcode;
  const m = mask ? 0x80 : 0;
  let o = at + 2;
  if (length < 126) buf[at + 1] = m | length;
  else if (length < 0x10000) {
    buf[at + 1] = m | 126;
    buf.writeUInt16BE(length, o);
    o += 2;
  } else {
    buf[at + 1] = m | 127;
    buf.writeUInt32BE(Math.floor(length / 0x1_0000_0000), o);
    buf.writeUInt32BE(length >>> 0, o + 4);
    o += 8;
  }
  if (mask) {
    buf[o] = mask[0]!;
    buf[o + 1] = mask[1]!;
    buf[o + 2] = mask[2]!;
    buf[o + 3] = mask[3]!;
    o += 4;
  }
  return o;
}

// Masking keys come from a pool refilled by one randomFillSync per 1,024 frames (as ws does):
// a call per frame would cost more than masking a small frame.
const keyPool = Buffer.allocUnsafeSlow(4096);
let keyOffset = keyPool.length;

/** A fresh random masking key (RFC 6455 §5.3), a view valid until the next 1,024 calls. */
export function nextMaskKey(): Buffer {
  if (keyOffset === keyPool.length) {
    randomFillSync(keyPool);
    keyOffset = 0;
  }
  const key = keyPool.subarray(keyOffset, keyOffset + 4);
  keyOffset += 4;
  return key;
}

// Word-wise XOR needs the key as one 32-bit word in memory order, rotated by the phase.
const keyBytes = new Uint8Array(4);
const keyWord = new Int32Array(keyBytes.buffer);
// One Int32Array over the last ArrayBuffer masked (the shared read buffer, the scratch
// buffer): a view per call would be an allocation per frame.
let viewOf: ArrayBufferLike | undefined;
let words: Int32Array<ArrayBufferLike> = new Int32Array(0);
/** The key rotated by the phase, for the native XOR (which starts at key byte 0). */
const rotated = Buffer.alloc(4);

/**
 * XORs buf[start, end) with `key` in place, key byte `phase` (0–3) at buf[start]: masking
 * and unmasking alike. Word-wise where the memory is 4-byte aligned. Returns the phase
 * after `end`.
 */
export function maskInPlace(buf: Uint8Array, start: number, end: number, key: Uint8Array, phase: number): number {
  let p = phase & 3;
  if (nativeUnmask !== undefined && end - start >= NATIVE_MASK_MIN) {
    for (let k = 0; k < 4; k++) rotated[k] = key[(p + k) & 3]!;
    nativeUnmask(Buffer.from(buf.buffer, buf.byteOffset + start, end - start), rotated);
    return (p + end - start) & 3;
  }
  let i = start;
  const base = buf.byteOffset;
  while (i < end && ((base + i) & 3) !== 0) {
    buf[i] = buf[i]! ^ key[p]!;
    p = (p + 1) & 3;
    i++;
  }
  const n = (end - i) >> 2;
  if (n > 0) {
    if (buf.buffer !== viewOf) {
      viewOf = buf.buffer;
      words = new Int32Array(buf.buffer, 0, buf.buffer.byteLength >> 2);
    }
    keyBytes[0] = key[p]!;
    keyBytes[1] = key[(p + 1) & 3]!;
    keyBytes[2] = key[(p + 2) & 3]!;
    keyBytes[3] = key[(p + 3) & 3]!;
    const w = keyWord[0]!;
    const v = words;
    let wi = (base + i) >> 2;
    const we = wi + n;
    for (; wi < we; wi++) v[wi] = v[wi]! ^ w;
    i += n << 2;
  }
  while (i < end) {
    buf[i] = buf[i]! ^ key[p]!;
    p = (p + 1) & 3;
    i++;
  }
  return p;
}

/** A close code a peer may send (RFC 6455 §7.4). */
export function validCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999);
}
