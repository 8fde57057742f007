/**
 * POST /v1/login: a user (or a legacy device) logs in and gets a ticket for a switch
 * node, the nodes to try, its addresses and MAC (docs/protocol.md §2).
 */
import { z } from 'zod';
import { deviceKeySchema } from '../device-key.js';
import { deviceNameSchema, instantSchema, segmentNameSchema } from './names.js';

export const loginRequestSchema = z
  .strictObject({
    user: z.string().min(1).max(128),
    /** Password login. */
    password: z.string().min(1).max(1024).optional(),
    /** Challenge–response login (both together): a challenge from GET /v1/challenge… */
    challenge: z.string().regex(/^[0-9a-f]{32}$/, '32 lower-case hex digits from GET /v1/challenge').optional(),
    /** …and hex(MD5(user + challenge + secret)). */
    digest: z.string().regex(/^[0-9a-fA-F]{32}$/, '32 hex digits: MD5(user + challenge + secret)').optional(),
    /** Default: the user's first segment. */
    segment: segmentNameSchema.optional(),
    /** Default "default". */
    device: deviceNameSchema.optional(),
    /** Ask for a delegated prefix (a client that routes a LAN behind it). */
    prefix: z.boolean().optional(),
    /** The remember token of this device's last login: passes the user-wide failure limit. */
    remember: z.string().min(1).max(1024).optional(),
    /** This device's public key (raw Ed25519, base64url): the broker registers it for the
     * user and device and binds the ticket to it; later logins use POST /v1/login/device. */
    deviceKey: deviceKeySchema.optional(),
  })
  .superRefine((req, ctx) => {
    // A password, or a challenge with its digest: never both, never neither.
    const digestLogin = req.challenge !== undefined || req.digest !== undefined;
    if (req.password !== undefined && digestLogin) ctx.addIssue({ code: 'custom', path: ['password'], message: 'give either password, or challenge and digest, not both' });
    else if (req.password === undefined && !digestLogin) ctx.addIssue({ code: 'custom', path: ['password'], message: 'give either password, or challenge and digest' });
    else if (digestLogin && (req.challenge === undefined || req.digest === undefined)) ctx.addIssue({ code: 'custom', path: [req.challenge === undefined ? 'challenge' : 'digest'], message: 'challenge and digest go together' });
  });
export type LoginRequest = z.infer<typeof loginRequestSchema>;

/** A switch node offered to the client, best first. */
export const serverEntrySchema = z.object({
  node: z.string().min(1),
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535),
  /** SHA-256 fingerprint of the node's certificate (AA:BB:… as node:tls reports it): the client pins it. */
  fingerprint: z.string().optional(),
});
export type ServerEntry = z.infer<typeof serverEntrySchema>;

export const loginReplySchema = z.object({
  /** The signed ticket for the node (ticket.ts). */
  ticket: z.string().min(1),
  expiresAt: instantSchema,
  /** At least one: the broker answers EL_ERR_NO_NODE instead of an empty list. */
  servers: z.array(serverEntrySchema).min(1),
  segment: z.string(),
  mode: z.enum(['l2', 'l3']),
  /** The session MAC, derived from segment, user and device (always sent, L3 included). */
  mac: z.string().regex(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/, 'a MAC like 02:00:5e:00:00:01'),
  /** Leased addresses with the segment's prefix length (198.19.0.2/24), as the pools give them. */
  ipv4: z.string().optional(),
  ipv6: z.string().optional(),
  /** Delegated prefixes, when asked for and the segment delegates. */
  prefix: z.string().optional(),
  prefix4: z.string().optional(),
  /** Send it with this device's next logins (LoginRequest.remember). */
  remember: z.string().optional(),
});
export type LoginReply = z.infer<typeof loginReplySchema>;
