/**
 * The switch node registry: nodes heartbeat (POST /v1/nodes/heartbeat) into the store,
 * so every broker sees every node; a login gets an ordered list of nodes to try.
 *
 * Selection for a segment: the node hosts it, its last heartbeat is younger than
 * `healthySeconds`, it is not draining, and it has headroom (sessions < capacity).
 * Order (rankNodes): the node holding most of the segment's sessions first (affinity by
 * count keeps a segment's members together, so its traffic stays on one node instead of
 * crossing trunks), then by free capacity. A node past AFFINITY_MAX_LOAD of its capacity
 * gives up its affinity, so a busy segment spreads before its node is full. Load counts the
 * sessions this broker placed on a node since its last heartbeat (PlacementCounts).
 * Statically configured nodes (config `broker.nodes`, or the in-process node of
 * `elink up`) follow the registered ones.
 *
 * Demoted, never dropped: a suspect node (a trunk peer lost it after its last heartbeat,
 * suspicion.ts) follows every other registered node, and the node a client says it lost
 * (header EL-Lost-Node) comes last in that client's reply. Both stay listed: when they are
 * all there is, a client still tries them rather than getting EL_ERR_NO_NODE.
 */
import { MAX_TRUNK_PEERS, type HeartbeatRequest, type ReportTrunk, type ServerEntry, type TrunkPeerEntry } from '@elink/protocol';
import type { NodeInfo } from './nodes.js';
import { PlacementCounts } from './placement-counts.js';
import type { BrokerStore, NodeRecord, TrunkDownRecord } from './store/store.js';
import { nodeClock, type NodeClock } from './node-clock.js';
import { suspects, trunkLosses, trunkReturns } from './suspicion.js';

export const DEFAULT_HEALTHY_SECONDS = 15;
/** A node silent this long is forgotten by the registry (it shows as unhealthy before that). */
export const DEFAULT_RETAIN_SECONDS = 600;
/** At most this many entries in a login reply: enough to fail over, small enough to read. */
export const MAX_SERVERS = 8;

export type Heartbeat = HeartbeatRequest;

export interface NodeStatus extends NodeRecord {
  healthy: boolean;
  /** A trunk peer lost it after its last heartbeat (suspicion.ts): when that was heard (ms). */
  suspectSince?: number;
}

/** How long the store keeps a trunk loss, in heartbeat timeouts: long enough that a heartbeat
 * repeating a loss still fresh (trunkLosses) finds it kept and is not news again. A trunk up
 * since longer than this and one more timeout cannot end a loss still kept (trunkReturns). */
const LOSS_TTL_TIMEOUTS = 2;

/**
 * Above this share of its capacity a node no longer attracts its segments' new clients:
 * they go to the least loaded node instead, so affinity never fills one node to the brim
 * while others idle.
 */
export const AFFINITY_MAX_LOAD = 0.95;

/**
 * Sessions of `segment` on a node, as its heartbeat says: the per-segment count when
 * sent, else 1 for a segment in `active` (nodes that only send the flag). Never more
 * than the node's total, so a wrong count cannot outweigh the truth.
 */
export function segmentSessionCount(n: NodeRecord, segment: string): number {
  const counted = n.segmentSessions && Object.hasOwn(n.segmentSessions, segment) ? n.segmentSessions[segment]! : n.active.includes(segment) ? 1 : 0;
  return Math.min(counted, n.sessions);
}

const NONE_PLACED: ReadonlyMap<string, number> = new Map();

/** Nodes to rank after the others: suspects (after every other node), and the caller's lost node (last). */
export interface Demoted {
  suspects?: ReadonlySet<string> | ReadonlyMap<string, unknown>;
  lost?: string;
}

/**
 * The nodes to offer for `segment`, best first (pure: the registry's policy). `placed` is
 * the sessions sent to each node since its last heartbeat (PlacementCounts): load and
 * headroom are judged on the projected sessions (reported + placed), so a burst of logins
 * between two heartbeats spreads instead of all landing on the first node.
 */
export function rankNodes(records: readonly NodeRecord[], segment: string, now: number, healthySeconds = DEFAULT_HEALTHY_SECONDS, placed: ReadonlyMap<string, number> = NONE_PLACED, demoted: Demoted = {}): NodeRecord[] {
  const freshSince = now - healthySeconds * 1000;
  const keyed: { n: NodeRecord; load: number; affinity: number; tier: number }[] = [];
  for (const n of records) {
    if (!n.segments.includes(segment) || n.seenAt < freshSince || n.draining) continue;
    const projected = n.sessions + (placed.get(n.node) ?? 0);
    if (projected >= n.capacity) continue;
    // Computed once per node, not per comparison.
    const load = projected / n.capacity;
    const tier = n.node === demoted.lost ? 2 : demoted.suspects?.has(n.node) ? 1 : 0;
    keyed.push({ n, load, affinity: load < AFFINITY_MAX_LOAD ? segmentSessionCount(n, segment) : 0, tier });
  }
  keyed.sort((a, b) => a.tier - b.tier || b.affinity - a.affinity || a.load - b.load || a.n.node.localeCompare(b.n.node));
  return keyed.map((k) => k.n);
}

export function serverEntries(nodes: readonly NodeRecord[]): ServerEntry[] {
  const out: ServerEntry[] = [];
  for (const n of nodes) {
    for (const host of n.hosts) {
      const entry: ServerEntry = { node: n.node, host, port: n.port };
      if (n.fingerprint !== undefined) entry.fingerprint = n.fingerprint;
      if (n.websocket !== undefined) entry.ws = n.websocket;
      out.push(entry);
    }
  }
  return out;
}

/** The trunk peers of node `self` (hosting `segments`): other fresh, not draining nodes with a
 * trunk listener sharing a segment (pure: the registry's policy). */
export function trunkPeers(records: readonly NodeRecord[], self: string, segments: readonly string[], now: number, healthySeconds = DEFAULT_HEALTHY_SECONDS): TrunkPeerEntry[] {
  const freshSince = now - healthySeconds * 1000;
  const mine = new Set(segments);
  const out: TrunkPeerEntry[] = [];
  for (const n of records) {
    if (n.node === self || !n.trunk || n.draining || n.seenAt < freshSince) continue;
    const shared = n.segments.filter((s) => mine.has(s));
    if (shared.length === 0) continue;
    out.push({ node: n.node, hosts: n.trunk.hosts, port: n.trunk.port, segments: shared });
  }
  return out.sort((a, b) => a.node.localeCompare(b.node)).slice(0, MAX_TRUNK_PEERS);
}

export interface NodeRegistryOptions {
  store: BrokerStore;
  healthySeconds?: number;
  retainSeconds?: number;
  now?: () => number;
}

export class NodeRegistry {
  readonly #store: BrokerStore;
  readonly #healthy: number;
  readonly #retain: number;
  readonly #now: () => number;
  readonly #placed = new PlacementCounts();

  constructor(opts: NodeRegistryOptions) {
    this.#store = opts.store;
    this.#healthy = opts.healthySeconds ?? DEFAULT_HEALTHY_SECONDS;
    this.#retain = opts.retainSeconds ?? DEFAULT_RETAIN_SECONDS;
    this.#now = opts.now ?? Date.now;
  }

  get healthySeconds(): number {
    return this.#healthy;
  }

  async heartbeat(hb: Heartbeat): Promise<void> {
    const seenAt = this.#now();
    await this.#store.putNode({ ...hb, seenAt }, this.#retain);
    this.#placed.drop(hb.node, seenAt);
  }

  /** How the clock of a node whose heartbeat arrives now relates to ours (its `EL-Node-Time`; undefined: none sent). */
  nodeClock(nodeTime: number | undefined): NodeClock | undefined {
    return nodeClock(nodeTime, this.#now());
  }

  /**
   * A heartbeat's trunk report (`report.trunks`): the fresh losses of peers it tells of are
   * kept in the store for every broker (suspicion.ts), and the reporter's earlier losses of
   * peers it lists up again since are withdrawn. `clock` reads the reporter's times on ours.
   * Returns the losses new to the store (a heartbeat repeating one returns nothing), each with
   * when it happened on our clock, and the losses withdrawn, for the log and metrics.
   */
  async noteTrunks(reporter: string, trunks: readonly ReportTrunk[] | undefined, clock?: NodeClock): Promise<{ lost: Array<TrunkDownRecord & { downAt: number }>; back: TrunkDownRecord[] }> {
    const now = this.#now();
    const losses = trunkLosses(reporter, trunks, now, this.#healthy * 1000, clock);
    const returns = trunkReturns(reporter, trunks, now, this.#healthy * 1000 * (LOSS_TTL_TIMEOUTS + 1), clock);
    const [made, back] = await Promise.all([losses.length ? this.#store.putTrunkDowns(reporter, losses, this.#healthy * LOSS_TTL_TIMEOUTS) : [], returns.length ? this.#store.clearTrunkDowns(reporter, returns) : []]);
    const downAt = new Map(losses.map((l) => [l.node, l.downAt]));
    return { lost: made.map((m) => ({ ...m, downAt: downAt.get(m.node) ?? m.since })), back };
  }

  /** Suspect nodes now (el_broker_nodes_suspect), with when the loss was heard. */
  async suspects(): Promise<Map<string, number>> {
    const [records, downs] = await Promise.all([this.#store.listNodes(), this.#store.listTrunkDowns()]);
    return suspects(downs, records);
  }

  /** Trunk peers for a node's heartbeat reply. */
  async peersOf(hb: Heartbeat): Promise<TrunkPeerEntry[]> {
    return trunkPeers(await this.#store.listNodes(), hb.node, hb.segments, this.#now(), this.#healthy);
  }

  async list(): Promise<NodeStatus[]> {
    const since = this.#now() - this.#healthy * 1000;
    const [records, downs] = await Promise.all([this.#store.listNodes(), this.#store.listTrunkDowns()]);
    const suspect = suspects(downs, records);
    return records
      .map((n) => {
        const at = suspect.get(n.node);
        return { ...n, healthy: n.seenAt >= since, ...(at !== undefined ? { suspectSince: at } : {}) };
      })
      .sort((a, b) => a.node.localeCompare(b.node));
  }

  /**
   * Registered nodes for `segment`, best first (suspects after the others), then the static
   * ones that host it; `lost` (the node the client says it lost) last of all. The first
   * registered node is counted as placed (the client tries it first), also when the login
   * fails after this choice: until the next heartbeat that errs toward spreading.
   */
  async select(segment: string, statics: readonly NodeInfo[], lost?: string): Promise<ServerEntry[]> {
    const [records, downs] = await Promise.all([this.#store.listNodes(), this.#store.listTrunkDowns()]);
    // No await between reading the counts and adding to them: concurrent logins see each other.
    const ranked = rankNodes(records, segment, this.#now(), this.#healthy, this.#placed.current(records), { suspects: suspects(downs, records), ...(lost !== undefined ? { lost } : {}) });
    if (ranked[0]) this.#placed.add(ranked[0].node, ranked[0].seenAt);
    const registered = serverEntries(ranked);
    const seen = new Set(registered.map((e) => e.node));
    for (const n of statics) {
      if (seen.has(n.node) || (n.segments && !n.segments.includes(segment))) continue;
      const entry: ServerEntry = { node: n.node, host: n.host, port: n.port };
      if (n.fingerprint !== undefined) entry.fingerprint = n.fingerprint;
      if (n.websocket !== undefined) entry.ws = n.websocket;
      registered.push(entry);
    }
    // Last of all, after the static nodes too.
    if (lost !== undefined) return [...registered.filter((e) => e.node !== lost), ...registered.filter((e) => e.node === lost)].slice(0, MAX_SERVERS);
    return registered.slice(0, MAX_SERVERS);
  }
}
