/**
 * Exact similarity of two vectors in Quiver's convention (higher is closer: cosine similarity, dot
 * product, negated Euclidean distance), for the few places where a translator scores vectors itself:
 * Qdrant's MMR re-ranking and Chroma queries restricted to documents or ids.
 */
import type { Metric } from "../core/schema/schema.js";

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

export function similarity(metric: Metric, a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (metric === "l2") {
    let s = 0;
    for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
    return -Math.sqrt(s);
  }
  if (metric === "dot") return dot(a, b);
  const norms = Math.sqrt(dot(a, a) * dot(b, b));
  return norms === 0 ? 0 : dot(a, b) / norms;
}
