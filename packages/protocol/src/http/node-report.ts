/**
 * What a switch node tells the brokers for the console (heartbeat `report`), and what the
 * brokers tell it to do (heartbeat reply `commands`). Counters only, never rates: the
 * broker computes rates from two reports. rx is what the switch received from a client
 * (the client's upload), tx what it sent to it. Every list is capped; a node with more
 * sends the first ones and says `truncated`.
 */
import { z } from 'zod';
import { deviceNameSchema, nodeNameSchema } from './names.js';

const counter = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** Sessions listed in one report at most (the counters still count every session). */
export const MAX_REPORT_SESSIONS = 1024;
/** MAC table entries and routes listed in one report at most, all segments together. */
export const MAX_REPORT_TABLE = 2048;
/** Commands in one heartbeat reply at most (the rest wait for the next beat). */
export const MAX_NODE_COMMANDS = 64;

export const trafficCountersSchema = z.strictObject({ rxBytes: counter, txBytes: counter, rxFrames: counter, txFrames: counter });
export type TrafficCounters = z.infer<typeof trafficCountersSchema>;

export const reportSessionSchema = z.strictObject({
  /** The switch's session id (`s-…`), as in its logs and in `elink kick`. */
  id: z.string().min(1).max(64),
  user: z.string().min(1).max(128),
  device: deviceNameSchema.optional(),
  segment: nodeNameSchema,
  /** Its addresses and delegated prefixes (CIDR). */
  addresses: z.array(z.string().max(64)).max(8),
  mac: z.string().max(17).optional(),
  /** Milliseconds since the epoch. */
  since: counter,
  rxBytes: counter,
  txBytes: counter,
});
export type ReportSession = z.infer<typeof reportSessionSchema>;

/** One MAC table entry (L2) or route (L3): key is the MAC or the CIDR, port the session id, `bridge`, `uplink` or `trunk:<peer>`. */
export const reportTableEntrySchema = z.strictObject({ segment: nodeNameSchema, key: z.string().min(1).max(64), port: z.string().min(1).max(80) });
export type ReportTableEntry = z.infer<typeof reportTableEntrySchema>;

/** Trunks listed in one report at most (switch.trunk.maxPeers is at most 1024). */
export const MAX_REPORT_TRUNKS = 1024;

/** One peer node's trunk as this node sees it: up now, or down since `since`. Counters are
 * since the node started, over every trunk to that peer. */
export const reportTrunkSchema = z.strictObject({
  peer: nodeNameSchema,
  state: z.enum(['up', 'down']),
  /** Up since / down since (ms since the epoch). */
  since: counter,
  /** The peer's address and who dialed (up only). */
  address: z.string().max(80).optional(),
  role: z.enum(['dial', 'accept']).optional(),
  /** The segments the trunk carries (up only). */
  segments: z.array(nodeNameSchema).max(1024),
  framesIn: counter,
  bytesIn: counter,
  framesOut: counter,
  bytesOut: counter,
  /** Frames dropped on the trunk, by reason (el_trunk_dropped_frames_total). */
  drops: z.record(z.string().max(64), counter).refine((r) => Object.keys(r).length <= 64, 'at most 64 reasons'),
  /** Endpoints (MACs, routes) this node announces to the peer now, and has learned from it. */
  announced: counter,
  learned: counter,
});
export type ReportTrunk = z.infer<typeof reportTrunkSchema>;

export const nodeReportSchema = z.strictObject({
  /** The node's software and version (`elink 1.2.3`). */
  software: z.string().max(64).optional(),
  /** Every frame that entered or left a session of the node since it started. */
  traffic: trafficCountersSchema,
  /** Frames dropped since start, by reason. */
  drops: z.record(z.string().max(64), counter).refine((r) => Object.keys(r).length <= 64, 'at most 64 reasons'),
  /** Per hosted segment: its sessions' traffic since start (closed sessions included) and live sessions. */
  segments: z.record(nodeNameSchema, trafficCountersSchema.extend({ sessions: counter })).refine((r) => Object.keys(r).length <= 1024, 'at most 1024 segments'),
  sessions: z.array(reportSessionSchema).max(MAX_REPORT_SESSIONS),
  /** More sessions than listed. */
  sessionsTruncated: z.boolean().optional(),
  table: z.array(reportTableEntrySchema).max(MAX_REPORT_TABLE),
  tableTruncated: z.boolean().optional(),
  /** The node's trunks to its peer nodes (absent: no switch.trunk). */
  trunks: z.array(reportTrunkSchema).max(MAX_REPORT_TRUNKS).optional(),
});
export type NodeReport = z.infer<typeof nodeReportSchema>;

/** What a broker asks a node to do (the admin API's disconnect and drain). */
export const nodeCommandSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('kick'), session: z.string().min(1).max(64), reason: z.string().max(128).optional() }),
  z.object({ type: z.literal('drain') }),
]);
export type NodeCommand = z.infer<typeof nodeCommandSchema>;
