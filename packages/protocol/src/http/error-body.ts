/**
 * The body of every error reply of the broker's HTTP API (and the admin port's 503):
 * `{error: EL_ERR_*, message}`, fastify's own errors (schema, body size, content type,
 * unknown route) included. A 429 carries Retry-After (seconds) as a header.
 */
import { z } from 'zod';

export const errorBodySchema = z.object({
  /** An EL_ERR_* code (docs/errors.md); a caller maps a code it does not know to EL_ERR_UNAVAILABLE. */
  error: z.string().regex(/^EL_ERR_[A-Z0-9_]+$/),
  /** What went wrong and what to do, for a person. */
  message: z.string(),
});
export type ErrorBody = z.infer<typeof errorBodySchema>;
