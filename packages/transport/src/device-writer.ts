/**
 * Writes a tick's frames to a TAP/TUN device in one native call (writeMany). On an
 * offload device FRAME_GSO payloads (virtio_net_hdr first) go as they are and plain
 * FRAMEs get a zero header (writeManyPlain); a plain device takes FRAMEs only. What the
 * kernel refuses (its queue full, the link down) is returned, and the queue counts it as
 * `device_drop`. The device's writes are synchronous: no backlog.
 */
import { RecordType } from '@elink/protocol';
import type { TunTapDevice } from '@elink/tuntap';
import type { Writer } from './writer.js';

export class DeviceWriter implements Writer {
  readonly framesOnly = true;
  private readonly run: Buffer[] = [];

  constructor(readonly device: TunTapDevice) {}

  write(types: readonly number[], payloads: readonly Buffer[], _bytes: number): number {
    const n = payloads.length;
    const device = this.device;
    if (device.closed) return n;
    let written = 0;
    if (!device.offload) {
      if (allOf(types, RecordType.FRAME)) return n - device.writeMany(payloads);
      // A plain device cannot take FRAME_GSO (a virtio_net_hdr first): refused.
      for (let i = 0; i < n; i++) if (types[i] === RecordType.FRAME) this.run.push(payloads[i]);
      written = this.run.length > 0 ? device.writeMany(this.run) : 0;
      this.run.length = 0;
      return n - written;
    }
    // Runs of the same kind, in order: one native call per run (one in the common case).
    for (let start = 0; start < n; ) {
      const gso = types[start] === RecordType.FRAME_GSO;
      let end = start + 1;
      while (end < n && (types[end] === RecordType.FRAME_GSO) === gso) end++;
      let batch: readonly Buffer[];
      if (start === 0 && end === n) batch = payloads;
      else {
        for (let i = start; i < end; i++) this.run.push(payloads[i]);
        batch = this.run;
      }
      written += gso ? device.writeMany(batch) : device.writeManyPlain(batch);
      this.run.length = 0;
      start = end;
    }
    return n - written;
  }

  backlog(): number {
    return 0;
  }
}

function allOf(types: readonly number[], t: number): boolean {
  for (let i = 0; i < types.length; i++) if (types[i] !== t) return false;
  return true;
}
