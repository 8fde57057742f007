/**
 * A port backed by a kernel TAP or TUN device on the switch node: the TAP bridge port
 * of an L2 segment (attached to an existing Linux bridge, so frames flow between a LAN
 * and the clients) and the uplink port of an L3 segment (the host kernel routes between
 * it and a LAN).
 *
 *   device 'packets' (a batch per wake-up) → segment.forward(packet, this)
 *   segment → enqueue(frame) → OutputQueue → flush once per tick → DeviceWriter (device.writeMany)
 *
 * The device is created and configured here (ip link … master …, routes) and removed
 * on close(). Frames the kernel refuses are counted, never thrown.
 */
import { execFileSync } from 'node:child_process';
import { TunTapDevice } from '@elink/tuntap';
import { ElError, HEADER_LENGTH, L2_OVERHEAD, RecordType } from '@elink/protocol';
import { DEFAULT_MAX_FRAMES, DeviceWriter, OutputQueue, type QueueOptions } from '@elink/transport';
import { allocatePortId, type Port } from '../core/port.js';

export interface DevicePortOptions extends Omit<QueueOptions, 'highWaterBytes' | 'writeTimeoutMs'> {
  mode: 'tap' | 'tun';
  /** Interface name (exact, at most 15 characters). */
  name: string;
  mtu: number;
}

export class DevicePort implements Port {
  readonly id = allocatePortId();
  readonly kind: 'tap' | 'tun';
  readonly name: string;
  /** Frames the device delivered. Output counts (framesOut, queue_full, device_drop: frames
   * the kernel did not take, its queue full or the link down) are the queue's. */
  framesIn = 0;
  readonly output: OutputQueue;
  private closed = false;

  private constructor(
    readonly device: TunTapDevice,
    opts: DevicePortOptions,
  ) {
    this.name = device.name;
    this.kind = opts.mode;
    // The device writes synchronously (no backlog): only queue_full and device_drop apply.
    // Bounded by frames per tick; the byte bound only follows from it (frames ≤ MTU).
    const maxFrames = opts.maxFrames ?? DEFAULT_MAX_FRAMES;
    this.output = new OutputQueue(new DeviceWriter(device), { maxBytes: maxFrames * (HEADER_LENGTH + opts.mtu + L2_OVERHEAD), ...opts, maxFrames });
  }

  /** Creates the device (up). Throws ElError EL_ERR_TUNTAP (no /dev/net/tun, no NET_ADMIN, busy name). */
  static open(opts: DevicePortOptions): DevicePort {
    const device = TunTapDevice.open({ mode: opts.mode, name: opts.name, mtu: opts.mtu, up: true });
    return new DevicePort(device, opts);
  }

  /** Starts delivering the device's packets to `segment.forward`. */
  start(segment: { forward(packet: Buffer, ingress: Port): void }, onError: (err: Error) => void): void {
    const scheduler = this.output.scheduler;
    this.device.on('packets', (packets: Buffer[]) => {
      this.framesIn += packets.length;
      for (let i = 0; i < packets.length; i++) segment.forward(packets[i], this);
      // Out in this turn, as a session's read does (see FlushScheduler.flushNow).
      scheduler.flushNow();
    });
    this.device.on('error', onError);
  }

  enqueue(frame: Buffer): void {
    this.output.push(RecordType.FRAME, frame);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.output.close();
    this.device.close();
  }
}

/** Runs `ip …` synchronously (setup only); failures become EL_ERR_TUNTAP naming the command. */
export function ipCommand(args: string[]): void {
  try {
    execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 });
  } catch (e) {
    const err = e as { stderr?: Buffer; message: string };
    throw new ElError('EL_ERR_TUNTAP', `ip ${args.join(' ')} failed: ${(err.stderr?.toString() || err.message).trim()}`, { cause: e });
  }
}
