/**
 * Cosine similarity of two plain vectors, in TypeScript: for the few places that compare a handful of
 * vectors outside an index (embedder checks, MMR re-ranking), where the kernels' slab layout does not apply.
 */

/** Cosine similarity of two vectors; 0 when either is zero (a zero vector is similar to nothing, not NaN). */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}
