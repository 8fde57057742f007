/**
 * POST /v1/dtcp/tunnel (cluster secret as Bearer token): a switch node's DTCP listener
 * (docs/dtcp.md) asks a broker to check a DTCP client's digest and lease its addresses.
 * `elink up` makes the same call in-process, with the same types.
 */
import { z } from 'zod';
import { errorBodySchema } from './error-body.js';
import { deviceNameSchema, nodeNameSchema, segmentNameSchema } from './names.js';

/** The tunnel types DTCP clients ask for; `tunnelroute` is parsed as an alias of `network`. */
export const DTCP_TYPES = ['host', 'network', 'tunnelonly'] as const;
export type DtcpType = (typeof DTCP_TYPES)[number];

/**
 * The device name of every DTCP tunnel in the lease store: a DTCP client names no
 * device, so a user's DTCP tunnel is one device of that user, and its addresses stay
 * with the user across reconnects from any IPv4 address (docs/dtcp.md).
 */
export const DTCP_DEVICE = 'dtcp';

export const dtcpTunnelRequestSchema = z.strictObject({
  /** As the client sent it (1–128 characters, no spaces). */
  user: z.string().regex(/^[^\s]{1,128}$/, '1 to 128 characters without spaces'),
  /** The challenge the node sent this connection in its greeting. */
  challenge: z.string().regex(/^[0-9a-f]{32}$/, '32 lower-case hex characters'),
  /** hex(MD5(user ‖ challenge ‖ secret)), either case. */
  digest: z.string().regex(/^[0-9A-Fa-f]{32}$/, '32 hex characters'),
  type: z.enum(DTCP_TYPES),
  /** The L3 segment the node's DTCP listener serves (switch.dtcp.segment). */
  segment: segmentNameSchema,
  /** The client's IPv4 address (the TCP peer, or the PROXY protocol source): the rate limits count it. */
  source: z.string().min(1).max(64),
  /** The asking node (logs). */
  node: nodeNameSchema,
});
export type DtcpTunnelRequest = z.infer<typeof dtcpTunnelRequestSchema>;

const v6 = z.string().min(2).max(64);

/** What the client gets: the lease of its tunnel. */
export const dtcpGrantSchema = z.object({
  user: z.string().min(1).max(128),
  device: deviceNameSchema,
  segment: segmentNameSchema,
  type: z.enum(DTCP_TYPES),
  /** `host`: the client's /128 (an address, no length) and the segment gateway's address, the tunnel's far end. */
  clientV6: v6.optional(),
  serverV6: v6.optional(),
  /** `network`: the delegated prefix, "2001:db8:100::/48". */
  prefix: z.string().min(4).max(64).optional(),
  /**
   * `tunnelonly`: the user's static IPv6 `lan` ranges (the user record's, operator-assigned,
   * not leased), routed into the tunnel and the sources it may send from; absent when the
   * user has none (the tunnel then carries link-local traffic only).
   */
  lan: z.array(z.string().min(4).max(64)).max(64).optional(),
});
export type DtcpGrant = z.infer<typeof dtcpGrantSchema>;

/**
 * 200 with exactly one of `grant` or `refused`: a refusal is the client's (wrong digest,
 * rate limit, pool), told apart from any other status, which is the node's exchange
 * with the broker failing (wrong cluster secret, a broker error).
 */
export const dtcpTunnelReplySchema = z
  .object({
    grant: dtcpGrantSchema.optional(),
    refused: errorBodySchema.optional(),
  })
  .refine((r) => (r.grant === undefined) !== (r.refused === undefined), 'exactly one of grant or refused');
export type DtcpTunnelReply = z.infer<typeof dtcpTunnelReplySchema>;
