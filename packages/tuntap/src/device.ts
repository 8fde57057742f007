import { EventEmitter } from 'node:events';
import { TunTapError, tunTapErrorFromNative } from './errors.js';
import { loadBinding, type NativeDevice } from './native.js';
import { checkMtu, checkOptions, macToBytes, type DeviceMode, type OpenOptions } from './options.js';

export interface TunTapStats {
  rxPackets: number;
  rxBytes: number;
  txPackets: number;
  txBytes: number;
  /** Packets write()/writeMany() could not hand to the kernel (queue full, down, closed, rejected). */
  txDropped: number;
}

export interface TunTapDeviceEvents {
  /** One call per readiness wake-up. The buffers stay valid after the call (views into a slab
   * never reused), unless the device was opened with `reuseBuffers`: then only until it returns. */
  packets: [packets: Buffer[]];
  /** A read failed with something other than EAGAIN; reading stops. */
  error: [err: TunTapError];
  close: [];
}

/**
 * A Linux TAP (Ethernet frames) or TUN (IP packets) device, IFF_NO_PI, read
 * through libuv readiness polling on the main thread.
 */
export class TunTapDevice extends EventEmitter<TunTapDeviceEvents> {
  /** The interface name the kernel gave (a pattern like 'el%d' resolved). */
  readonly name: string;
  readonly mode: DeviceMode;
  /** Opened with IFF_VNET_HDR + TSO: packets read and written start with a virtio_net_hdr. */
  readonly offload: boolean;
  /**
   * The kernel also took USO (TUN_F_USO4 | TUN_F_USO6, Linux >= 6.2): a read may be a UDP
   * super-frame (gso_type UDP_L4: a local UDP_SEGMENT sender's datagrams in one packet),
   * and one may be written for the kernel to split. False without offload or on an older
   * kernel, which refuses the flags (the device then has TCP offload only).
   */
  readonly uso: boolean;
  readonly #native: NativeDevice;
  readonly #meta: Uint32Array;
  readonly #stats: Float64Array;
  #closed = false;
  #paused = false;

  private constructor(native: NativeDevice, mode: DeviceMode, offload: boolean) {
    super();
    this.#native = native;
    this.#meta = native.meta();
    this.#stats = native.stats();
    this.name = native.name();
    this.mode = mode;
    this.offload = offload;
    this.uso = offload && native.uso();
    // Set as properties of the native object (not held by C++ as persistent
    // references) so the device and its handlers can be collected together.
    native.onread = (slabs, count) => this.#onRead(slabs, count);
    native.onerror = (errno, syscall) => this.#onError(errno, syscall);
  }

  /** Creates (or attaches to a persistent) device; synchronous; throws TunTapError (ElError EL_ERR_TUNTAP). */
  static open(opts: OpenOptions): TunTapDevice {
    const o = checkOptions(opts);
    const { Device } = loadBinding();
    let native: NativeDevice;
    try {
      native = new Device(o.mode === 'tun' ? 1 : 0, o.name, o.batch, o.offload, o.reuseBuffers, o.readBytes);
    } catch (err) {
      throw tunTapErrorFromNative(err, 'open', `cannot create ${o.mode.toUpperCase()} device ${o.name}`);
    }
    const device = new TunTapDevice(native, o.mode, o.offload);
    try {
      // MAC before up: some drivers refuse a change on a running link (TAP allows it, but order costs nothing).
      if (o.mac !== undefined) device.#setMacBytes(o.mac);
      if (o.mtu !== undefined) device.setMtu(o.mtu);
      if (o.up) device.setUp(true);
      try {
        native.start();
      } catch (err) {
        throw tunTapErrorFromNative(err, 'start', `cannot poll ${device.name}`);
      }
    } catch (err) {
      device.close();
      throw err;
    }
    return device;
  }

  get stats(): TunTapStats {
    const s = this.#stats;
    return { rxPackets: s[0], rxBytes: s[1], txPackets: s[2], txBytes: s[3], txDropped: s[4] };
  }

  /** One non-blocking write(2). False when the kernel did not take it (full queue, link down, closed): count a drop.
   * On an offload device `packet` starts with its virtio_net_hdr. */
  write(packet: Buffer): boolean {
    return this.#native.write(packet) === 0;
  }

  /** One native call writing each packet; returns how many were written (the rest are counted in txDropped).
   * On an offload device each packet starts with its virtio_net_hdr. */
  writeMany(packets: readonly Buffer[]): number {
    return this.#native.writeMany(packets);
  }

  /** As writeMany, for plain frames/packets without a header: on an offload device a zero
   * virtio_net_hdr (no GSO, checksum complete) goes before each (writev, no copy). */
  writeManyPlain(packets: readonly Buffer[]): number {
    return this.#native.writeMany(packets, true);
  }

  setMtu(mtu: number): void {
    checkMtu(mtu);
    try {
      this.#native.setMtu(mtu);
    } catch (err) {
      throw tunTapErrorFromNative(err, 'set_mtu', `cannot set MTU ${mtu} on ${this.name}`);
    }
  }

  setMac(mac: string): void {
    if (this.mode !== 'tap') {
      throw new TunTapError('invalid', `${this.name} is a TUN device: it has no MAC address`);
    }
    this.#setMacBytes(macToBytes(mac));
  }

  setUp(up: boolean): void {
    try {
      this.#native.setUp(up);
    } catch (err) {
      throw tunTapErrorFromNative(err, 'set_up', `cannot set ${this.name} ${up ? 'up' : 'down'}`);
    }
  }

  /** Stops reading; the kernel queues (then drops) packets meanwhile. */
  pause(): void {
    this.#paused = true;
    this.#native.stop();
  }

  resume(): void {
    if (this.#closed) return;
    this.#paused = false;
    try {
      this.#native.start();
    } catch (err) {
      throw tunTapErrorFromNative(err, 'start', `cannot poll ${this.name}`);
    }
  }

  get paused(): boolean {
    return this.#paused;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Idempotent. Closing the last fd of a non-persistent device makes the kernel delete it. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#native.close();
    process.nextTick(() => this.emit('close'));
  }

  #setMacBytes(mac: Buffer): void {
    try {
      this.#native.setMac(mac);
    } catch (err) {
      throw tunTapErrorFromNative(err, 'set_mac', `cannot set MAC on ${this.name}`);
    }
  }

  #onRead(slabs: Buffer[], count: number): void {
    const meta = this.#meta;
    const packets = new Array<Buffer>(count);
    for (let i = 0, j = 0; i < count; i++, j += 3) {
      const offset = meta[j + 1];
      packets[i] = slabs[meta[j]].subarray(offset, offset + meta[j + 2]);
    }
    this.emit('packets', packets);
  }

  #onError(errno: number, syscall: string): void {
    const cause = Object.assign(new Error(`${syscall} failed (errno ${errno})`), { errno, syscall });
    this.emit('error', tunTapErrorFromNative(cause, 'start', `reading from ${this.name} failed, reading stopped`));
  }
}
