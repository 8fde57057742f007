/**
 * Why a frame was dropped. A drop is not an error: it is counted, never thrown.
 * The values are snake_case because they double as the `reason` label of
 * `el_switch_frames_dropped_total`.
 */
export const DROP_REASONS = [
  /** Shorter than an Ethernet header (14 bytes). */
  'runt',
  /** Source MAC has the group bit set: no station sends from a multicast address. */
  'src_multicast',
  /** A session with one MAC sent from another source MAC. */
  'src_mismatch',
  /** A port tried to source more MACs than its limit (segment.macsPerSession). */
  'mac_limit',
  /** The source MAC is pinned to another session. */
  'mac_conflict',
  /** Known unicast whose destination is the port it came in by. */
  'hairpin',
  /** The port's per-tick output queue was full. */
  'queue_full',
  /** The peer's socket already holds more than the high-water mark of unsent bytes. */
  'slow_peer',
  /** A TAP/TUN device port's kernel did not take the frame (its queue full, the link down). */
  'device_drop',
  /** L3: not an IPv4/IPv6 packet, or its header is truncated or inconsistent. */
  'bad_packet',
  /** L3: a destination no router forwards (link-local, multicast, broadcast). */
  'not_routable',
  /** L3: the source address is not the session's own address or delegated prefix (spoofing). */
  'src_address',
  /** L3: no route to the destination (an ICMP unreachable goes back, rate-limited). */
  'no_route',
  /** L3: the destination is in a segment the source segment may not reach (`reach`). */
  'policy_denied',
  /** L3: TTL / hop limit ran out here (an ICMP time exceeded goes back, rate-limited). */
  'ttl_exceeded',
  /** A FRAME_GSO record with a gso_type its sender did not negotiate (the UDP fragmentation
   * type 3, an unknown one, UDP_L4 without "uso": gso-ingress.ts), or whose virtio_net_hdr
   * cannot be segmented for a port without offload (truncated, headers that do not match
   * the gso_type, segments longer than the MTU). */
  'bad_gso',
  /** L2: a client session's ARP claims an IPv4 address that is not its own (segment.inspection). */
  'arp_spoof',
  /** L2: a client session's neighbour discovery claims an IPv6 address that is not its own,
   * names another link-layer address, hides in a fragment, or is a router advertisement or
   * redirect from a session that is not a bridge (segment.inspection). */
  'nd_spoof',
  /** L2: a client session sent more broadcast, multicast and unknown-unicast frames than its
   * token bucket allows (segment.floodLimit). */
  'flood_limit',
  /** A frame from a trunk whose source (L2 MAC) was not announced by that peer node, or is
   * a local endpoint here: a trunk is trusted for the sources it announced only. */
  'trunk_source',
  /** Something received from a trunk would leave by another trunk (one hop only). */
  'split_horizon',
  /** L2: a frame from a trunk whose source MAC is frozen here (it moved between nodes too
   * often: a loop; RFC 7432 §15.1). */
  'mac_frozen',
] as const;

export type DropReason = (typeof DROP_REASONS)[number];
export type DropCounts = Record<DropReason, number>;

export function newDropCounts(): DropCounts {
  const d = {} as DropCounts;
  for (const r of DROP_REASONS) d[r] = 0;
  return d;
}

export function addDropCounts(into: DropCounts, from: DropCounts): DropCounts {
  for (const r of DROP_REASONS) into[r] += from[r];
  return into;
}

/** A port's output queue drops (queue_full, slow_peer, device_drop) into `into`. */
export function addQueueDrops(into: DropCounts, q: Readonly<Record<'queue_full' | 'slow_peer' | 'device_drop', number>>): DropCounts {
  into.queue_full += q.queue_full;
  into.slow_peer += q.slow_peer;
  into.device_drop += q.device_drop;
  return into;
}

/** A drop of what came in by a port: counted for the segment (`into`) and, when the port
 * keeps its own record (a trunk: per peer node), there too. Drop paths only. */
export function countDrop(into: DropCounts, reason: DropReason, ingress: { readonly inDrops?: DropCounts }): void {
  into[reason]++;
  const own = ingress.inDrops;
  if (own !== undefined) own[reason]++;
}
