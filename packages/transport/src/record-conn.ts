/**
 * What a session runs over: a connection that carries EL records both ways (TLS today,
 * tls-record-conn.ts; WebSocket and trunks later; memory-record-conn.ts for tests). It
 * frames the input (a RecordReader with explicit limits) and hands over whole batches
 * of encoded records for output (record-writer.ts builds them).
 */
import type { ElError } from '@elink/protocol';

export interface RecordHandlers {
  /** One complete record. Frames live in the conn's `allocate` memory (e.g. the
   * scheduler's arena, valid until its recycle), control records in memory of their own. */
  onRecord(type: number, payload: Buffer): void;
  /** After each input chunk was read (the session flushes what it queued: flushNow()). */
  onReadEnd?(): void;
  /** The input broke the protocol (unknown record type, over the accept() limit) or a
   * handler threw (EL_ERR_INTERNAL): further input is ignored. The conn stays open: the
   * owner says why and ends it. */
  onError(err: ElError): void;
  /** The peer ended its side (no more input). */
  onEnd?(): void;
  /** The connection is gone (once); `cause`: the transport error that closed it, if any. */
  onClose(cause?: Error): void;
}

export interface RecordConn {
  /** "address:port" for logs. */
  readonly peer: string;
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  /** Starts delivering records to `handlers` (once). */
  start(handlers: RecordHandlers): void;
  /** Allows records of `type` with payloads up to `maxPayload` bytes (RecordReader.accept);
   * nothing is accepted until allowed. */
  accept(type: number, maxPayload: number): void;
  /** Writes encoded records. `done` is called once the conn no longer needs `batch`; until
   * then the batch is the conn's (WsRecordConn masks it in place). Ignored once ended or
   * destroyed. */
  write(batch: Buffer, done?: (err?: Error | null) => void): void;
  /** Bytes a writer leaves free in front of a batch for writeFramed(): room for the
   * carrier's own frame header (WebSocket). Absent on a conn without framing of its own. */
  readonly headroom?: number;
  /** As write(), for the batch buf[start, buf.length) with buf[0, start) free (start ≥
   * headroom): the conn frames it in place, so header and batch leave in one socket write
   * without a copy, as raw TLS's batch does. Present exactly when headroom is. */
  writeFramed?(buf: Buffer, start: number, done?: (err?: Error | null) => void): void;
  /** True when write() is done with the batch when it returns, so it may be built in the
   * shared scratch buffer (scratch-buffer.ts). */
  writesThrough(): boolean;
  /** Bytes written and not yet sent (socket.writableLength). */
  backlog(): number;
  /** Writes `last` (encoded records), if given, then ends our side; the peer reads all of it. */
  end(last?: Buffer): void;
  /** Closes at once; what is not sent yet is lost. */
  destroy(): void;
  readonly destroyed: boolean;
  /**
   * The connection's channel binding (RFC 9266 tls-exporter: 32 bytes exported with the
   * label "EXPORTER-Channel-Binding"), the same at both ends and different on every
   * connection; what a device key signs in `hello`. Undefined when the transport has
   * none (TLS below 1.3, a conn without TLS of its own): then only tickets without a
   * device key are admitted on it. Absent = none.
   */
  channelBinding?(): Buffer | undefined;
}
