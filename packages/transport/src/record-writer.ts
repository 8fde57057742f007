/**
 * EL batch encoding: a tick's records become ONE buffer (a header each, then the
 * payload) and one conn.write(). Shared by switch sessions, trunks and the client.
 *
 * Why one Buffer and not cork()/uncork() or writev of views: each TLS write ends in
 * SSL_write, and TLSWrap copies writev chunks into one buffer anyway; one copy per
 * record in JS costs less than 2·n write() calls, each with its own WriteWrap and
 * callback bookkeeping. The frames queued are views into the sender's chunk (zero-copy
 * until here), so this copy is the only one. The buffer is the shared scratch buffer
 * when the conn writes through, else pooled memory (scratch-buffer.ts: V8's full GCs).
 * A conn that frames batches itself (WebSocket) is given `headroom` bytes in front of the
 * batch for its header (writeFramed), so its frame is this same buffer.
 */
import { isTaggedTrunkFrame, taggedRecordType, taggedSegmentId, TRUNK_SEGMENT_ID_LENGTH, writeRecordHeader } from '@elink/protocol';
import type { RecordConn } from './record-conn.js';
import { writeBuffer } from './scratch-buffer.js';
import type { Writer } from './writer.js';

export class RecordWriter implements Writer {
  constructor(readonly conn: RecordConn) {}

  write(types: readonly number[], payloads: readonly Buffer[], bytes: number): number {
    const conn = this.conn;
    if (conn.destroyed) return 0;
    // A conn with framing of its own (WebSocket) gets room for its header in front, so it
    // frames the batch in place: one write, no second copy of the batch.
    const room = conn.writeFramed !== undefined ? (conn.headroom ?? 0) : 0;
    const { buf, done } = writeBuffer(room + bytes, conn.writesThrough());
    let off = room;
    for (let i = 0; i < payloads.length; i++) {
      const p = payloads[i];
      const t = types[i];
      if (isTaggedTrunkFrame(t)) {
        // A trunk port's frame: TRUNK_FRAME (or TRUNK_FRAME_GSO), the segment id, then the
        // frame (or the FRAME_GSO payload) (records.ts).
        off = writeRecordHeader(buf, off, taggedRecordType(t), TRUNK_SEGMENT_ID_LENGTH + p.length);
        buf.writeUInt32BE(taggedSegmentId(t), off);
        off += TRUNK_SEGMENT_ID_LENGTH;
      } else off = writeRecordHeader(buf, off, t, p.length);
      buf.set(p, off);
      off += p.length;
    }
    const batch = off === buf.length ? buf : buf.subarray(0, off);
    if (room > 0) conn.writeFramed!(batch, room, done);
    else conn.write(batch, done);
    return 0;
  }

  backlog(): number {
    return this.conn.backlog();
  }
}
