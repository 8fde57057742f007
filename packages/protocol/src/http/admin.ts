/**
 * The broker's admin API under /v1/admin (Bearer admin token): request bodies and
 * replies. `elink status` reads GET /v1/admin/status with adminStatusReplySchema.
 */
import { z } from 'zod';
import { nodeReportShape } from './heartbeat.js';
import { adminUserNameSchema, instantSchema, segmentNameSchema } from './names.js';

/** A registered node with its health (GET /status, GET /nodes). */
export const adminNodeSchema = z.object({
  ...nodeReportShape,
  /** Its last heartbeat is recent enough for it to be offered to clients. */
  healthy: z.boolean(),
  /** Time of its last heartbeat. */
  seenAt: instantSchema,
  /** A trunk peer lost it after that heartbeat (docs/cluster.md "Failure detection"): when a broker heard so. Logins rank it after the other nodes until it heartbeats again. */
  suspectSince: instantSchema.optional(),
  /** The switch node of the broker's own process (`elink up`): no heartbeats, always current. */
  inProcess: z.boolean().optional(),
});
export type AdminNode = z.infer<typeof adminNodeSchema>;

/** GET /v1/admin/status */
export const adminStatusReplySchema = z.object({
  nodes: z.array(adminNodeSchema),
  /** Sessions on healthy nodes. */
  sessions: z.number().int().min(0),
  /** Live leases per segment. */
  leases: z.record(z.string(), z.number().int().min(0)),
  /** Published ticket keys. */
  keys: z.number().int().min(0),
  /** The store kind: memory, redis, … */
  store: z.string(),
  /** Nodes from broker.nodes that send no heartbeat: the broker knows only their address. */
  static: z.array(z.object({ node: z.string(), host: z.string(), port: z.number().int() })).optional(),
});
export type AdminStatusReply = z.infer<typeof adminStatusReplySchema>;

/** GET /v1/admin/nodes */
export const adminNodesReplySchema = z.object({ nodes: z.array(adminNodeSchema) });
export type AdminNodesReply = z.infer<typeof adminNodesReplySchema>;

/** GET /v1/admin/nodes/:node/sessions */
export const adminNodeSessionsReplySchema = adminNodeSchema.pick({ node: true, sessions: true, capacity: true, active: true, healthy: true });
export type AdminNodeSessionsReply = z.infer<typeof adminNodeSessionsReplySchema>;

/** GET /v1/admin/leases?segment=S&limit=N */
export const adminLeasesReplySchema = z.object({
  segment: z.string(),
  /** All live leases of the segment (the list holds at most `limit`). */
  count: z.number().int().min(0),
  leases: z.array(
    z.object({
      user: z.string(),
      device: z.string(),
      ipv4: z.string().optional(),
      ipv6: z.string().optional(),
      prefix4: z.string().optional(),
      prefix6: z.string().optional(),
      expiresAt: instantSchema,
    }),
  ),
});
export type AdminLeasesReply = z.infer<typeof adminLeasesReplySchema>;

/** GET /v1/admin/users: never a hash or a secret, only whether a digest secret is set. */
export const adminUsersReplySchema = z.object({
  users: z.array(
    z.object({
      name: z.string(),
      segments: z.array(z.string()),
      macs: z.number().int().min(1).optional(),
      lan: z.array(z.string()).optional(),
      digest: z.boolean(),
      /** False once an administrator disabled the user (logins refused). */
      enabled: z.boolean(),
      /** May sign in to the console (docs/console.md). */
      admin: z.boolean(),
      /** `config`: read-only here (edit the file with `elink user`). */
      source: z.enum(['store', 'config']),
    }),
  ),
});
export type AdminUsersReply = z.infer<typeof adminUsersReplySchema>;

/** DELETE and PUT routes: whether something was there to change. */
export const adminOkReplySchema = z.object({ ok: z.boolean() });
export type AdminOkReply = z.infer<typeof adminOkReplySchema>;

const passwordSchema = z.string().min(8).max(1024);

/** POST /v1/admin/users */
export const adminUserCreateRequestSchema = z.strictObject({
  name: adminUserNameSchema,
  password: passwordSchema,
  segments: z.array(segmentNameSchema).min(1).max(1024),
  /** MAC addresses the user may use behind a bridge (1 = the session MAC only). */
  macs: z.number().int().min(1).max(65536).optional(),
  /** Prefixes of the LAN the user may route or bridge (checked as CIDRs by the route). */
  lan: z.array(z.string().max(64)).max(64).optional(),
  /** May sign in to the console with this password (docs/console.md). */
  admin: z.boolean().optional(),
});
export type AdminUserCreateRequest = z.infer<typeof adminUserCreateRequestSchema>;

/** PUT /v1/admin/users/:name/password */
export const adminPasswordRequestSchema = z.strictObject({ password: passwordSchema });
export type AdminPasswordRequest = z.infer<typeof adminPasswordRequestSchema>;

/** PUT /v1/admin/users/:name/digest: enables challenge–response with this secret. */
export const adminDigestRequestSchema = z.strictObject({ secret: passwordSchema });
export type AdminDigestRequest = z.infer<typeof adminDigestRequestSchema>;
