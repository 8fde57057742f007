/** Test helper: Ethernet frames from numeric MACs. Only for tests. */
import { macBytes } from '@elink/protocol';

export const BROADCAST = 0xffffffffffff;

export function ethFrame(dst: number, src: number, payload: string | Buffer = 'hello', ethertype = 0x88b5): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const f = Buffer.alloc(14 + body.length);
  macBytes(dst).copy(f, 0);
  macBytes(src).copy(f, 6);
  f.writeUInt16BE(ethertype, 12);
  body.copy(f, 14);
  return f;
}

export function mac(n: number): number {
  return 0x020000000000 + n;
}
