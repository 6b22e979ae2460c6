/**
 * A shard's part of a z-score or min-max fused query over a sharded collection (the router's side:
 * src/cluster/query-plan.ts). Per source, the statistics one node computes over its whole
 * collection, in a form that sums over shards: text, the BM25 sums over this shard's documents
 * and the collection's population (given its summed term statistics); a vector or a sparse
 * vector, the LevelStats of the id-hash sample (sample-stats.ts). And, when asked, each source's
 * true score of the records (by id) that another source's list has and its own has not, as one
 * node scores them (then the vectors' statistics are not computed again).
 * Loaded on demand: only a cluster's shards need it.
 */
import type { TermStats } from "../core/index/bm25/term-stats.js";
import type { CollectionState } from "./collection-state.js";
import { SAMPLE, levels, sampled } from "./sample-stats.js";
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

export function fusionParts(
  state: CollectionState,
  spec: SearchSpec,
  call: { textStats?: TermStats },
  wanted?: ScoresWanted,
): FusionParts {
  if (spec.text && call.textStats) spec.text.stats = call.textStats;
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
    const named = state.vectors.get(name)!;
    if (!wanted) {
      const { from, slots: candidates } = sampled(state, (s) => named.live[s] === 1);
      const r = flatSearch(named.slab, query, candidates.length, {
        count: state.highWater,
        live: named.live,
        candidates,
        deadline: spec.deadline,
      });
      out.stats.vector = byLevel(state, from, r.slots, r.scores);
    }
    if (wanted?.vector) {
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
    const index = state.sparse.get(name)!;
    if (!wanted) {
      const { from, slots } = sampled(state, (s) => index.get(s) !== undefined);
      const scores = Array.from(slots, (s) => index.score(s, query) as number);
      out.stats.sparse = byLevel(state, from, slots, scores);
    }
    if (wanted?.sparse) {
      scores.sparse = slotsOf(wanted.sparse).map((s) => (s < 0 ? null : (index.score(s, query) ?? null)));
    }
  }
  return out;
}

/**
 * Per level `from + i`: records of that level or more (`total`), and the count, sum and sum of
 * squares of the scores of those among them that have the source's vector.
 */
export interface LevelStats {
  from: number;
  total: number[];
  n: number[];
  sum: number[];
  sumSq: number[];
}

function byLevel(
  state: CollectionState,
  from: number,
  slots: ArrayLike<number>,
  scores: ArrayLike<number>,
): LevelStats {
  const size = Math.max(0, 33 - from);
  const { end, level } = levels(state);
  const zeros = () => Array(size).fill(0);
  const out: LevelStats = {
    from,
    total: zeros().map((_, at) => end[from + at]),
    n: zeros(),
    sum: zeros(),
    sumSq: zeros(),
  };
  for (let i = 0; i < slots.length; i++) {
    const at = 32 - level[slots[i]] - from;
    out.n[at]++;
    out.sum[at] += scores[i];
    out.sumSq[at] += scores[i] * scores[i];
  }
  // Each level's sums are its own, then plus every higher level's.
  for (let at = size - 2; at >= 0; at--) {
    out.n[at] += out.n[at + 1];
    out.sum[at] += out.sum[at + 1];
    out.sumSq[at] += out.sumSq[at + 1];
  }
  return out;
}

/** Mean and deviation of the sample that one node holding every shard's records would take (their LevelStats summed). */
export function sampleMoments(parts: readonly LevelStats[]): { mean: number; std: number } {
  const from = Math.max(0, ...parts.map((p) => p.from));
  for (let l = from; l <= 32; l++) {
    let [total, n, sum, sumSq] = [0, 0, 0, 0];
    for (const p of parts) {
      total += p.total[l - p.from];
      n += p.n[l - p.from];
      sum += p.sum[l - p.from];
      sumSq += p.sumSq[l - p.from];
    }
    if (total > SAMPLE && l < 32) continue;
    if (n === 0) break;
    const mean = sum / n;
    return { mean, std: Math.sqrt(Math.max(0, sumSq / n - mean * mean)) };
  }
  return { mean: 0, std: 1 };
}
