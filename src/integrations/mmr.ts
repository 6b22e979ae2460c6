/**
 * Maximal marginal relevance (Carbonell and Goldstein, 1998) over cosine similarity: the selection
 * both framework stores use to diversify results. Pure: vectors in, indexes out.
 */

import { cosine } from "../core/vectors/cosine.js";

/**
 * The indexes of up to k candidates, in the order picked: first the closest to the query, then each
 * time the one maximising `lambda * sim(query, c) - (1 - lambda) * max sim(c, picked)`. lambda 1 is
 * plain similarity order; lambda 0 is maximal diversity.
 */
export function maximalMarginalRelevance(
  query: ArrayLike<number>,
  candidates: readonly ArrayLike<number>[],
  k: number,
  lambda: number,
): number[] {
  const toQuery = candidates.map((c) => cosine(query, c));
  // The highest similarity of each candidate to any picked one, updated after each pick.
  const toPicked = new Array<number>(candidates.length).fill(Number.NEGATIVE_INFINITY);
  const picked: number[] = [];
  const free = new Set(candidates.keys());
  while (picked.length < Math.min(k, candidates.length)) {
    let best = -1;
    let bestScore = Number.NEGATIVE_INFINITY;
    for (const i of free) {
      // The first pick is the closest whatever lambda (with lambda 0 every score would tie at 0).
      const score = picked.length === 0 ? toQuery[i] : lambda * toQuery[i] - (1 - lambda) * toPicked[i];
      if (score > bestScore) {
        best = i;
        bestScore = score;
      }
    }
    picked.push(best);
    free.delete(best);
    for (const i of free) toPicked[i] = Math.max(toPicked[i], cosine(candidates[i], candidates[best]));
  }
  return picked;
}
