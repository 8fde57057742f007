/**
 * bufferutil's native XOR for WebSocket masking (the `ws` authors' addon, SIMD where the
 * CPU has it), when its prebuilt binary loads: 3–7× ws-frame.ts's word-wise loop on a
 * 64 KiB batch, but ~250 ns a call, so no gain below NATIVE_MASK_MIN bytes. Its own
 * pure-JS fallback (no binary for this platform) XORs byte by byte, slower than ours: then
 * this is undefined and ws-frame.ts keeps its loop.
 */
import { createRequire } from 'node:module';

/** XORs all of `buf` with the 4-byte `key`, key byte 0 at buf[0]. */
export type NativeUnmask = (buf: Buffer, key: Buffer) => void;

/** Runs shorter than this are masked in JS: the call costs more than it saves below ~1–2 KiB (docs/benchmarks.md). */
export const NATIVE_MASK_MIN = 2048;

export const nativeUnmask: NativeUnmask | undefined = load();

function load(): NativeUnmask | undefined {
  if (process.env.ELINK_WS_NATIVE_MASK === '0') return undefined;
  const require = createRequire(import.meta.url);
  try {
    const lib = require('bufferutil') as { unmask: NativeUnmask };
    const fallback = require('bufferutil/fallback') as { unmask: NativeUnmask };
    return lib.unmask === fallback.unmask ? undefined : lib.unmask;
  } catch {
    return undefined;
  }
}
