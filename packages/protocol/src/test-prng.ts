/**
 * Test support (not shipped: the package leaves dist/test-* out): mulberry32, a tiny
 * deterministic PRNG, so a fuzz test's failing seed can be replayed. For the fuzz tests
 * here and in @elink/transport.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
