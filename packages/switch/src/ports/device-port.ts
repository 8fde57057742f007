/**
 * A port backed by a kernel TAP or TUN device on the switch node: the TAP bridge port
 * of an L2 segment (attached to an existing Linux bridge, so frames flow between a LAN
 * and the clients) and the uplink port of an L3 segment (the host kernel routes between
 * it and a LAN).
 *
 *   device 'packets' (a batch per wake-up) → segment.forward(packet, this)
 *   segment → enqueue(frame) → bounded list → flush once per tick → device.writeMany
 *
 * The device is created and configured here (ip link … master …, routes) and removed
 * on close(). Frames the kernel refuses are counted, never thrown.
 */
import { execFileSync } from 'node:child_process';
import { TunTapDevice } from '@elink/tuntap';
import { ElError } from '@elink/protocol';
import { allocatePortId, defaultFlushScheduler, type Flushable, type FlushScheduler, type Port } from '../port.js';

export interface DevicePortOptions {
  mode: 'tap' | 'tun';
  /** Interface name (exact, at most 15 characters). */
  name: string;
  mtu: number;
  /** Frames queued per tick before `queue_full` drops. Default 4096. */
  maxFrames?: number;
  scheduler?: FlushScheduler;
}

export interface DeviceCounters {
  framesIn: number;
  framesOut: number;
  queue_full: number;
  /** Frames the kernel did not take (its queue full, the link down). */
  device_drop: number;
}

export class DevicePort implements Port, Flushable {
  readonly id = allocatePortId();
  readonly kind = 'tap' as const;
  readonly name: string;
  readonly counters: DeviceCounters = { framesIn: 0, framesOut: 0, queue_full: 0, device_drop: 0 };
  flushPending = false;
  private readonly queue: Buffer[] = [];
  private readonly maxFrames: number;
  private readonly scheduler: FlushScheduler;
  private closed = false;

  private constructor(
    readonly device: TunTapDevice,
    opts: DevicePortOptions,
  ) {
    this.name = device.name;
    this.maxFrames = opts.maxFrames ?? 4096;
    this.scheduler = opts.scheduler ?? defaultFlushScheduler;
  }

  /** Creates the device (up). Throws ElError EL_ERR_TUNTAP (no /dev/net/tun, no NET_ADMIN, busy name). */
  static open(opts: DevicePortOptions): DevicePort {
    const device = TunTapDevice.open({ mode: opts.mode, name: opts.name, mtu: opts.mtu, up: true });
    return new DevicePort(device, opts);
  }

  /** Starts delivering the device's packets to `segment.forward`. */
  start(segment: { forward(packet: Buffer, ingress: Port): void }, onError: (err: Error) => void): void {
    this.device.on('packets', (packets: Buffer[]) => {
      this.counters.framesIn += packets.length;
      for (let i = 0; i < packets.length; i++) segment.forward(packets[i], this);
      // Out in this turn, as a session's read does (see FlushScheduler.flushNow).
      this.scheduler.flushNow();
    });
    this.device.on('error', onError);
  }

  enqueue(frame: Buffer): void {
    if (this.closed) return;
    if (this.queue.length >= this.maxFrames) {
      this.counters.queue_full++;
      return;
    }
    this.queue.push(frame);
    if (!this.flushPending) this.scheduler.schedule(this);
  }

  flush(): void {
    const n = this.queue.length;
    if (n === 0) return;
    const written = this.device.writeMany(this.queue);
    this.counters.framesOut += written;
    this.counters.device_drop += n - written;
    this.queue.length = 0;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.length = 0;
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
