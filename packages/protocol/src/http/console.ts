/**
 * The web console's API on the broker (docs/console.md): sign-in under /v1/console, the
 * live views and actions under /v1/admin (admin token or console session cookie).
 */
import { z } from 'zod';
import { adminUserNameSchema } from './names.js';

const count = z.number().int().min(0);
const rate = z.number().min(0);

/** POST /v1/console/login: the admin token, or an admin user's name and password. */
export const consoleLoginRequestSchema = z.union([
  z.strictObject({ token: z.string().min(1).max(1024) }),
  z.strictObject({ user: adminUserNameSchema, password: z.string().min(1).max(1024) }),
]);
export type ConsoleLoginRequest = z.infer<typeof consoleLoginRequestSchema>;

/** POST /v1/console/login, GET /v1/console/session: who is signed in, and the CSRF token every non-GET must send as `x-el-csrf`. */
export const consoleSessionReplySchema = z.object({ who: z.string(), csrf: z.string() });
export type ConsoleSessionReply = z.infer<typeof consoleSessionReplySchema>;

export const consoleNodeSchema = z.object({
  node: z.string(),
  healthy: z.boolean(),
  draining: z.boolean(),
  /** The switch node of this process (`elink up`): it reports without heartbeats. */
  inProcess: z.boolean(),
  /** Configured in broker.nodes only: the broker hears nothing from it (sessions unknown, 0). */
  static: z.boolean(),
  version: z.string().optional(),
  sessions: count,
  capacity: count,
  /** sessions / capacity. */
  load: z.number().min(0),
  hosts: z.array(z.string()),
  port: z.number().int(),
  /** Time of its last report. */
  seenAt: z.string(),
});
export type ConsoleNode = z.infer<typeof consoleNodeSchema>;

export const consoleRatesShape = { rxBps: rate, txBps: rate, rxPps: rate, txPps: rate };

/** GET /v1/admin/overview */
export const consoleOverviewReplySchema = z.object({
  nodes: z.array(consoleNodeSchema),
  segments: z.array(
    z.object({
      name: z.string(),
      mode: z.enum(['l2', 'l3']),
      sessions: count,
      /** Nodes hosting it. */
      nodes: count,
      pools: z.array(z.object({ cidr: z.string(), used: count, free: count })),
    }),
  ),
  totals: z.object({ nodes: count, sessions: count, segments: count, ...consoleRatesShape }),
});
export type ConsoleOverviewReply = z.infer<typeof consoleOverviewReplySchema>;

export const consoleSessionSchema = z.object({
  id: z.string(),
  user: z.string(),
  device: z.string(),
  node: z.string(),
  addresses: z.array(z.string()),
  mac: z.string().optional(),
  /** ISO time the session opened. */
  since: z.string(),
  /** As the switch sees it: rx from the client, tx to it. */
  rxBytes: count,
  txBytes: count,
  rxBps: rate,
  txBps: rate,
});
export type ConsoleSession = z.infer<typeof consoleSessionSchema>;

/** GET /v1/admin/segments/:segment/sessions */
export const consoleSessionsReplySchema = z.object({
  sessions: z.array(consoleSessionSchema),
  /** A node listed only part of its sessions (MAX_REPORT_SESSIONS). */
  truncated: z.boolean().optional(),
});
export type ConsoleSessionsReply = z.infer<typeof consoleSessionsReplySchema>;

/** GET /v1/admin/sessions/:id */
export const consoleSessionDetailSchema = consoleSessionSchema.extend({
  segment: z.string(),
  /** The broker's samples of its rates, oldest first. */
  history: z.array(z.object({ t: z.number(), rxBps: rate, txBps: rate })),
});
export type ConsoleSessionDetail = z.infer<typeof consoleSessionDetailSchema>;

/** GET /v1/admin/segments/:segment/table */
export const consoleTableReplySchema = z.object({
  kind: z.enum(['mac', 'route']),
  entries: z.array(z.object({ key: z.string(), port: z.string(), node: z.string(), user: z.string().optional() })),
  truncated: z.boolean().optional(),
});
export type ConsoleTableReply = z.infer<typeof consoleTableReplySchema>;

/** One trunk in GET /v1/admin/trunks: a node's view of its trunk to `peer`. */
export const consoleTrunkSchema = z.object({
  node: z.string(),
  peer: z.string(),
  state: z.enum(['up', 'down']),
  /** ISO time it came up / went down. */
  since: z.string(),
  address: z.string().optional(),
  role: z.enum(['dial', 'accept']).optional(),
  segments: z.array(z.string()),
  framesIn: count,
  bytesIn: count,
  framesOut: count,
  bytesOut: count,
  drops: z.record(z.string(), count),
  announced: count,
  learned: count,
});
export type ConsoleTrunk = z.infer<typeof consoleTrunkSchema>;

/** GET /v1/admin/trunks */
export const consoleTrunksReplySchema = z.object({ trunks: z.array(consoleTrunkSchema) });
export type ConsoleTrunksReply = z.infer<typeof consoleTrunksReplySchema>;

/** PUT /v1/admin/users/:name/enabled */
export const adminEnabledRequestSchema = z.strictObject({ enabled: z.boolean() });
export type AdminEnabledRequest = z.infer<typeof adminEnabledRequestSchema>;

export const auditEntrySchema = z.object({
  /** ISO time. */
  t: z.string(),
  /** `token` (the admin token, bearer or console), `user:<name>` (an admin user's console session). */
  who: z.string(),
  action: z.string(),
  target: z.string(),
  /** `ok`, or the EL_ERR_* code it failed with. */
  result: z.string(),
});
export type AuditEntry = z.infer<typeof auditEntrySchema>;

/** GET /v1/admin/audit?limit=N (newest first) */
export const auditReplySchema = z.object({ entries: z.array(auditEntrySchema) });
export type AuditReply = z.infer<typeof auditReplySchema>;

/** One `event: stats` of GET /v1/admin/events (rates per second). */
export interface ConsoleStatsEvent {
  t: number;
  nodes: Record<string, { rxBps: number; txBps: number; rxPps: number; txPps: number; sessions: number; drops: Record<string, number> }>;
  segments: Record<string, { rxBps: number; txBps: number; rxPps: number; txPps: number; sessions: number }>;
  sessions: Record<string, { rxBps: number; txBps: number }>;
}
