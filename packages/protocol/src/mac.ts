/**
 * MAC addresses as 48-bit numbers: a JS number holds them exactly, and a numeric
 * Map key is several times faster than a string key on the per-frame path.
 */

/** The MAC at `offset` of `buf` (6 bytes) as a number. */
export function macAt(buf: Uint8Array, offset: number): number {
  return (
    (buf[offset] * 0x10000000000) +
    (buf[offset + 1] * 0x100000000) +
    (((buf[offset + 2] << 24) >>> 0) + (buf[offset + 3] << 16) + (buf[offset + 4] << 8) + buf[offset + 5])
  );
}

/** True for group (broadcast and multicast) addresses: the I/G bit of the first byte. */
export function isGroupMac(buf: Uint8Array, offset: number): boolean {
  return (buf[offset] & 1) === 1;
}

export function parseMac(text: string): number {
  const m = /^([0-9a-fA-F]{2})[:-]?([0-9a-fA-F]{2})[:-]?([0-9a-fA-F]{2})[:-]?([0-9a-fA-F]{2})[:-]?([0-9a-fA-F]{2})[:-]?([0-9a-fA-F]{2})$/.exec(text);
  if (!m) throw new RangeError(`not a MAC address: ${JSON.stringify(text)}`);
  return macAt(Buffer.from(m.slice(1).join(''), 'hex'), 0);
}

export function formatMac(mac: number): string {
  return mac.toString(16).padStart(12, '0').replace(/(..)(?!$)/g, '$1:');
}

export function macBytes(mac: number): Buffer {
  return Buffer.from(mac.toString(16).padStart(12, '0'), 'hex');
}

export const BROADCAST_MAC = 0xffffffffffff;
