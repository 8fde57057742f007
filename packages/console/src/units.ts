/** Numbers as an operator reads them: SI prefixes, bits for rates, bytes (IEC) for volumes. */

const SI = ['', 'k', 'M', 'G', 'T', 'P'];

/** 1234 → "1.23 k"; keeps three significant digits; 0 and non-finite values plainly. */
export function si(value: number, unit: string): string {
  if (!Number.isFinite(value)) return `– ${unit}`;
  let v = Math.abs(value);
  let i = 0;
  while (v >= 999.5 && i < SI.length - 1) {
    v /= 1000;
    i++;
  }
  const digits = v === 0 || v >= 99.95 || i === 0 && Number.isInteger(v) ? 0 : v >= 9.995 ? 1 : 2;
  return `${value < 0 ? '-' : ''}${v.toFixed(digits)} ${SI[i]}${unit}`;
}

/** A rate in bytes per second, shown in bits per second (as links are sold). */
export const bitRate = (bytesPerSecond: number): string => si(bytesPerSecond * 8, 'bit/s');
export const bitRateBps = (bitsPerSecond: number): string => si(bitsPerSecond, 'bit/s');
export const packetRate = (pps: number): string => si(pps, 'pkt/s');

const IEC = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

export function bytes(n: number): string {
  if (!Number.isFinite(n)) return '–';
  let v = n;
  let i = 0;
  while (v >= 1023.5 && i < IEC.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(v >= 99.95 ? 0 : v >= 9.995 ? 1 : 2)} ${IEC[i]}`;
}

/** "3 h 2 min" since an ISO time, relative to `now` (ms). */
export function age(iso: string, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (!Number.isFinite(s)) return '–';
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}
