/**
 * The 4-byte id a segment's frames carry on a trunk (TRUNK_FRAME): the first 32 bits of
 * SHA-256 of its name, so every node derives the same id without negotiating. Both ends
 * list their segments with ids and modes in trunk_hello; a segment is shared when the
 * name, id and mode agree. Two names of one node with the same id (1 in 2^32 per pair)
 * are refused at that node's trunks (the later one is not shared, and the log says so).
 */
import { createHash } from 'node:crypto';

export function trunkSegmentId(name: string): number {
  return createHash('sha256').update(name, 'utf8').digest().readUInt32BE(0);
}
