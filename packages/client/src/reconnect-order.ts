/**
 * The order in which a client tries the nodes of a login reply again after losing its
 * node. The reply's order was the broker's placement at login time, and every client of
 * a node got the same one: after that node dies, all of them would land on the next node
 * of the list together while the others idle (the reconnect storm of docs/benchmarks.md
 * measured 9,571 of 9,571 sessions back on one of two surviving nodes). So the node that
 * was lost goes last (dead, it costs a timeout; alive, it has forgotten the session
 * anyway), and the others are tried in a random order of this client's own, which
 * spreads a node's clients evenly over the survivors. A node's addresses stay together
 * and in their order.
 */
import type { ServerInfo } from './login.js';

/** The stale list of a ticket offered again: the other nodes shuffled, the lost one last. */
export function reconnectOrder(servers: readonly ServerInfo[], lost: string | undefined, random: () => number = Math.random): ServerInfo[] {
  const byNode = new Map<string, ServerInfo[]>();
  for (const s of servers) {
    const entries = byNode.get(s.node);
    if (entries) entries.push(s);
    else byNode.set(s.node, [s]);
  }
  const others = [...byNode.keys()].filter((n) => n !== lost);
  // Fisher–Yates.
  for (let i = others.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [others[i], others[j]] = [others[j]!, others[i]!];
  }
  const out = others.flatMap((n) => byNode.get(n)!);
  if (lost !== undefined) out.push(...(byNode.get(lost) ?? []));
  return out;
}

/** A fresh list from the broker: its order kept (placement), only the lost node moved last
 * (the broker still lists a dead node until its heartbeats are overdue). */
export function lostNodeLast(servers: readonly ServerInfo[], lost: string | undefined): ServerInfo[] {
  if (lost === undefined) return [...servers];
  return [...servers.filter((s) => s.node !== lost), ...servers.filter((s) => s.node === lost)];
}
