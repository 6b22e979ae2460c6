/**
 * A shard's part of a z-score or min-max fused query over a sharded collection (the router's side:
 * src/cluster/query-plan.ts). Per source, the statistics one node computes over its whole
 * collection, in a form that sums over shards: text, the BM25 sums over this shard's documents
 * and the collection's population (given its summed term statistics); a vector or a sparse vector, the LevelStats of the id-hash sample. And, when
 * asked, each source's true score of the records (by id) that another source's list has and its
 * own has not, as one node scores them (then the vectors' statistics are not computed again).
 * Loaded on demand: only a cluster's shards need it.
 */
import type { CollectionState } from "./collection-state.js";
import { type LevelStats, sparseLevels, vectorLevels } from "./sample-stats.js";
import type { SearchSpec } from "./search.js";
import { flatSearch } from "../core/index/flat/flat-search.js";

export interface FusionParts {
  stats: { text?: TextMoments; vector?: LevelStats; sparse?: LevelStats };
  /** Per source, the scores of the ids asked (null: the record is gone or has no such vector). */
  scores?: { text?: (number | null)[]; vector?: (number | null)[]; sparse?: (number | null)[] };
}

/** BM25 scores' sum and sum of squares over this shard, its documents matched and the collection's population. */
export interface TextMoments {
  sum: number;
  sumSq: number;
  matched: number;
  population: number;
}

export type ScoresWanted = { text?: string[]; vector?: string[]; sparse?: string[] };

export function fusionParts(state: CollectionState, spec: SearchSpec, wanted?: ScoresWanted): FusionParts {
  const slotsOf = (ids: string[] | undefined) => (ids ?? []).map((id) => state.ids.get(id) ?? -1);
  const scores: NonNullable<FusionParts["scores"]> = {};
  const out: FusionParts = { stats: {}, ...(wanted && { scores }) };
  if (spec.text && state.text) {
    const slots = slotsOf(wanted?.text);
    const r = state.text.search(spec.text.query, 1, {
      fields: spec.text.fields,
      highWater: state.highWater,
      scoresFor: slots.map((s) => Math.max(s, 0)),
      deadline: spec.deadline,
      stats: spec.text.stats,
    });
    // The index averages over max(population, matched, 1) documents: its sums, from its mean and deviation.
    const n = Math.max(r.population, r.matched, 1);
    const sumSq = (r.std * r.std + r.mean * r.mean) * n;
    out.stats.text = { sum: r.mean * n, sumSq, matched: r.matched, population: r.population };
    if (wanted?.text) scores.text = r.extraScores.map((x, i) => (slots[i] < 0 ? null : x));
  }
  if (spec.vector) {
    const { name, query } = spec.vector;
    if (!wanted) out.stats.vector = vectorLevels(state, name, query, spec.deadline);
    if (wanted?.vector) {
      const named = state.vectors.get(name)!;
      const slots = slotsOf(wanted.vector);
      const candidates = Uint32Array.from(slots.filter((s) => s >= 0 && named.live[s] === 1));
      const r = flatSearch(named.slab, query, candidates.length, {
        count: state.highWater,
        live: named.live,
        candidates,
        deadline: spec.deadline,
      });
      const bySlot = new Map(r.slots.map((s, i) => [s, r.scores[i]]));
      scores.vector = slots.map((s) => bySlot.get(s) ?? null);
    }
  }
  if (spec.sparse) {
    const { name, query } = spec.sparse;
    if (!wanted) out.stats.sparse = sparseLevels(state, name, query);
    if (wanted?.sparse) {
      const index = state.sparse.get(name)!;
      scores.sparse = slotsOf(wanted.sparse).map((s) => (s < 0 ? null : (index.score(s, query) ?? null)));
    }
  }
  return out;
}
