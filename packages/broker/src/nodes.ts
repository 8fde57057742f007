/** Switch nodes the broker may send clients to. A registry with heartbeats replaces the static list later. */
import type { ServerEntry } from '@elink/protocol';

export interface NodeInfo {
  node: string;
  host: string;
  port: number;
  /** SHA-256 fingerprint of the node's TLS certificate, for clients that pin it. */
  fingerprint?: string;
  /** Its EL over WebSocket URL when an L7 ingress fronts it. */
  websocket?: string;
  /** Segments the node hosts; absent = all. */
  segments?: string[];
}


/** What the broker knows of the request when it lists nodes: an all-in-one process with no
 * configured advertise address sends clients back to the address they reached it at. */
export interface NodeContext {
  /** The broker's own address on the client's connection. */
  localAddress?: string;
}

/** The nodes hosting `segment`, in the given order (the client tries them in turn). */
export function nodesForSegment(nodes: readonly NodeInfo[], segment: string): ServerEntry[] {
  const out: ServerEntry[] = [];
  for (const n of nodes) {
    if (n.segments && !n.segments.includes(segment)) continue;
    const entry: ServerEntry = { node: n.node, host: n.host, port: n.port };
    if (n.fingerprint !== undefined) entry.fingerprint = n.fingerprint;
    if (n.websocket !== undefined) entry.ws = n.websocket;
    out.push(entry);
  }
  return out;
}
