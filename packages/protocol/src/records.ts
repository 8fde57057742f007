/**
 * EL protocol v1: records.
 *
 * Session flow (client ⇄ switch node), over TLS 1.2/1.3 on TCP, ALPN "el/1":
 *
 *   1. client → switch  CONTROL {"type":"hello", version:1, ticket, mac?, hostname?}
 *      (must be the first record, within the hello timeout; anything else closes)
 *   2. switch → client  CONTROL {"type":"welcome", …addresses, mtu, keepalive}
 *                       or CONTROL {"type":"error", code, message} and close
 *   3. both ways        FRAME records (L2: Ethernet frame without FCS; L3: IP packet),
 *                       FRAME_GSO records if hello.caps and welcome.caps both hold "gso",
 *                       CONTROL ping/pong every keepalive.interval seconds
 *   4. either side      CONTROL bye (orderly), or error (then close)
 *
 * Every record has a 3-byte header:
 *
 *   offset 0      1 byte    type   (RecordType)
 *   offset 1..2   2 bytes   length of the payload, unsigned big-endian (0..65535)
 *   offset 3      length    payload
 *
 * Many records may share one TLS write and one record may span several TCP
 * segments: the stream is a plain concatenation of records.
 */

export const RecordType = {
  /** L2: one Ethernet frame (dst, src, ethertype, payload; no FCS). L3: one IPv4/IPv6 packet. */
  FRAME: 0x01,
  /** One UTF-8 JSON object with a string "type" field, at most MAX_CONTROL_PAYLOAD bytes. */
  CONTROL: 0x02,
  /** Node ⇄ node only: 4-byte big-endian segment id, then a FRAME payload. */
  TRUNK_FRAME: 0x03,
  /** Node ⇄ node only: JSON, as CONTROL. */
  TRUNK_CONTROL: 0x04,
  /**
   * Only between peers that both named the "gso" capability (hello.caps, welcome.caps):
   * a 10-byte virtio_net_hdr (gso.ts), then a FRAME payload that may be a TCP
   * super-frame (one header set, up to 64 KiB of payload) and/or carry a partial
   * checksum; payload at most 65,535 bytes in all. The receiver writes it to an
   * offload device as it is, or segments it in software (softwareSegment).
   */
  FRAME_GSO: 0x05,
  /** Node ⇄ node only, after both trunk_hellos named "gso": 4-byte big-endian segment id,
   * then a FRAME_GSO payload (virtio_net_hdr + frame) of at most 65,531 bytes. */
  TRUNK_FRAME_GSO: 0x06,
} as const;

/** The capability that allows FRAME_GSO records (hello.caps / welcome.caps). */
export const CAP_GSO = 'gso';
/** With "gso": FRAME_GSO records may also be UDP super-frames (gso_type UDP_L4, gso.ts),
 * runs of datagrams of one flow (hello.caps / welcome.caps, trunk_hello.caps). */
export const CAP_USO = 'uso';

export type RecordTypeValue = (typeof RecordType)[keyof typeof RecordType];

export const HEADER_LENGTH = 3;
export const MAX_RECORD_PAYLOAD = 0xffff;
export const MAX_CONTROL_PAYLOAD = 16 * 1024;
/** Ethernet header (14) plus one 802.1Q tag (4): a frame may be this much longer than the MTU. */
export const L2_OVERHEAD = 18;
export const ALPN = 'el/1';
/** ALPN of a trunk between two switch nodes (docs/protocol.md §7). */
export const TRUNK_ALPN = 'el-trunk/1';
/** The segment id in front of a TRUNK_FRAME (and TRUNK_FRAME_GSO) payload. */
export const TRUNK_SEGMENT_ID_LENGTH = 4;
/** The longest FRAME_GSO payload a TRUNK_FRAME_GSO carries (the segment id takes 4 bytes). */
export const MAX_TRUNK_GSO_PAYLOAD = MAX_RECORD_PAYLOAD - TRUNK_SEGMENT_ID_LENGTH;

/**
 * The type under which a trunk port queues a frame of segment `segmentId` on its output
 * queue: TRUNK_FRAME with the id above the low byte. The writer (record-writer.ts) puts the
 * id in front of the payload, so the frame is queued without a copy or an allocation.
 * Any queued type above 0xff is such a tagged trunk record (isTaggedTrunkFrame); its low
 * byte is the record type written (taggedRecordType).
 */
export function trunkFrameType(segmentId: number): number {
  // id + 1: segment id 0 must be tagged too (above 0xff); exact in a double up to 2^53.
  return RecordType.TRUNK_FRAME + ((segmentId >>> 0) + 1) * 0x100;
}

/** As trunkFrameType, for a FRAME_GSO payload: written as TRUNK_FRAME_GSO. */
export function trunkGsoType(segmentId: number): number {
  return RecordType.TRUNK_FRAME_GSO + ((segmentId >>> 0) + 1) * 0x100;
}

export function isTaggedTrunkFrame(type: number): boolean {
  return type > 0xff;
}

/** The segment id of a tagged trunk record type. */
export function taggedSegmentId(type: number): number {
  return Math.floor(type / 0x100) - 1;
}

/** The record type written for a tagged type: TRUNK_FRAME or TRUNK_FRAME_GSO. */
export function taggedRecordType(type: number): number {
  return type % 0x100;
}

/** Writes a record header at `offset` of `target`; returns the offset after it. */
export function writeRecordHeader(target: Buffer, offset: number, type: number, length: number): number {
  target[offset] = type;
  target[offset + 1] = length >>> 8;
  target[offset + 2] = length & 0xff;
  return offset + HEADER_LENGTH;
}

/** One record as a fresh buffer (header + copy of payload). For control traffic, not the data path. */
export function encodeRecord(type: number, payload: Uint8Array): Buffer {
  if (payload.length > MAX_RECORD_PAYLOAD) {
    throw new RangeError(`record payload of ${payload.length} bytes exceeds ${MAX_RECORD_PAYLOAD}`);
  }
  const out = Buffer.allocUnsafe(HEADER_LENGTH + payload.length);
  writeRecordHeader(out, 0, type, payload.length);
  out.set(payload, HEADER_LENGTH);
  return out;
}
