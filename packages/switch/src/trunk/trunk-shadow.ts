/**
 * Shadowed announcements (docs/cluster.md "Announcements"): what a peer announced that
 * something else holds here — a local endpoint, or another peer's newer announcement — is
 * kept in that peer's trunk port (TrunkPort.shadowed, with its sequence number) instead of
 * dropped, so that when the holder goes the best one kept is installed at once, without
 * waiting for the peer's next change or full sync.
 *
 * - Kept (keepShadowed): when a local endpoint or another peer's announcement takes over an
 *   installed one (Port.displaced), and when an announcement arrives for a key held locally
 *   or by a newer one (verdict `local` / `stale`). At most maxRemotePerSegment per trunk
 *   port: beyond, a new key is not kept (those kept first stay), and the port counts it
 *   (TrunkPort.dropped).
 * - Forgotten: when the peer withdraws the key (or announces it again and it is installed),
 *   when it cannot be installed any more (full, frozen), and with the trunk.
 * - Installed again (reinstate): when the key is free — the local endpoint went, the peer
 *   holding it withdrew it, or that peer's trunk went down. Of the up trunks' ports that
 *   keep it, the highest sequence number wins; a tie goes to the lower node id (the rule of
 *   TrunkPort.winsTies). In L3 the ports of every segment count: the node's L3 segments
 *   share one routing table, so a prefix freed in one may be a peer's in another.
 * - Asked for again (droppedPorts → Trunk.requestResync): a key is still free after that,
 *   and a port (of the same ports) dropped keys from its full shadow: the dropped one may be
 *   this key, so that peer is asked for the segment's full table again (`resync`, rate-
 *   limited per port; not to a peer without the capability). Its answer installs what is
 *   free and keeps the rest shadowed (Trunk.onUpdate, `replay`).
 *
 * Only at those events, never per frame; the work is bounded by the trunks (maxPeers) and,
 * at a trunk down, by what that trunk had installed (maxRemotePerSegment per segment).
 */
import type { Trunk, TrunkPort } from './trunk.js';

/** Keeps `key` (announced by the port's peer with `seq`) in the port's shadow, within `limit`;
 * beyond, counts it as dropped (the peer is asked again when a key comes free). */
export function keepShadowed(port: TrunkPort, key: string, seq: number, limit: number): void {
  if (port.shadowed.has(key) || port.shadowed.size < limit) port.shadowed.set(key, seq);
  else port.dropped++;
}

/**
 * `key` is free in segment `id` (nothing holds it, or a local endpoint does): installs the
 * best announcement of it the up trunks' ports keep. Tries the next best when the best
 * cannot be installed (and forgets it); stops when one is installed or something (a local
 * endpoint, a newer announcement) holds the key, which keeps the rest shadowed.
 */
export function reinstate(trunks: ReadonlyMap<string, Trunk>, id: number, key: string, l3: boolean, limit: number): void {
  // Each round forgets or installs one candidate: at most as many rounds as ports keep it.
  for (;;) {
    let best: TrunkPort | undefined;
    let bestSeq = -1;
    for (const p of portsOf(trunks, id, l3)) {
      const seq = p.shadowed.get(key);
      if (seq !== undefined && better(p, seq, best, bestSeq)) {
        best = p;
        bestSeq = seq;
      }
    }
    if (best === undefined) return;
    const v = best.segment.learnRemote(best, key, bestSeq, limit, best.winsTies);
    if (v === 'local' || v === 'stale') return;
    best.shadowed.delete(key);
    if (v === 'ok') return;
  }
}

/** The up trunks' ports that may hold a key of segment `id`: in L3 every L3 segment's (one
 * routing table), in L2 this segment's. */
function* portsOf(trunks: ReadonlyMap<string, Trunk>, id: number, l3: boolean): Generator<TrunkPort> {
  for (const t of trunks.values()) {
    if (t.state !== 'up') continue;
    for (const p of l3 ? t.ports.values() : [t.ports.get(id)]) if (p !== undefined && (!l3 || p.segment.mode === 'l3')) yield p;
  }
}

/** The ports that dropped keys from a full shadow and may hold one freed in segment `id`
 * (none was reinstated): their peers are asked for the table again. */
export function droppedPorts(trunks: ReadonlyMap<string, Trunk>, id: number, l3: boolean): TrunkPort[] {
  return [...portsOf(trunks, id, l3)].filter((p) => p.dropped > 0);
}

/** A higher sequence number wins; at the same one, the lower node id. */
function better(p: TrunkPort, seq: number, best: TrunkPort | undefined, bestSeq: number): boolean {
  if (best === undefined || seq > bestSeq) return true;
  return seq === bestSeq && p.trunk.peerNode! < best.trunk.peerNode!;
}

/** Announcements kept or dropped by the up trunks' ports, but for `except`'s: 0 means nothing
 * to reinstate nor ask for again. */
export function shadowedElsewhere(trunks: ReadonlyMap<string, Trunk>, except: Trunk): number {
  let n = 0;
  for (const t of trunks.values()) {
    if (t === except || t.state !== 'up') continue;
    for (const p of t.ports.values()) n += p.shadowed.size + p.dropped;
  }
  return n;
}
