/**
 * The switch node registry: nodes heartbeat (POST /v1/nodes/heartbeat) into the store,
 * so every broker sees every node; a login gets an ordered list of nodes to try.
 *
 * Selection for a segment: the node hosts it, its last heartbeat is younger than
 * `healthySeconds`, it is not draining, and it has headroom (sessions < capacity).
 * Order: nodes that already carry sessions of the segment first (affinity keeps a
 * segment's members together and its broadcast local), then the most free capacity.
 * Statically configured nodes (config `broker.nodes`, or the in-process node of
 * `elink up`) follow the registered ones.
 */
import { MAX_TRUNK_PEERS, type HeartbeatRequest, type ServerEntry, type TrunkPeerEntry } from '@elink/protocol';
import type { NodeInfo } from './nodes.js';
import type { BrokerStore, NodeRecord } from './store/store.js';

export const DEFAULT_HEALTHY_SECONDS = 15;
/** A node silent this long is forgotten by the registry (it shows as unhealthy before that). */
export const DEFAULT_RETAIN_SECONDS = 600;
/** At most this many entries in a login reply: enough to fail over, small enough to read. */
export const MAX_SERVERS = 8;

export type Heartbeat = HeartbeatRequest;

export interface NodeStatus extends NodeRecord {
  healthy: boolean;
}

/** The nodes to offer for `segment`, best first (pure: the registry's policy). */
export function rankNodes(records: readonly NodeRecord[], segment: string, now: number, healthySeconds = DEFAULT_HEALTHY_SECONDS): NodeRecord[] {
  const freshSince = now - healthySeconds * 1000;
  const free = (n: NodeRecord) => (n.capacity - n.sessions) / n.capacity;
  return records
    .filter((n) => n.segments.includes(segment) && n.seenAt >= freshSince && !n.draining && n.sessions < n.capacity)
    .sort((a, b) => {
      const affinity = Number(b.active.includes(segment)) - Number(a.active.includes(segment));
      if (affinity !== 0) return affinity;
      return free(b) - free(a) || a.node.localeCompare(b.node);
    });
}

export function serverEntries(nodes: readonly NodeRecord[]): ServerEntry[] {
  const out: ServerEntry[] = [];
  for (const n of nodes) {
    for (const host of n.hosts) {
      const entry: ServerEntry = { node: n.node, host, port: n.port };
      if (n.fingerprint !== undefined) entry.fingerprint = n.fingerprint;
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
    await this.#store.putNode({ ...hb, seenAt: this.#now() }, this.#retain);
  }

  /** Trunk peers for a node's heartbeat reply. */
  async peersOf(hb: Heartbeat): Promise<TrunkPeerEntry[]> {
    return trunkPeers(await this.#store.listNodes(), hb.node, hb.segments, this.#now(), this.#healthy);
  }

  async list(): Promise<NodeStatus[]> {
    const since = this.#now() - this.#healthy * 1000;
    return (await this.#store.listNodes()).map((n) => ({ ...n, healthy: n.seenAt >= since })).sort((a, b) => a.node.localeCompare(b.node));
  }

  /** Registered nodes for `segment`, best first, then the static ones that host it. */
  async select(segment: string, statics: readonly NodeInfo[]): Promise<ServerEntry[]> {
    const registered = serverEntries(rankNodes(await this.#store.listNodes(), segment, this.#now(), this.#healthy));
    const seen = new Set(registered.map((e) => e.node));
    for (const n of statics) {
      if (seen.has(n.node) || (n.segments && !n.segments.includes(segment))) continue;
      const entry: ServerEntry = { node: n.node, host: n.host, port: n.port };
      if (n.fingerprint !== undefined) entry.fingerprint = n.fingerprint;
      registered.push(entry);
    }
    return registered.slice(0, MAX_SERVERS);
  }
}
