/** The workload no-simd-child.ts writes and no-simd.test.ts checks: seeded vectors, recomputable by both. */

export const NO_SIMD_WORKLOAD = { count: 600, dim: 16, queries: 20, k: 10, seed: 7 };

/** `n` vectors of `dim` from a small LCG: the same numbers in every process and runtime. */
export function seededVectors(n: number, dim: number, seed: number): Float32Array[] {
  let s = seed >>> 0;
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
  return Array.from({ length: n }, () => Float32Array.from({ length: dim }, next));
}
