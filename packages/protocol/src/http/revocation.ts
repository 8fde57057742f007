/**
 * Device key revocations: what an administrator revokes (POST /v1/admin/revocations) and
 * what every switch node hears in its heartbeat reply. An entry refuses the tickets of a
 * user (every device, or one) issued at or before `at`, and closes such sessions; it is
 * kept until `until`, when the last of those tickets has expired anyway. So the list stays
 * short: only revocations younger than the longest ticket lifetime.
 */
import { z } from 'zod';
import { deviceNameSchema, instantSchema } from './names.js';

/** Revocations alive at once, store-wide (the broker refuses more, 503). */
export const MAX_REVOCATIONS = 1024;

export const revocationSchema = z.object({
  user: z.string().min(1).max(128),
  /** Absent: every device of the user. */
  device: deviceNameSchema.optional(),
  /** Seconds since the epoch: tickets with `iat` ≤ this are refused. */
  at: z.number().int().min(0),
  /** Seconds since the epoch: after this the entry is dropped (every ticket it refuses has expired). */
  until: z.number().int().min(0),
});
export type Revocation = z.infer<typeof revocationSchema>;

/** POST /v1/admin/revocations */
export const adminRevokeRequestSchema = z.strictObject({
  user: z.string().min(1).max(128),
  device: deviceNameSchema.optional(),
});
export type AdminRevokeRequest = z.infer<typeof adminRevokeRequestSchema>;

export const adminRevokeReplySchema = z.object({
  /** Device keys the broker forgot (0: none was registered; tickets and sessions are revoked all the same). */
  keys: z.number().int().min(0),
  at: instantSchema,
  until: instantSchema,
});
export type AdminRevokeReply = z.infer<typeof adminRevokeReplySchema>;

/** GET /v1/admin/revocations */
export const adminRevocationsReplySchema = z.object({ revocations: z.array(revocationSchema).max(MAX_REVOCATIONS) });
export type AdminRevocationsReply = z.infer<typeof adminRevocationsReplySchema>;
