// Test helpers: payloads that carry a tag and a pattern derived from it, so a receiver
// can tell which one arrived and that it arrived intact. Not part of the package build.

/** `size` bytes (at least 4): the tag big-endian, then (tag·7 + i) & 0xff. */
export function taggedPayload(tag: number, size = 64): Buffer {
  const b = Buffer.allocUnsafe(Math.max(4, size));
  b.writeUInt32BE(tag >>> 0, 0);
  for (let i = 4; i < b.length; i++) b[i] = (tag * 7 + i) & 0xff;
  return b;
}

/** The tag of a payload from taggedPayload; throws if any byte differs from the pattern. */
export function tagOf(payload: Buffer): number {
  if (payload.length < 4) throw new Error(`payload of ${payload.length} bytes carries no tag`);
  const tag = payload.readUInt32BE(0);
  for (let i = 4; i < payload.length; i++) {
    if (payload[i] !== ((tag * 7 + i) & 0xff)) throw new Error(`payload tagged ${tag} is corrupt at byte ${i} of ${payload.length}`);
  }
  return tag;
}

/** Resolves when `cond()` holds; rejects after `timeoutMs` with `what` (every wait is bounded). */
export async function until(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** One turn of the event loop: every setImmediate armed before has run. */
export const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r));
