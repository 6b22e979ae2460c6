// Tuning a graph's beam width to a target recall, the same way for every engine: the smallest ef on a
// fixed ladder whose recall on the tuning queries (split.ts) reaches the target. Used by the server bench
// for Quiver's `ef` and Chroma's `ef_search` alike.

/** The beam widths tried (Quiver's ef, Chroma's ef_search). */
export const EF_LADDER = [8, 10, 12, 16, 20, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 256, 384, 512];

export interface Tuned {
  ef: number;
  /** The recall at `ef` on the tuning queries. */
  tuneRecall: number;
  /** False when even the largest ef stays below the target (then `ef` is the largest). */
  reached: boolean;
}

/**
 * The smallest ef on `ladder` whose recall reaches `target`, by binary search (recall grows with ef, so
 * an engine costs a few measurements, which matters when each ef_search means a new Chroma collection).
 * `recallAt` should cache: the chosen ef is asked for again to report its recall.
 */
export async function smallestEf(
  target: number,
  recallAt: (ef: number) => Promise<number>,
  ladder: readonly number[] = EF_LADDER,
): Promise<Tuned> {
  let lo = 0;
  let hi = ladder.length - 1;
  const top = await recallAt(ladder[hi]);
  if (top < target) return { ef: ladder[hi], tuneRecall: top, reached: false };
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((await recallAt(ladder[mid])) >= target) hi = mid;
    else lo = mid + 1;
  }
  return { ef: ladder[lo], tuneRecall: await recallAt(ladder[lo]), reached: true };
}
