/**
 * The one seeded pseudo-random generator of Quiver (mulberry32), for code, tests and benchmarks.
 * Deterministic across runtimes, so samples, graph levels and randomized tests replay exactly from
 * their seed. Not for anything secret.
 */

/** The state after `state`: mulberry32 advances a u32 by a fixed odd step. */
export function nextState(state: number): number {
  return (state + 0x6d2b79f5) >>> 0;
}

/** The float in [0, 1) that a state yields (mulberry32's output mix). */
export function stateToFloat(state: number): number {
  let t = Math.imul(state ^ (state >>> 15), state | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

/**
 * Returns a generator of floats in [0, 1) determined entirely by `seed`. Code that must persist
 * the state (an HNSW graph's level draws) keeps a u32 and calls nextState / stateToFloat instead.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = nextState(state);
    return stateToFloat(state);
  };
}
