/**
 * A segment: one virtual network of a node, L2 (Ethernet, MAC learning) or L3 (IP, routes).
 * The node, sessions and admission know only this contract; createSegment() is the one
 * place that looks at the mode.
 *
 *   admission → planSession(claims, hello) → SessionPlan (holders to supersede, welcome fields)
 *             → plan.attach(port)
 *   a port's input → forward(frame, ingress) → egress port.enqueue(frame)
 *   a port's close → detach(port)
 */
import type { Logger } from 'pino';
import type { ElError, Hello, SegmentDef, TicketClaims, Welcome } from '@elink/protocol';
import type { DropCounts } from './drops.js';
import type { GsoEgress } from './gso-egress.js';
import type { Port } from './port.js';
import type { RemoteEndpoints } from './endpoints.js';
import type { DevicePort } from '../ports/device-port.js';
import { L2Segment } from './l2/l2-segment.js';
import { L3Segment, type L3Router } from './l3/l3-segment.js';

export type SegmentMode = 'l2' | 'l3';

/** Counts for stats and metrics; what a mode does not have is 0. */
export interface SegmentStats {
  ports: number;
  macEntries: number;
  evictions: number;
  moves: number;
  routes: number;
  /** Endpoints (MACs, routes) learned from peer nodes over trunks. */
  remote: number;
  /** L2: MACs frozen for moving between nodes too often. */
  frozen: number;
}

/** What a client session would take in a segment, worked out before anything changes. */
export interface SessionPlan {
  /** Ports that hold what the session claims (its MAC, its addresses). Each is superseded
   * (the same user and device reconnecting) or the session is refused with `inUse()`. */
  readonly holders: readonly Port[];
  /** The refusal when a holder is not superseded: made only then (an ElError captures a
   * stack trace, a cost every admission would pay otherwise). */
  inUse(): ElError;
  /** The longest FRAME record the session may send (MTU + 18 in L2, MTU in L3). */
  readonly maxFrame: number;
  /** This mode's welcome fields (L3: delegated prefixes and routes). */
  readonly welcome: Partial<Welcome>;
  /** Worth a warning in the log (an L2 bridge session that may claim no LAN address). */
  readonly warning?: string;
  /** Attaches `port` as planned, once the holders are gone; an ElError when the segment refuses. */
  attach(port: Port): ElError | undefined;
}

export interface Segment extends RemoteEndpoints {
  readonly name: string;
  readonly mode: SegmentMode;
  /** As hosted, with the live settings of the latest reload. */
  readonly def: SegmentDef;
  readonly drops: DropCounts;
  readonly gsoEgress: GsoEgress;
  /** The hot path. `gso`: the whole FRAME_GSO payload when `frame` is the frame inside one. */
  forward(frame: Buffer, ingress: Port, gso?: Buffer): void;
  /** Admission of a client session with these ticket claims; an ElError when refused. Changes nothing. */
  planSession(claims: TicketClaims, hello: Hello): SessionPlan | ElError;
  has(port: Port): boolean;
  /** Removes a port and everything it held (MACs, routes). */
  detach(port: Port): void;
  /** What a client of another segment that may reach this one routes into its tunnel. */
  reachableRoutes(): string[];
  stats(): SegmentStats;
  /** New values of LIVE_SEGMENT_SETTINGS (a config reload); the rest of `next` is ignored. */
  applySettings(next: SegmentDef): void;
  /** Forgets aged state (MAC entries); called periodically by the node. */
  sweep(): void;
  /** Creates, attaches and starts the segment's LAN device port (L2 bridge TAP, L3 uplink TUN);
   * undefined when the definition has none. Throws ElError EL_ERR_TUNTAP / EL_ERR_CONFIG. */
  openLanPort(logger: Logger): DevicePort | undefined;
}

export interface SegmentContext {
  /** The node's routing tables, shared by its L3 segments. */
  router: L3Router;
  /** Another hosted segment by name (L3 `reach`: the routes a welcome pushes). */
  lookup(name: string): Segment | undefined;
}

export function createSegment(def: SegmentDef, ctx: SegmentContext): Segment {
  return def.mode === 'l3' ? new L3Segment(def, ctx.router, ctx.lookup) : new L2Segment(def);
}
