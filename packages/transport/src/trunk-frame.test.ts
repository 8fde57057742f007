/**
 * Trunk frames through the shared output path: an OutputQueue over a RecordWriter takes a
 * frame queued under trunkFrameType(segment id) without a copy and writes it as one
 * TRUNK_FRAME record with the 4-byte id in front, in order with the other records (and a
 * FRAME_GSO payload queued under trunkGsoType as one TRUNK_FRAME_GSO).
 */
import { describe, expect, it } from 'vitest';
import { RecordType, TRUNK_SEGMENT_ID_LENGTH, trunkFrameType, trunkGsoType, taggedRecordType, taggedSegmentId, isTaggedTrunkFrame } from '@elink/protocol';
import { memoryRecordConnPair } from './memory-record-conn.js';
import { OutputQueue } from './output-queue.js';
import { RecordWriter } from './record-writer.js';

describe('tagged trunk frames', () => {
  it('round-trips the segment id in the type, up to 2^32 - 1', () => {
    for (const id of [0, 1, 0xa51146d3, 0xffffffff]) {
      const t = trunkFrameType(id);
      expect(isTaggedTrunkFrame(t)).toBe(true);
      expect(taggedSegmentId(t)).toBe(id);
      expect(taggedRecordType(t)).toBe(RecordType.TRUNK_FRAME);
      const g = trunkGsoType(id);
      expect(isTaggedTrunkFrame(g)).toBe(true);
      expect(taggedSegmentId(g)).toBe(id);
      expect(taggedRecordType(g)).toBe(RecordType.TRUNK_FRAME_GSO);
    }
    expect(isTaggedTrunkFrame(RecordType.FRAME)).toBe(false);
    expect(isTaggedTrunkFrame(RecordType.CONTROL)).toBe(false);
  });

  it('are written as TRUNK_FRAME records with the segment id, in order, counted as frames', async () => {
    const [a, b] = memoryRecordConnPair();
    const got: { type: number; payload: Buffer }[] = [];
    b.accept(RecordType.TRUNK_FRAME, 0xffff);
    b.accept(RecordType.TRUNK_FRAME_GSO, 0xffff);
    b.accept(RecordType.TRUNK_CONTROL, 1024);
    b.start({ onRecord: (type, payload) => got.push({ type, payload: Buffer.from(payload) }), onError: (e) => { throw e; }, onClose: () => {} });
    a.start({ onRecord: () => {}, onError: () => {}, onClose: () => {} });
    const q = new OutputQueue(new RecordWriter(a));
    const frame = Buffer.from('an ethernet frame, more or less');
    expect(q.push(RecordType.TRUNK_CONTROL, Buffer.from('{"type":"ping","id":1}'))).toBe(true);
    expect(q.push(trunkFrameType(0xa51146d3), frame)).toBe(true);
    expect(q.push(trunkFrameType(7), frame.subarray(3))).toBe(true);
    expect(q.push(trunkGsoType(9), frame)).toBe(true);
    expect(q.queuedSize).toBe(3 + 22 + (3 + 4 + frame.length) + (3 + 4 + frame.length - 3) + (3 + 4 + frame.length));
    q.flush();
    await new Promise((r) => setTimeout(r, 20));
    expect(got.map((r) => r.type)).toEqual([RecordType.TRUNK_CONTROL, RecordType.TRUNK_FRAME, RecordType.TRUNK_FRAME, RecordType.TRUNK_FRAME_GSO]);
    expect(got[1]!.payload.readUInt32BE(0)).toBe(0xa51146d3);
    expect(got[1]!.payload.subarray(TRUNK_SEGMENT_ID_LENGTH)).toEqual(frame);
    expect(got[2]!.payload.readUInt32BE(0)).toBe(7);
    expect(got[2]!.payload.subarray(TRUNK_SEGMENT_ID_LENGTH)).toEqual(frame.subarray(3));
    expect(got[3]!.payload.readUInt32BE(0)).toBe(9);
    expect(got[3]!.payload.subarray(TRUNK_SEGMENT_ID_LENGTH)).toEqual(frame);
    expect(q.framesOut).toBe(3);
  });

  it('refuses a frame that would not fit one record with its id (queue_full)', () => {
    const [a] = memoryRecordConnPair();
    const q = new OutputQueue(new RecordWriter(a));
    expect(q.push(trunkFrameType(1), Buffer.alloc(0xffff - TRUNK_SEGMENT_ID_LENGTH + 1))).toBe(false);
    expect(q.drops.queue_full).toBe(1);
    expect(q.push(trunkFrameType(1), Buffer.alloc(0xffff - TRUNK_SEGMENT_ID_LENGTH))).toBe(true);
  });
});
