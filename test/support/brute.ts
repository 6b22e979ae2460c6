/**
 * Brute-force oracles for tests: exact top-k by a plain double-precision loop, independent of
 * Quiver's kernels, slabs and heaps, so that a bug there cannot hide in both sides.
 */
export type Metric = "cosine" | "dot" | "l2";

export function similarity(metric: Metric, a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0, na = 0, nb = 0, l2 = 0;
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

/** Seeded PRNG (mulberry32) so that failures reproduce. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomVector(r: () => number, dim: number): number[] {
  return Array.from({ length: dim }, () => r() * 2 - 1);
}
