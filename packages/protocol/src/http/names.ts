/** Name rules shared by several contracts. */
import { z } from 'zod';

/** A segment name (the same rule as segmentSchema's `name`). */
export const segmentNameSchema = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'lower-case letters, digits, - and _, at most 63');
/** A switch node's id. */
export const nodeNameSchema = z.string().min(1).max(64);
/** A user name as the admin API creates it (logins accept any 1–128 characters: users from the file). */
export const adminUserNameSchema = z.string().regex(/^[A-Za-z0-9._@-]{1,128}$/, 'letters, digits and . _ @ -, at most 128');
/** A device name (one user's several machines). */
export const deviceNameSchema = z.string().min(1).max(128);
/** A SHA-256 certificate fingerprint as node:tls prints it (AA:BB:…, 32 bytes). */
export const fingerprintSchema = z.string().regex(/^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){31}$/, 'a SHA-256 fingerprint like AB:CD:… (32 bytes)');
/** An ISO 8601 instant, as Date.toISOString() writes it. */
export const instantSchema = z.iso.datetime();

/** A wss:// URL (EL over WebSocket through an ingress): TLS always, the ticket never in the clear. */
export const wssUrlSchema = z
  .string()
  .max(2048)
  .url()
  .refine((u) => u.startsWith('wss://'), 'a wss:// URL');
