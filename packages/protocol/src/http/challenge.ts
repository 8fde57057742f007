/** GET /v1/challenge: a single-use challenge for a digest login (POST /v1/login {user, challenge, digest}). */
import { z } from 'zod';
import { instantSchema } from './names.js';

export const challengeReplySchema = z.object({
  /** 128 random bits, hex. */
  challenge: z.string().regex(/^[0-9a-f]{32}$/),
  expiresAt: instantSchema,
});
export type ChallengeReply = z.infer<typeof challengeReplySchema>;
