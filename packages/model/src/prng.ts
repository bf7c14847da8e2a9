/**
 * A small seeded PRNG (mulberry32), uniform in [0, 1): the same seed always gives the same sequence. For
 * simulations, fault injection and seeded tests; never for anything secret.
 *
 * @example
 * const random = createPrng(42);
 * const roll = Math.floor(random() * 6) + 1;
 */
export function createPrng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 0x1_0000_0000;
  };
}
