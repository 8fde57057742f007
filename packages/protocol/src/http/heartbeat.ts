/**
 * POST /v1/nodes/heartbeat (cluster secret as Bearer token): a switch node reports
 * itself and gets back what it needs to admit sessions.
 */
import { z } from 'zod';
import { fingerprintSchema, nodeNameSchema, wssUrlSchema } from './names.js';
import { MAX_REVOCATIONS, revocationSchema } from './revocation.js';
import { MAX_NODE_COMMANDS, nodeCommandSchema, nodeReportSchema } from './node-report.js';

const count = z.number().int().min(0).max(10_000_000);

/** What a node says about itself; the admin API shows the same fields (admin.ts). */
export const nodeReportShape = {
  node: nodeNameSchema,
  /** Addresses or host names clients should use, best first. */
  hosts: z.array(z.string().min(1).max(253)).min(1).max(8),
  port: z.number().int().min(1).max(65535),
  /** SHA-256 fingerprint of the node's certificate: clients pin it. */
  fingerprint: fingerprintSchema.optional(),
  /** The public URL of the node's EL over WebSocket when an L7 ingress fronts it (docs/protocol.md §1.1). */
  websocket: wssUrlSchema.optional(),
  /** Session limit of the node. */
  capacity: count.min(1),
  sessions: count,
  /** Segments the node hosts. */
  segments: z.array(nodeNameSchema).max(1024),
  /** Segments with at least one live session on the node (affinity). */
  active: z.array(nodeNameSchema).max(1024),
  draining: z.boolean(),
  /**
   * Live sessions per segment (segments without sessions may be left out): the broker
   * places a segment's clients on the node that already holds most of them. Optional:
   * a node that sends only `active` counts as 1 session for each of those segments.
   */
  segmentSessions: z
    .record(nodeNameSchema, count)
    .refine((r) => Object.keys(r).length <= 1024, 'at most 1024 segments')
    .optional(),
  /** The node's trunk listener (switch.trunk), when it has one: other nodes of its segments dial it. */
  trunk: z.strictObject({ hosts: z.array(z.string().min(1).max(253)).min(1).max(8), port: z.number().int().min(1).max(65535) }).optional(),
};

/** A peer node for trunks (reply `peers`): another healthy node with a trunk listener sharing a segment. */
export const trunkPeerSchema = z.object({
  node: nodeNameSchema,
  hosts: z.array(z.string().min(1).max(253)).min(1).max(8),
  port: z.number().int().min(1).max(65535),
  /** The segments both nodes host. */
  segments: z.array(nodeNameSchema).max(1024),
});
export type TrunkPeerEntry = z.infer<typeof trunkPeerSchema>;

/** Peers named in one reply at most. */
export const MAX_TRUNK_PEERS = 256;

export const heartbeatRequestSchema = z.strictObject({
  ...nodeReportShape,
  /** Counters, sessions and tables for the console (node-report.ts); the broker keeps the latest apart from the registry. */
  report: nodeReportSchema.optional(),
});
export type HeartbeatRequest = z.infer<typeof heartbeatRequestSchema>;

export const heartbeatReplySchema = z.object({
  /** The broker's public ticket keys (PEM, SPKI), several during a rotation. */
  keys: z.array(z.string().startsWith('-----BEGIN PUBLIC KEY-----', 'a PEM public key')).min(1),
  /**
   * Segment definitions as the broker parsed them (segmentSchema). The node parses each
   * one on its own, so a definition it does not understand is skipped, not the reply.
   */
  segments: z.array(z.looseObject({ name: z.string() })).max(1024),
  /** The interval the broker suggests between heartbeats. */
  heartbeatSeconds: z.number().positive(),
  /** Other healthy, not draining nodes with trunks that host a segment this node hosts (when it has trunks). */
  peers: z.array(trunkPeerSchema).max(MAX_TRUNK_PEERS).optional(),
  /** Live device key revocations (revocation.ts): the node refuses their tickets and closes their sessions. */
  revoked: z.array(revocationSchema).max(MAX_REVOCATIONS).optional(),
  /** What an administrator asked of this node since its last heartbeat (disconnect a session, drain). */
  commands: z.array(nodeCommandSchema).max(MAX_NODE_COMMANDS).optional(),
});
export type HeartbeatReply = z.infer<typeof heartbeatReplySchema>;
