/**
 * Control messages: the JSON objects carried in CONTROL records (type 0x02).
 * docs/protocol.md documents each; the zod schemas below are the executable form.
 * Unknown fields are ignored (so a newer peer may add some); unknown types are errors.
 */
import { z } from 'zod';
import { ElError } from './errors.js';
import { encodeRecord, MAX_CONTROL_PAYLOAD, RecordType } from './records.js';
import { signatureSchema } from './device-key.js';
import { welcomeDnsSchema } from './dns.js';
import { resumeFieldSchema } from './resume-proof.js';

export const PROTOCOL_VERSION = 1;

const macString = z.string().regex(/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/, 'a MAC address like 02:00:5e:10:00:01');
const cidr = z.string().max(64);

export const helloSchema = z.object({
  type: z.literal('hello'),
  version: z.number().int().min(1),
  ticket: z.string().min(1).max(4096),
  /** The client's own MAC (L2). Frames from other source MACs are dropped unless the
   * segment lets sessions bridge more. */
  mac: macString.optional(),
  hostname: z.string().max(253).optional(),
  /** Optional features the client supports, e.g. ["gso"] (FRAME_GSO records). Unknown ones are ignored. */
  caps: z.array(z.string().max(32)).max(32).optional(),
  /** With a ticket bound to a device key (claim `dk`): that key's signature over this
   * connection's TLS channel binding (signHelloProof). */
  proof: signatureSchema.optional(),
  /** With a ticket bound to a device key and the resume secret a node gave for it
   * (welcome.resume): that secret's HMAC over this connection's channel binding
   * (resumeProof), sent beside `proof`. A node that cannot check it uses `proof`. */
  resume: resumeFieldSchema.optional(),
});

export const welcomeSchema = z.object({
  type: z.literal('welcome'),
  session: z.string(),
  node: z.string(),
  segment: z.string(),
  mode: z.enum(['l2', 'l3']),
  mtu: z.number().int().min(576).max(65535),
  ipv4: z.object({ address: cidr, gateway: z.string().optional() }).optional(),
  ipv6: z.object({ address: cidr, gateway: z.string().optional() }).optional(),
  prefix: cidr.optional(),
  /** An IPv4 subnet delegated to this client (L3), e.g. 198.19.64.16/28. */
  prefix4: cidr.optional(),
  routes: z.array(z.object({ to: cidr, via: z.string().optional() })).max(1024).optional(),
  keepalive: z.object({ interval: z.number().positive(), timeout: z.number().positive() }),
  /** The subset of hello.caps the node accepted for this session; absent = none. */
  caps: z.array(z.string().max(32)).max(32).optional(),
  /** The switch's software and version, e.g. "elink/0.1.0", for support; informational only. */
  software: z.string().max(64).optional(),
  /** DNS servers (and search domains) of the segment (`segments[].dns`); absent when it has
   * none. Optional and additive: a client that predates it ignores it. */
  dns: welcomeDnsSchema.optional(),
  /** The resume secret of this session's ticket (a ticket bound to a device key, admitted
   * over a channel binding): hello.resume with the same ticket proves it. A secret: kept
   * in memory with its ticket, never logged. Optional and additive. */
  resume: resumeFieldSchema.optional(),
});

export const pingSchema = z.object({ type: z.literal('ping'), id: z.number().int() });
export const pongSchema = z.object({ type: z.literal('pong'), id: z.number().int() });
export const redirectSchema = z.object({ type: z.literal('redirect'), reason: z.string().max(256) });
export const byeSchema = z.object({ type: z.literal('bye'), reason: z.string().max(256) });
export const errorSchema = z.object({ type: z.literal('error'), code: z.string().max(64), message: z.string().max(1024) });

export const controlSchema = z.discriminatedUnion('type', [
  helloSchema,
  welcomeSchema,
  pingSchema,
  pongSchema,
  redirectSchema,
  byeSchema,
  errorSchema,
]);

export type Hello = z.infer<typeof helloSchema>;
export type Welcome = z.infer<typeof welcomeSchema>;
export type Ping = z.infer<typeof pingSchema>;
export type Pong = z.infer<typeof pongSchema>;
export type Redirect = z.infer<typeof redirectSchema>;
export type Bye = z.infer<typeof byeSchema>;
export type ErrorMessage = z.infer<typeof errorSchema>;
export type ControlMessage = z.infer<typeof controlSchema>;

// fatal: invalid UTF-8 is an error, not silently replaced by U+FFFD (the wire format says UTF-8).
// ignoreBOM keeps a byte order mark in the text, so JSON.parse rejects it as before.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Parses a CONTROL payload; throws ElError EL_ERR_BAD_CONTROL with the reason. */
export function parseControl(payload: Uint8Array): ControlMessage {
  // The limit holds even for a caller whose reader accepted longer CONTROL records.
  if (payload.byteLength > MAX_CONTROL_PAYLOAD) {
    throw new ElError('EL_ERR_BAD_CONTROL', `control record of ${payload.byteLength} bytes exceeds ${MAX_CONTROL_PAYLOAD}`);
  }
  let text: string;
  try {
    text = utf8.decode(payload);
  } catch {
    throw new ElError('EL_ERR_BAD_CONTROL', 'control record is not valid UTF-8');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ElError('EL_ERR_BAD_CONTROL', 'control record is not valid JSON');
  }
  const result = controlSchema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue?.path.length ? ` at ${issue.path.join('.')}` : '';
    throw new ElError('EL_ERR_BAD_CONTROL', `control message invalid${where}: ${issue?.message ?? 'unknown'}`);
  }
  return result.data;
}

/** The payload of a CONTROL record carrying `msg` (no header: for a writer that frames records itself). */
export function encodeControlPayload(msg: ControlMessage): Buffer {
  const body = Buffer.from(JSON.stringify(msg), 'utf8');
  if (body.length > MAX_CONTROL_PAYLOAD) {
    throw new ElError('EL_ERR_INTERNAL', `control message of ${body.length} bytes exceeds ${MAX_CONTROL_PAYLOAD}`);
  }
  return body;
}

/** A CONTROL record (header included) carrying `msg`. */
export function encodeControl(msg: ControlMessage): Buffer {
  return encodeRecord(RecordType.CONTROL, encodeControlPayload(msg));
}
