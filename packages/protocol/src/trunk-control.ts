/**
 * Trunk control messages: the JSON objects carried in TRUNK_CONTROL records (type 0x04)
 * between two switch nodes (docs/protocol.md §9). As for CONTROL, unknown fields are
 * ignored and unknown types are errors; every list is bounded so one record stays under
 * MAX_CONTROL_PAYLOAD.
 *
 *   both ways, first:  trunk_hello {version, node, role, proof, segments, caps?}
 *   then, both ways:   update {segment, add: [[key, seq, owner?, age?], …], del: [key, …], replay?}
 *                      segments {segments}     (the sender hosts more: its whole set, as in
 *                                               trunk_hello; only to a peer naming "segments")
 *                      resync {segment}        (send the full table of the segment again,
 *                                               answered by updates with replay: true; only
 *                                               to a peer naming "resync")
 *                      ping {id} / pong {id}   (keepalive)
 *                      error {code, message}   (then close)
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ElError } from './errors.js';
import { encodeRecord, MAX_CONTROL_PAYLOAD, RecordType } from './records.js';

export const TRUNK_PROTOCOL_VERSION = 1;
/** Entries (adds plus withdrawals) in one update message: keeps it well below 16 KiB. */
export const MAX_UPDATE_ENTRIES = 128;
/** Segments named in one trunk_hello. */
export const MAX_TRUNK_SEGMENTS = 256;

/** trunk_hello.caps: the sender takes `segments` messages (its set of shared segments may
 * grow on a live trunk). A peer without it is closed and dialed again instead. */
export const CAP_TRUNK_SEGMENTS = 'segments';

/** trunk_hello.caps: the sender takes `resync` messages (and answers them with `update`s
 * marked `replay`). A peer without it is never sent one. */
export const CAP_TRUNK_RESYNC = 'resync';

/** trunk_hello.caps: the sender takes `update` adds of four elements (a client session's
 * owner and age, after key and seq) and ends a session of its own whose device a peer
 * shows connected again later (docs/cluster.md "A device that moved"). A peer without it
 * gets two-element adds: its parser takes no more. */
export const CAP_TRUNK_MOBILITY = 'mobility';

/** An update add's owner: endpointOwner(user, device) of the client session holding it. */
export const OWNER_LENGTH = 16;
/** Who holds a client session's endpoints, as trunk adds name it: the same user and device
 * give the same 16 characters on every node (96 bits of SHA-256, base64url). */
export function endpointOwner(user: string, device: string | undefined): string {
  return createHash('sha256').update(JSON.stringify(['el-owner', user, device ?? null])).digest().subarray(0, 12).toString('base64url');
}

/** The largest age an add carries (ms, ~139 years): keeps MAX_UPDATE_ENTRIES adds in one record. */
export const MAX_ENDPOINT_AGE_MS = 2 ** 42;

/** An endpoint key: an L2 MAC ("02:00:5e:10:00:01") or an L3 prefix ("198.19.0.5/32"). */
const endpointKey = z.string().min(1).max(64);
const segmentId = z.number().int().min(0).max(0xffffffff);

/** The segments a node hosts (trunk_hello, segments): name, the id its frames carry, the mode. */
const hostedSegments = z.array(z.object({ name: z.string().min(1).max(128), id: segmentId, mode: z.enum(['l2', 'l3']) })).max(MAX_TRUNK_SEGMENTS);

export const trunkHelloSchema = z.object({
  type: z.literal('trunk_hello'),
  version: z.number().int().min(1),
  /** The sender's node id (switch node.id). */
  node: z.string().min(1).max(64),
  /** Which end of the TLS connection the sender is; part of what the proof signs. */
  role: z.enum(['dial', 'accept']),
  /** base64 HMAC-SHA256(secret, "el-trunk/1" ‖ role ‖ 0 ‖ node ‖ 0 ‖ TLS exporter), trunk-auth.ts. */
  proof: z.string().min(1).max(128),
  /** The segments the sender hosts, with the id its frames carry and the mode. */
  segments: hostedSegments,
  /** Optional features the sender supports; absent from older nodes. Defined: "gso"
   * (TRUNK_FRAME_GSO records, when both name it), "uso", "segments" (it takes `segments`
   * messages), "resync" (it takes `resync` messages). Unknown ones are ignored. */
  caps: z.array(z.string().max(32)).max(32).optional(),
});

export const trunkUpdateSchema = z.object({
  type: z.literal('update'),
  segment: segmentId,
  /** Endpoints the sender has locally, with their sequence number (mobility, RFC 7432 §15);
   * of a client session's, to a peer naming "mobility", also the session's owner
   * (endpointOwner) and age (ms since it was admitted, when the message was built). */
  add: z
    .array(z.tuple([endpointKey, z.number().int().min(0), z.string().length(OWNER_LENGTH).optional(), z.number().int().min(0).max(MAX_ENDPOINT_AGE_MS).optional()]))
    .max(MAX_UPDATE_ENTRIES)
    .default([]),
  /** Endpoints the sender no longer has. */
  del: z.array(endpointKey).max(MAX_UPDATE_ENTRIES).default([]),
  /** The adds answer a `resync` (the sender's table again, not a change): each is installed
   * only where nothing holds the key, else kept in the shadow. Absent: a change. */
  replay: z.boolean().optional(),
});

/** Send the full table of `segment` again (the sender dropped some of it from a full
 * shadow, and a key came free): answered by `update`s with `replay: true`. */
export const trunkResyncSchema = z.object({ type: z.literal('resync'), segment: segmentId });

/** The sender hosts more segments than it last said: its whole set now (segments are only
 * ever added to a live node, so it names every one named before, and at least one more). */
export const trunkSegmentsSchema = z.object({ type: z.literal('segments'), segments: hostedSegments });

export const trunkPingSchema = z.object({ type: z.literal('ping'), id: z.number().int() });
export const trunkPongSchema = z.object({ type: z.literal('pong'), id: z.number().int() });
export const trunkErrorSchema = z.object({ type: z.literal('error'), code: z.string().max(64), message: z.string().max(1024) });

export const trunkControlSchema = z.discriminatedUnion('type', [trunkHelloSchema, trunkUpdateSchema, trunkSegmentsSchema, trunkResyncSchema, trunkPingSchema, trunkPongSchema, trunkErrorSchema]);

export type TrunkHello = z.infer<typeof trunkHelloSchema>;
export type TrunkUpdate = z.infer<typeof trunkUpdateSchema>;
export type TrunkSegments = z.infer<typeof trunkSegmentsSchema>;
/** One hosted segment as trunk_hello and segments name it. */
export type TrunkSegment = TrunkSegments['segments'][number];
export type TrunkControl = z.infer<typeof trunkControlSchema>;
/** What a sender writes (defaults may be left out). */
export type TrunkControlInput = z.input<typeof trunkControlSchema>;

/** Parses a TRUNK_CONTROL payload; throws ElError EL_ERR_BAD_CONTROL. */
export function parseTrunkControl(payload: Uint8Array): TrunkControl {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8'));
  } catch {
    throw new ElError('EL_ERR_BAD_CONTROL', 'trunk control record is not JSON');
  }
  const r = trunkControlSchema.safeParse(json);
  if (!r.success) throw new ElError('EL_ERR_BAD_CONTROL', `bad trunk control message: ${r.error.issues[0]?.message ?? 'invalid'}`);
  return r.data;
}

/** The JSON payload of a TRUNK_CONTROL record; throws RangeError beyond MAX_CONTROL_PAYLOAD. */
export function encodeTrunkControlPayload(msg: TrunkControlInput): Buffer {
  const payload = Buffer.from(JSON.stringify(msg), 'utf8');
  if (payload.length > MAX_CONTROL_PAYLOAD) throw new RangeError(`trunk control message of ${payload.length} bytes exceeds ${MAX_CONTROL_PAYLOAD}`);
  return payload;
}

/** A whole TRUNK_CONTROL record. */
export function encodeTrunkControl(msg: TrunkControlInput): Buffer {
  return encodeRecord(RecordType.TRUNK_CONTROL, encodeTrunkControlPayload(msg));
}
