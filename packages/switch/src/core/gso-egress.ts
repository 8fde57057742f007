/**
 * Where a FRAME_GSO record (virtio_net_hdr + frame, possibly a TCP or UDP super-frame) goes
 * on egress: as it is to ports whose peer negotiated "gso" (sessions, trunks) — a UDP
 * super-frame (UDP_L4) only to those that also negotiated "uso" —, and as plain frames,
 * segmented in software, to every other port (old clients, trunks to older nodes, TAP/TUN
 * device ports) and for a port whose records cannot hold it (maxGso).
 * The segmentation is done at most once per forwarded record, however many ports a
 * flood reaches, and only if some port needs it.
 */
import { softwareSegment, VNET_GSO_UDP_L4, vnetGsoType } from '@elink/protocol';
import type { Port } from './port.js';

export class GsoEgress {
  /** Records segmented (or checksum-completed) in software. */
  segmented = 0;
  private packet: Buffer | undefined;
  /** The current record is a UDP super-frame: whole only to ports with `uso`. */
  private udp = false;
  /** undefined: not segmented yet; null: could not be. */
  private frames: Buffer[] | null | undefined;

  /** `maxFrame`: the longest FRAME a port of this segment takes (MTU + 18 in L2, MTU in L3). */
  constructor(
    private readonly l2: boolean,
    private readonly maxFrame: number,
  ) {}

  /** Starts one record; `packet` is the FRAME_GSO payload. */
  begin(packet: Buffer): void {
    this.packet = packet;
    this.udp = vnetGsoType(packet) === VNET_GSO_UDP_L4;
    this.frames = undefined;
  }

  /** Queues the current record on `port`; false if it had to be segmented and could not be. */
  send(port: Port): boolean {
    const packet = this.packet!;
    if (port.gso === true && (!this.udp || port.uso === true) && port.enqueueGso !== undefined && (port.maxGso === undefined || packet.length <= port.maxGso)) {
      port.enqueueGso(packet);
      return true;
    }
    if (this.frames === undefined) {
      this.frames = softwareSegment(packet, this.l2, this.maxFrame) ?? null;
      if (this.frames !== null) this.segmented++;
    }
    const frames = this.frames;
    if (frames === null) return false;
    for (let i = 0; i < frames.length; i++) port.enqueue(frames[i]);
    return true;
  }

  /** Ends the record: nothing of it is held past the forward. */
  end(): void {
    this.packet = undefined;
    this.frames = undefined;
  }
}
