/**
 * Merging shards' answers into one, pure. A single-source query (one vector, or text) merges the
 * shards' top lists by score: every shard ranks its own records exactly as one node would, so the
 * merged top k is one node's top k (BM25 included: every shard scores with the collection's summed
 * term statistics, src/cluster/query-plan.ts).
 * A query fusing several sources merges each source's lists first, then fuses the merged lists with
 * the core's fusion, which is what one node does with the same lists; reciprocal rank fusion needs
 * nothing beyond the lists, z-score and min-max also each source's collection-wide statistics and
 * its scores of the other lists' documents (asked of the shards: src/cluster/query-plan.ts).
 */
import type { Hit, HitExplain, QueryPlan } from "../api/query.js";
import { type FusionMethod, fuse } from "../core/query/fusion/fuse.js";

export type SourceName = "text" | "vector" | "sparse";

const byId = (a: Hit, b: Hit): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
const byScore = (a: Hit, b: Hit): number => b.score - a.score || byId(a, b);

/**
 * The first `k` hits of the shards' lists by score (ties by id). With `grouped`, the best hit per
 * group value (hits without one stand alone), which is one node's answer when every shard returned
 * its own first `k` groups.
 */
export function mergeTop(lists: readonly Hit[][], k: number, grouped: boolean): Hit[] {
  const all = lists.flat().sort(byScore);
  if (!grouped) return all.slice(0, k).map(rankedAt);
  const seen = new Set<string>();
  const out: Hit[] = [];
  for (const hit of all) {
    if (hit.group !== undefined && hit.group !== null) {
      const key = JSON.stringify(hit.group);
      if (seen.has(key)) continue;
      seen.add(key);
    }
    out.push(hit);
    if (out.length === k) break;
  }
  return out;
}

/**
 * The hit with the rank its explanation gives (a shard's own) set to its rank `i` in the merged list.
 * (A grouped hit keeps its shard's rank: the merged ranking of the hits a group hides is not known.)
 */
function rankedAt(hit: Hit, i: number): Hit {
  if (!hit.explain) return hit;
  const explain: HitExplain = { ...hit.explain };
  for (const source of ["text", "vector", "sparse"] as const) {
    const part = explain[source];
    if (part) explain[source] = { ...part, rank: i + 1 };
  }
  return { ...hit, explain };
}

/** A merged per-source list, with what z-score and min-max fusion read besides its scores. */
export interface MergedSource {
  name: SourceName;
  hits: Hit[];
  weight: number;
  /** The source's mean and deviation over the collection (summed from the shards' parts). */
  mean?: number;
  std?: number;
  /** The source's true score of the other lists' records (by id) that its own list lacks. */
  scoreOf?: Map<string, number | undefined>;
}

/**
 * Fusion of merged per-source lists (each best first), as one node fuses its own (core fusion):
 * the first `k` fused hits, each explained per source when asked.
 */
export function fuseLists(
  sources: MergedSource[],
  fusion: { method: FusionMethod; k: number },
  k: number,
  explain: boolean,
): Hit[] {
  const slotOf = new Map<string, number>();
  const records: Hit[] = [];
  for (const source of sources)
    for (const hit of source.hits)
      if (!slotOf.has(hit.id)) {
        slotOf.set(hit.id, records.length);
        records.push(hit);
      }
  const fused = fuse(
    sources.map((s) => ({
      slots: s.hits.map((h) => slotOf.get(h.id) as number),
      scores: s.hits.map((h) => h.score),
      mean: s.mean ?? 0,
      std: s.std ?? 1,
      scoreOf: (slot: number) => s.scoreOf?.get(records[slot].id),
    })),
    { method: fusion.method, k: fusion.k, weights: sources.map((s) => s.weight) },
  );
  const label = fusion.method === "rrf" ? `rrf(k=${fusion.k})` : fusion.method;
  // Ties in fused score go by id (one node breaks them by its internal slot order, unknown here).
  fused.sort((a, b) => b.score - a.score || byId(records[a.slot], records[b.slot]));
  return fused.slice(0, k).map((f) => {
    const { explain: _explain, score: _score, ...record } = records[f.slot];
    const hit: Hit = { ...record, score: f.score };
    if (explain) {
      const parts: HitExplain = { fusion: label };
      sources.forEach((s, i) => {
        parts[s.name] = f.parts[i];
      });
      hit.explain = parts;
    }
    return hit;
  });
}

/** One plan for the merged answer: the first shard's, with counts summed over the shards. */
export function mergePlans(plans: readonly QueryPlan[], fusion?: string): QueryPlan {
  const first = plans[0];
  const plan: QueryPlan = {
    ...first,
    candidates: plans.reduce((n, p) => n + p.candidates, 0),
    usedIndexes: plans.some((p) => p.usedIndexes),
    payloadsChecked: plans.reduce((n, p) => n + p.payloadsChecked, 0),
  };
  const text = plans.find((p) => p.text)?.text;
  if (text) plan.text = { ...text, matched: plans.reduce((n, p) => n + (p.text?.matched ?? 0), 0) };
  if (fusion !== undefined) {
    plan.strategy = "hybrid";
    plan.fusion = fusion;
  }
  return plan;
}
