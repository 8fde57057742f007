import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TunTapError } from './errors.js';

/** The addon's Device (native/device.h); errors are thrown as Error with `errno` and `syscall`. */
export interface NativeDevice {
  name(): string;
  /** The kernel took TUN_F_USO4 | TUN_F_USO6 (offload on Linux >= 6.2): UDP super-frames both ways. */
  uso(): boolean;
  /** (slab index, offset, length) per packet of the current `onread` batch. */
  meta(): Uint32Array;
  /** rxPackets, rxBytes, txPackets, txBytes, txDropped. */
  stats(): Float64Array;
  start(): void;
  stop(): void;
  close(): void;
  /** 0, or the errno of the failed write(2). addHeader: prepend a zero virtio_net_hdr (offload devices). */
  write(packet: Uint8Array, addHeader?: boolean): number;
  writeMany(packets: readonly Uint8Array[], addHeader?: boolean): number;
  setMtu(mtu: number): void;
  setMac(mac: Uint8Array): void;
  setUp(up: boolean): void;
  onread?: (slabs: Buffer[], count: number) => void;
  onerror?: (errno: number, syscall: string) => void;
}

/** The addon's Proto41Socket (native/proto41-socket.h): a raw IPv4 protocol-41 socket. */
export interface NativeProto41Socket {
  /** (offset, length, outer source, outer destination) per inner packet of the current `onread` batch. */
  meta(): Uint32Array;
  /** rxPackets, rxBytes, txPackets, txBytes, txDropped, rxBad. */
  stats(): Float64Array;
  start(): void;
  stop(): void;
  close(): void;
  /** One sendmmsg per 256 packets to `dst` (0: the connected peer) from `src` (0: the kernel's choice); returns how many were sent. */
  sendMany(packets: readonly Uint8Array[], dst: number, src: number): number;
  onread?: (slab: Buffer, count: number) => void;
  onerror?: (errno: number, syscall: string) => void;
}

export interface NativeBinding {
  Device: new (mode: 0 | 1, name: string, batch: number, offload?: boolean, reuse?: boolean, readBytes?: number) => NativeDevice;
  Proto41Socket: new (batch: number, slot: number, ttl: number, bufferBytes: number, local: number, remote: number) => NativeProto41Socket;
}

let binding: NativeBinding | undefined;

/**
 * Loads build/Release/tuntap.node lazily, so importing the package works on a
 * machine without the addon until a device is actually opened. The package
 * root is found by walking up from this file, which sits in src/ (vitest) or
 * dist/ (compiled).
 */
export function loadBinding(): NativeBinding {
  if (binding !== undefined) return binding;
  const require = createRequire(import.meta.url);
  const here = dirname(fileURLToPath(import.meta.url));
  const roots = [dirname(here), here, dirname(dirname(here))];
  for (const root of roots) {
    for (const variant of ['Release', 'Debug']) {
      const file = join(root, 'build', variant, 'tuntap.node');
      if (existsSync(file)) {
        binding = require(file) as NativeBinding;
        return binding;
      }
    }
  }
  throw new TunTapError(
    'io',
    `the @elink/tuntap native addon is not built (no build/Release/tuntap.node under ${dirname(here)}); ` +
      'run "npm rebuild @elink/tuntap" (needs g++, make, python3 and the Node headers)',
  );
}
