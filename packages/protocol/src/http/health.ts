/** GET /healthz and /readyz, on the broker's port and every process's admin port. */
import { z } from 'zod';

export const healthOkSchema = z.object({ status: z.literal('ok') });
/** 503: not ready; `message` lists the reasons. */
export const healthUnavailableSchema = z.object({ status: z.literal('unavailable'), error: z.literal('EL_ERR_UNAVAILABLE'), message: z.string() });
export type HealthOk = z.infer<typeof healthOkSchema>;
export type HealthUnavailable = z.infer<typeof healthUnavailableSchema>;
