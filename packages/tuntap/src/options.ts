import { parseMac, macBytes } from '@elink/protocol';
import { TunTapError } from './errors.js';

export type DeviceMode = 'tap' | 'tun';

export interface OpenOptions {
  mode: DeviceMode;
  /** Exact name, or a kernel pattern like 'el%d'. Default 'el%d' (tap) / 'elt%d' (tun). Max 15 chars. */
  name?: string;
  /** Applied via ioctl SIOCSIFMTU when given. */
  mtu?: number;
  /** TAP only, 'aa:bb:cc:dd:ee:ff', via SIOCSIFHWADDR. */
  mac?: string;
  /** Bring the link up (SIOCSIFFLAGS IFF_UP). Default false. */
  up?: boolean;
  /** Most packets handed to JS per readiness wake-up. Default 64. */
  batch?: number;
  /** Stop a wake-up's reads once this many bytes were read (the rest waits for the next
   * wake-up): bounds what one wake-up hands over when `batch` is large and packets are
   * 64 KiB super-frames. At least one packet is always read. Default 0: only `batch`. */
  readBytes?: number;
  /** Open with IFF_VNET_HDR and TSO/checksum offload: every packet read starts with a
   * 10-byte virtio_net_hdr (VNET_HDR_LENGTH) and may be a TCP super-frame of up to 64 KiB
   * (or a UDP one where the kernel takes USO: TunTapDevice.uso); write() expects one too
   * (writeManyPlain() adds a zero one). Default false. */
  offload?: boolean;
  /** Read into the same memory on every wake-up: the buffers of a 'packets' event are
   * valid only until the listener returns (copy what you keep). Saves an ArrayBuffer
   * per wake-up, and with it V8's full GCs at gigabit rates. Default false. */
  reuseBuffers?: boolean;
}

/** struct virtio_net_hdr without num_buffers (the size set with TUNSETVNETHDRSZ). */
export const VNET_HDR_LENGTH = 10;

/** IFNAMSIZ - 1: the kernel's limit on interface names. */
export const MAX_NAME_LENGTH = 15;
export const MIN_MTU = 68;
export const MAX_MTU = 65535;
export const MAX_BATCH = 4096;
export const DEFAULT_BATCH = 64;
/** The largest readBytes (1 GiB): a byte limit, not a buffer size. */
export const MAX_READ_BYTES = 1 << 30;

export function defaultName(mode: DeviceMode): string {
  return mode === 'tap' ? 'el%d' : 'elt%d';
}

/** Checks a name the way the kernel's dev_valid_name and dev_alloc_name do, with a better message. */
export function checkName(name: string): void {
  const fail = (why: string): never => {
    throw new TunTapError('invalid', `invalid interface name ${JSON.stringify(name)}: ${why}`);
  };
  if (name.length === 0) fail('it is empty');
  if (Buffer.byteLength(name) > MAX_NAME_LENGTH) fail(`it is longer than ${MAX_NAME_LENGTH} bytes`);
  if (!/^[\x21-\x7e]+$/.test(name)) fail('only printable ASCII without spaces is allowed');
  if (name === '.' || name === '..') fail('"." and ".." are reserved');
  if (/[/:]/.test(name)) fail('"/" and ":" are not allowed');
  const pct = name.indexOf('%');
  if (pct >= 0 && (name[pct + 1] !== 'd' || name.includes('%', pct + 2))) fail('a pattern may contain one "%d" only');
}

export function checkMtu(mtu: number): void {
  if (!Number.isInteger(mtu) || mtu < MIN_MTU || mtu > MAX_MTU) {
    throw new TunTapError('invalid', `invalid MTU ${mtu}: use an integer from ${MIN_MTU} to ${MAX_MTU}`);
  }
}

/** The 6 bytes of a unicast MAC given as text. */
export function macToBytes(mac: string): Buffer {
  let value: number;
  try {
    value = parseMac(mac);
  } catch (err) {
    throw new TunTapError('invalid', `invalid MAC ${JSON.stringify(mac)}: use the form aa:bb:cc:dd:ee:ff`, { cause: err });
  }
  const bytes = macBytes(value);
  if ((bytes[0] & 1) === 1 || value === 0) {
    throw new TunTapError('invalid', `invalid MAC ${mac}: a device needs a unicast, non-zero address (first byte even)`);
  }
  return bytes;
}

export interface CheckedOptions {
  mode: DeviceMode;
  name: string;
  mtu: number | undefined;
  mac: Buffer | undefined;
  up: boolean;
  batch: number;
  readBytes: number;
  offload: boolean;
  reuseBuffers: boolean;
}

export function checkOptions(opts: OpenOptions): CheckedOptions {
  if (opts.mode !== 'tap' && opts.mode !== 'tun') {
    throw new TunTapError('invalid', `invalid mode ${JSON.stringify(opts.mode)}: use 'tap' or 'tun'`);
  }
  const name = opts.name ?? defaultName(opts.mode);
  checkName(name);
  if (opts.mtu !== undefined) checkMtu(opts.mtu);
  if (opts.mac !== undefined && opts.mode !== 'tap') {
    throw new TunTapError('invalid', 'a MAC address applies to TAP devices only; drop the mac option for TUN');
  }
  const batch = opts.batch ?? DEFAULT_BATCH;
  if (!Number.isInteger(batch) || batch < 1 || batch > MAX_BATCH) {
    throw new TunTapError('invalid', `invalid batch ${batch}: use an integer from 1 to ${MAX_BATCH}`);
  }
  const readBytes = opts.readBytes ?? 0;
  if (!Number.isInteger(readBytes) || readBytes < 0 || readBytes > MAX_READ_BYTES) {
    throw new TunTapError('invalid', `invalid readBytes ${readBytes}: use an integer from 0 (no limit) to ${MAX_READ_BYTES}`);
  }
  return {
    mode: opts.mode,
    name,
    mtu: opts.mtu,
    mac: opts.mac === undefined ? undefined : macToBytes(opts.mac),
    up: opts.up ?? false,
    batch,
    readBytes,
    offload: opts.offload ?? false,
    reuseBuffers: opts.reuseBuffers ?? false,
  };
}
