/**
 * TLS sockets that read into one shared buffer instead of a new Buffer per read.
 *
 * Why: Node hands every decrypted TLS chunk (up to 16 KiB) to 'data' in a fresh
 * ArrayBuffer, which V8 counts as external memory; at gigabit rates that alone starts
 * a full mark-compact several times a second in the switch (see scratch-buffer.ts).
 * Read into one buffer, a chunk is valid only until the callback returns, so the
 * reader must copy what it keeps (RecordReader's `transientChunks`).
 *
 * One buffer for the whole process: the event loop delivers one read at a time, and
 * each callback has consumed its chunk when it returns.
 */
import type { TLSSocket } from 'node:tls';

const shared = Buffer.allocUnsafe(64 * 1024);

/** The documented `onread` option of tls.connect()/net.Socket, for client sockets. */
export function sharedReadOption(onChunk: (chunk: Buffer) => void): { buffer: Buffer; callback: (n: number, buf: Buffer) => boolean } {
  return {
    buffer: shared,
    callback: (n, buf) => {
      onChunk(buf.subarray(0, n));
      return true;
    },
  };
}

type Internals = TLSSocket & { _handle?: { useUserBuffer?: (buf: Uint8Array) => void } } & Record<symbol, unknown>;

/**
 * The same for a TLSSocket that wraps an accepted connection (the server side), where
 * Node (20, 24) ignores `onread`: sets the per-socket state that the option sets (the
 * kBuffer/kBufferCb/kBufferGen fields of net.Socket, found by their descriptions) and
 * tells the TLS handle to read into the buffer (StreamBase.useUserBuffer). Returns
 * false, changing nothing, if this Node does not have those internals — the caller
 * then listens to 'data' as usual. Chunks already buffered by the stream are delivered
 * first. The test in shared-read-buffer.test.ts fails if a Node upgrade breaks this.
 */
export function readIntoSharedBuffer(socket: TLSSocket, onChunk: (chunk: Buffer) => void): boolean {
  const s = socket as Internals;
  const handle = s._handle;
  if (!handle || typeof handle.useUserBuffer !== 'function') return false;
  const k = bufferFields(s);
  if (k === undefined) return false;
  if (s[k.buffer] !== null || s[k.callback] !== null) return false; // already reading into a buffer of its own
  s[k.generator] = null;
  s[k.callback] = (n: number, buf: Buffer): boolean => {
    onChunk(buf.subarray(0, n));
    return true;
  };
  s[k.buffer] = shared;
  handle.useUserBuffer(shared);
  for (let chunk = socket.read() as Buffer | null; chunk !== null; chunk = socket.read() as Buffer | null) onChunk(chunk);
  return true;
}

interface BufferFields {
  buffer: symbol;
  callback: symbol;
  generator: symbol;
}

/** net.Socket's symbols are the same for every socket of the process: found on the first
 * socket that has them, then only checked (a search per socket cost ~1 % of a session setup). */
let fields: BufferFields | undefined;

function bufferFields(s: Internals): BufferFields | undefined {
  if (fields && fields.buffer in s && fields.callback in s && fields.generator in s) return fields;
  const symbols = Object.getOwnPropertySymbols(s);
  const field = (name: string): symbol | undefined => symbols.find((sym) => sym.description === name);
  const buffer = field('kBuffer');
  const callback = field('kBufferCb');
  const generator = field('kBufferGen');
  if (buffer === undefined || callback === undefined || generator === undefined) return undefined;
  return (fields = { buffer, callback, generator });
}
