/**
 * Brute-force oracles for tests: exact top-k by a plain double-precision loop, independent of
 * Quiver's kernels, slabs and heaps, so that a bug there cannot hide in both sides.
 */
import { seededRandom } from "../../src/core/util/prng.js";

export type Metric = "cosine" | "dot" | "l2";

export function similarity(metric: Metric, a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0,
    na = 0,
    nb = 0,
    l2 = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
    l2 += (a[i] - b[i]) ** 2;
  }
  if (metric === "dot") return dot;
  if (metric === "cosine") return dot / Math.sqrt(na * nb);
  return -Math.sqrt(l2);
}

/** Exact top-k ids with scores, ties broken by id for determinism. */
export function bruteTopK(
  metric: Metric,
  records: Iterable<{ id: string; vector: ArrayLike<number> }>,
  q: ArrayLike<number>,
  k: number,
): { id: string; score: number }[] {
  const all = [...records].map((r) => ({ id: r.id, score: similarity(metric, r.vector, q) }));
  all.sort((x, y) => y.score - x.score || (x.id < y.id ? -1 : 1));
  return all.slice(0, k);
}

/** Seeded PRNG so that failures reproduce. */
export const rng = seededRandom;

export function randomVector(r: () => number, dim: number): number[] {
  return Array.from({ length: dim }, () => r() * 2 - 1);
}
