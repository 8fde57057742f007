/**
 * Ports: everything frames enter and leave the switch by (client sessions, TAP/TUN
 * devices, trunks, in-memory test ports). The forwarding core (segments) knows only this
 * interface.
 *
 * A port is an output queue plus a writer (@elink/transport): segment.forward calls
 * port.enqueue(frame) any number of times during a tick; the port's OutputQueue (bounded
 * in records and bytes, slow-peer high-water mark and stall timeout, every drop counted by
 * reason) joins the FlushScheduler's dirty list once; at the end of the read
 * (flushNow) or at setImmediate it hands the tick's records to its Writer in one write:
 *
 *   session: OutputQueue + RecordWriter(RecordConn)   (ports/session, session.ts)
 *   tap/tun: OutputQueue + DeviceWriter(TunTapDevice) (ports/device-port.ts)
 *   memory:  OutputQueue + MemoryWriter               (memory-port.ts, tests)
 *   trunk:   the trunk's one OutputQueue + RecordWriter over its RecordConn, shared by
 *            its port in each segment (trunk/trunk.ts: TrunkPort)
 *   6in4:    OutputQueue + a writer to the node's raw protocol-41 socket (dtcp/six-in-four.ts)
 */
import type { OutputQueue } from '@elink/transport';
import type { DropCounts } from './drops.js';

export type PortKind = 'session' | 'tap' | 'tun' | 'trunk' | 'memory' | '6in4';

export interface Port {
  /** Unique in this process. */
  readonly id: number;
  /** For logs: session id, device name, peer node. */
  readonly name: string;
  readonly kind: PortKind;
  /** Queues one frame for output. Never throws; a drop is counted by the port.
   * `frame` must stay unchanged until the end of the tick (it is not copied here). */
  enqueue(frame: Buffer): void;
  /** True when the peer negotiated the "gso" capability: it takes FRAME_GSO records. */
  readonly gso?: boolean;
  /** With `gso`: the peer also negotiated "uso", it takes UDP super-frames (UDP_L4) as they are. */
  readonly uso?: boolean;
  /** Queues one FRAME_GSO payload (virtio_net_hdr + frame) as it is; only called when `gso`
   * (and `uso` for a UDP super-frame). */
  enqueueGso?(packet: Buffer): void;
  /** The longest FRAME_GSO payload enqueueGso takes (a trunk: 4 bytes less than a record,
   * for the segment id); a longer one is segmented for this port. Absent: any. */
  readonly maxGso?: number;
  /** The port's output queue: its counters and drops (framesOut, queue_full, …). */
  readonly output: OutputQueue;
  /** Trunk ports: the trunk they share (one per segment), so a source announced in one
   * segment of a peer node is that peer's in every segment (L3 across segments). */
  readonly link?: object;
  /** Trunk ports: frames that came in by this port and the segment dropped, by reason (one
   * record per peer node, shared by the trunk's ports: el_trunk_dropped_frames_total). */
  readonly inDrops?: DropCounts;
  /** Trunk ports: a local endpoint, or another peer's newer announcement, took over `key`,
   * which this port's peer had announced with `seq`; the port keeps the announcement
   * (shadowed) to install it again when that one goes (trunk/trunk-shadow.ts). Called at a
   * takeover only, never per frame. */
  displaced?(key: string, seq: number): void;
  /** Client sessions: endpointOwner(user, device) of the ticket, announced with the
   * session's endpoints to peers that take it (docs/cluster.md "A device that moved"). */
  readonly owner?: string;
  /** Client sessions: when the session was admitted (Date.now(), this node's clock). */
  readonly since?: number;
  /** Client sessions: the same device was admitted later at peer node `node` (this one is
   * a leftover whose connection is not dead yet): end it as superseded. */
  movedAway?(node: string): void;
}

let lastPortId = 0;
export function allocatePortId(): number {
  return ++lastPortId;
}
