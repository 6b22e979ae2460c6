/**
 * Vectors placed on purpose for the framework store tests: a query direction, others at a chosen
 * cosine from it, so a test can say which hit vector search ranks where.
 */
export const unit = (v: number[]) => {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
};

/** A unit vector orthogonal to the unit vector q and to those in `also` (Gram-Schmidt on a basis vector). */
export function orthogonal(q: number[], axis: number, also: number[][] = []): number[] {
  let v: number[] = q.map((_, i) => (i === axis ? 1 : 0));
  for (const u of [q, ...also]) {
    const d = v.reduce((s, x, i) => s + x * u[i], 0);
    v = v.map((x, i) => x - d * u[i]);
  }
  return unit(v);
}

/** The unit vector at cosine `cos` from the unit vector q, turned towards the orthogonal unit vector o. */
export const atCosine = (q: number[], o: number[], cos: number) =>
  q.map((x, i) => cos * x + Math.sqrt(1 - cos * cos) * o[i]);
