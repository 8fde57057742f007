/**
 * POST /v1/login/device: a device whose key the broker registered at a password login
 * gets a fresh ticket by signing the request with that key (device-key.ts), without a
 * password hash. The reply is a login reply (login.ts).
 */
import { z } from 'zod';
import { signatureSchema } from '../device-key.js';
import { deviceNameSchema, segmentNameSchema } from './names.js';

export const deviceLoginRequestSchema = z.strictObject({
  user: z.string().min(1).max(128),
  device: deviceNameSchema,
  segment: segmentNameSchema.optional(),
  prefix: z.boolean().optional(),
  /** Seconds since the epoch on the device's clock: the broker takes it within DEVICE_LOGIN_SKEW_SECONDS. */
  time: z.number().int().min(0),
  /** 16 or more random bytes in base64url: two requests in one second sign different messages. */
  nonce: z.string().regex(/^[A-Za-z0-9_-]{22,64}$/, '16 to 48 random bytes in base64url'),
  /** signDeviceLogin over the fields above. */
  signature: signatureSchema,
});
export type DeviceLoginRequest = z.infer<typeof deviceLoginRequestSchema>;

/** How far a device login's `time` may be from the broker's clock, either way. */
export const DEVICE_LOGIN_SKEW_SECONDS = 120;
