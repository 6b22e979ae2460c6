/**
 * Fusion of ranked lists from several sources (BM25 and a vector) into one ranking, with each
 * hit's rank and score in every source kept for explanations.
 *
 * Methods:
 * - `zscore` (default): each source's score becomes a z-score against that source's score
 *   distribution over the whole collection for this query, `(s − mean) / std`, and the fused score
 *   is the weighted sum. Documents outside a source's list still get their true score from it.
 *   Why it is robust without tuning: a source whose best documents stand far out from the rest of
 *   the collection (BM25 with a rare matching term: z of 10 and more) outweighs one whose scores
 *   are spread evenly (a weak embedding: top z around 3), per query, so a weak source cannot
 *   drown a strong one, while two confident sources reinforce each other.
 * - `minmax`: each list's scores rescaled to [0, 1] between its last and first entries, then
 *   the weighted sum (the classic convex combination).
 * - `rrf`: reciprocal rank fusion, `Σ weight / (k + rank)` with ranks from 1; ignores scores, so
 *   a weak source's top ranks count as much as a strong one's (see docs/search.md for the figures).
 * Ties go to the lower slot.
 */

export type FusionMethod = "zscore" | "minmax" | "rrf";
export const FUSION_METHODS: readonly FusionMethod[] = ["zscore", "minmax", "rrf"];

export interface FusionOptions {
  method: FusionMethod;
  /** RRF's rank constant (default 60). */
  k: number;
  /** One weight per source, in the order of the sources. */
  weights: number[];
}

/** One source's ranked list, best first, with what score-based methods need. */
export interface FusionSource {
  slots: number[];
  scores: number[];
  /** Mean and standard deviation of the source's score over the collection (for `zscore`). */
  mean: number;
  std: number;
  /** The source's true score of any other candidate slot (for `zscore` and `minmax`). */
  scoreOf(slot: number): number | undefined;
}

export interface FusedHit {
  slot: number;
  score: number;
  /** Per source: 1-based rank and raw score, or null when the document was not in its list. */
  parts: ({ rank: number; score: number } | null)[];
}

export function fuse(sources: readonly FusionSource[], opts: FusionOptions): FusedHit[] {
  const bySlot = new Map<number, FusedHit>();
  sources.forEach((src, i) => {
    for (let r = 0; r < src.slots.length; r++) {
      const slot = src.slots[r];
      let h = bySlot.get(slot);
      if (!h) {
        h = { slot, score: 0, parts: sources.map(() => null) };
        bySlot.set(slot, h);
      }
      h.parts[i] = { rank: r + 1, score: src.scores[r] };
    }
  });
  const hits = [...bySlot.values()];
  sources.forEach((src, i) => {
    const w = opts.weights[i] ?? 1;
    if (opts.method === "rrf") {
      for (const h of hits) {
        const p = h.parts[i];
        if (p) h.score += w / (opts.k + p.rank);
      }
      return;
    }
    const n = src.scores.length;
    const hi = n > 0 ? src.scores[0] : 0;
    const lo = n > 0 ? src.scores[n - 1] : 0;
    for (const h of hits) {
      const s = h.parts[i]?.score ?? src.scoreOf(h.slot);
      if (s === undefined) continue;
      h.score +=
        opts.method === "zscore" ? (w * (s - src.mean)) / (src.std || 1) : w * clamp01((s - lo) / (hi - lo || 1));
    }
  });
  hits.sort((a, b) => b.score - a.score || a.slot - b.slot);
  return hits;
}

function clamp01(x: number): number {
  return x < 0 ? 0 : Math.min(x, 1);
}
