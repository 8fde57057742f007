import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mulberry32 as rng } from '../../protocol/src/test-prng.js';
import { NATIVE_MASK_MIN } from './native-mask.js';

type Mask = (buf: Uint8Array, start: number, end: number, key: Uint8Array, phase: number) => number;

/** ws-frame.ts's maskInPlace, loaded afresh with ELINK_WS_NATIVE_MASK as given. */
async function maskWith(native: boolean): Promise<{ mask: Mask; loaded: boolean }> {
  vi.resetModules();
  if (native) delete process.env.ELINK_WS_NATIVE_MASK;
  else process.env.ELINK_WS_NATIVE_MASK = '0';
  const [{ maskInPlace }, { nativeUnmask }] = await Promise.all([import('./ws-frame.js'), import('./native-mask.js')]);
  return { mask: maskInPlace, loaded: nativeUnmask !== undefined };
}

describe('native WebSocket masking (bufferutil)', () => {
  const saved = process.env.ELINK_WS_NATIVE_MASK;
  afterEach(() => {
    if (saved === undefined) delete process.env.ELINK_WS_NATIVE_MASK;
    else process.env.ELINK_WS_NATIVE_MASK = saved;
    vi.resetModules();
  });

  it.runIf(process.platform === 'linux' && process.arch === 'x64')('loads its prebuilt binary where we ship one (linux x64), and ELINK_WS_NATIVE_MASK=0 turns it off', async () => {
    expect((await maskWith(true)).loaded).toBe(true);
    expect((await maskWith(false)).loaded).toBe(false);
  });

  for (const native of [true, false]) {
    it(`${native ? 'native' : 'JS'}: masks runs on both sides of ${NATIVE_MASK_MIN} bytes at every alignment and phase exactly as byte by byte`, async () => {
      const { mask } = await maskWith(native);
      const next = rng(native ? 11 : 12);
      const backing = Buffer.allocUnsafeSlow(3 * NATIVE_MASK_MIN + 64);
      for (let i = 0; i < 300; i++) {
        const off = Math.floor(next() * 8);
        const start = Math.floor(next() * 64);
        const end = start + Math.floor(next() * 3 * NATIVE_MASK_MIN);
        const key = randomBytes(4);
        const phase = Math.floor(next() * 4);
        randomBytes(backing.length).copy(backing);
        const before = Buffer.from(backing);
        const view = backing.subarray(off, off + end);
        const want = Buffer.from(view);
        for (let j = start; j < end; j++) want[j] = want[j]! ^ key[(phase + j - start) & 3]!;
        expect(mask(view, start, end, key, phase)).toBe((phase + end - start) & 3);
        expect(view.equals(want), `length ${end - start}, phase ${phase}, offset ${off}`).toBe(true);
        // What lies outside [start, end) is untouched.
        expect(backing.subarray(0, off + start).equals(before.subarray(0, off + start))).toBe(true);
        expect(backing.subarray(off + end).equals(before.subarray(off + end))).toBe(true);
      }
    });
  }
});
