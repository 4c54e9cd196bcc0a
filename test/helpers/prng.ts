/**
 * The tests' seeded random numbers (mulberry32): small, fast, and the same sequence for
 * the same seed everywhere, so a failing random case is replayed from its seed.
 */

export type Random = () => number;

/** Numbers in [0, 1), a fixed sequence for each seed. */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}
