// The vector-search planner, the only one: exact scan or graph search per query, filter-aware
// traversal chosen by selectivity, or a filter tested per slot (no match set built) either lazily on
// the graph's candidates or in one exact pass, widening when too few hits come back, and an exact
// fallback that makes "k hits whenever k records match" a guarantee. Returns the plan it used, for
// query explanations.
//
// The planner is written as generators that yield each graph search they need (a GraphCall) and resume
// with its hits: the same plan runs on the calling thread (runHere, HnswIndex.search) or with its graph
// searches in search lanes of other threads (src/core/index/hnsw/parallel.ts), one code path for both.

import { flatSearch } from "../../index/flat/flat-search.js";
import type { HnswHits, HnswIndex, HnswSearchOptions } from "../../index/hnsw/hnsw.js";
import { countAllowed, hasSlot, type SlotBitmap } from "../../index/slot-bitmap.js";
import type { Deadline } from "../../util/deadline.js";
import type { VectorSlab } from "../../vectors/slab.js";

/** Below this many live records a collection is searched exactly (the graph would not pay for itself). */
export const ANN_MIN_RECORDS = 10_000;
/**
 * A filter matching at most this many records is answered by an exact scan of them. Past a few
 * thousand matches a filter-aware (ACORN) walk is cheaper, but at low selectivity it loses recall:
 * at 1% of 1M × 128 (10,000 matches) it found 0.85 of the true top 10 at the ef that gives 0.96
 * unfiltered, where scoring them all exactly gave 1.0 at 307 q/s on an indexed field (bench/RESULTS.md,
 * scale).
 */
export const EXACT_FILTER_MAX = 16_384;
/** Below this selectivity the graph search hops over non-matching nodes (ACORN-style); above, it walks all. */
export const ACORN_BELOW = 0.25;
const MAX_WIDENINGS = 2;
/** Above this many live slots, a bitmap given without a count has its matches estimated from a sample of it. */
const COUNT_SAMPLE_ABOVE = 65536;
const COUNT_SAMPLE = 4096;

/** One graph search a plan asks for; the driver resumes the plan with its hits. */
export interface GraphCall {
  index: HnswIndex;
  query: Float32Array;
  k: number;
  opts: HnswSearchOptions;
}

/** A plan in steps: yields the graph searches it needs, returns its answer. */
export type PlanSteps<T> = Generator<GraphCall, T, HnswHits>;

/** Runs a plan with its graph searches on this thread. */
export function runHere<T>(steps: PlanSteps<T>): T {
  let step = steps.next();
  while (!step.done) {
    const c = step.value;
    step = steps.next(c.index.search(c.query, c.k, c.opts));
  }
  return step.value;
}

export type AnnStrategy = "exact" | "exact-filtered" | "hnsw" | "hnsw-filtered" | "hnsw-acorn" | "hnsw-lazy";

/**
 * A filter tested slot by slot (a compiled predicate over the payload), never turned into a set. With
 * `lazy`, the graph search tests its candidates best first until k pass, the beam widened by the
 * inverse of the estimated selectivity; when that comes up short, or without `lazy`, one exact pass
 * over every live slot tests each and keeps the k best that pass.
 */
export interface SlotFilter {
  accept(slot: number): boolean;
  /** Estimated live records matching (what the plan reports). */
  estimate: number;
  /** A lower bound on them: the lazy beam is ef · live / low, wide enough when the estimate is high. */
  low: number;
  /** Try the graph's candidates first (`hnsw-lazy`); false = the exact pass straight away. */
  lazy: boolean;
}

/** A filter's matches: the bitmap, and how many live records it holds. */
export interface MatchSet {
  bits: SlotBitmap;
  count: number;
}

export interface AnnPlan {
  strategy: AnnStrategy;
  /** Live records the filter matches (given by the caller, or counted or estimated on the bitmap); null without a filter. */
  matches: number | null;
  /** The ef of the last graph search (0 for exact plans). */
  ef: number;
  /** How many times the graph search was retried with 4× the ef because it found fewer than k hits. */
  widenings: number;
  /** True when the graph still came up short and the answer came from an exact scan of the matches. */
  fellBack: boolean;
  /** Nodes scored by the graph searches. */
  visited: number;
}

export interface AnnQuery {
  k: number;
  ef?: number;
  /** Bitmap of allowed slots; absent = no filter. */
  filter?: SlotBitmap;
  /** How many live records match, when the caller has counted them; counted on the bitmap when absent (sampled on large ones). */
  matches?: number;
  /** A filter tested per slot instead of a bitmap (see SlotFilter); ignored when `filter` is given. */
  predicate?: SlotFilter;
  /** "exact" or "hnsw" forces the strategy family; "auto" (default) decides by size and selectivity. */
  force?: "auto" | "exact" | "hnsw";
  /** Checked before each graph search and between the chunks of an exact scan. */
  deadline?: Deadline;
}

export interface AnnResult {
  slots: number[];
  scores: number[];
  plan: AnnPlan;
}

/**
 * Answers one query over an HNSW index and its slab, choosing the plan.
 *
 * @example
 * const { slots, scores, plan } = annSearch(index, q, { k: 10, filter: bitmapOf(matching, capacity) });
 * plan.strategy; // "hnsw-acorn"
 */
export function annSearch(index: HnswIndex, query: Float32Array, q: AnnQuery): AnnResult {
  return runHere(annSteps(index, query, q));
}

/** annSearch() in steps (see PlanSteps). */
export function* annSteps(index: HnswIndex, query: Float32Array, q: AnnQuery): PlanSteps<AnnResult> {
  const { k } = q;
  const ef = Math.max(q.ef ?? index.efSearch, k);
  const size = index.size;
  const force = q.force ?? "auto";
  const plan: AnnPlan = { strategy: "hnsw", matches: null, ef: 0, widenings: 0, fellBack: false, visited: 0 };
  // The live view is taken again for every scan: a graph search with a wide ef may grow the slab's
  // memory, which detaches any view taken before it (an empty view would make the fallback find nothing).
  const exactOver = (restrict: { allowed?: SlotBitmap; accept?: (slot: number) => boolean }): AnnResult => {
    const live = index.liveView();
    const r = flatSearch(index.slab, query, k, { count: live.length, live, ...restrict, deadline: q.deadline });
    // A predicate's pass counts its matches exactly, which replaces the estimate.
    if (restrict.accept) plan.matches = r.scored;
    return { slots: r.slots, scores: r.scores, plan };
  };

  if (q.filter === undefined && q.predicate === undefined) {
    if (force === "exact" || (force === "auto" && size < ANN_MIN_RECORDS)) {
      plan.strategy = "exact";
      return exactOver({});
    }
    // Deletes (or many identical vectors) can leave a live node unreachable: the graph's answer must
    // still hold min(k, size) hits, so a short one is widened and then answered exactly, as for filters.
    return (yield* graphSearch(index, query, k, ef, Math.min(k, size), plan, undefined, q.deadline)) ?? exactOver({});
  }

  if (q.filter === undefined) {
    // A per-slot filter (the only case left without a bitmap): tried on the graph when lazy, then one
    // exact pass that tests every live slot (a lazy search that came up short has fellBack set).
    const predicate = q.predicate as SlotFilter;
    plan.matches = predicate.estimate;
    if (predicate.lazy && force !== "exact" && (force === "hnsw" || size >= ANN_MIN_RECORDS)) {
      plan.strategy = "hnsw-lazy";
      const found = yield* lazySearch(index, query, k, ef, predicate, plan, q.deadline);
      if (found) return found;
      plan.fellBack = true;
    }
    plan.strategy = "exact-filtered";
    return exactOver({ accept: predicate.accept });
  }
  const matches = q.matches ?? estimateAllowed(q.filter, index.liveView(), size);
  plan.matches = matches;
  if (force === "exact" || (force === "auto" && (matches <= EXACT_FILTER_MAX || size < ANN_MIN_RECORDS))) {
    plan.strategy = "exact-filtered";
    return exactOver({ allowed: q.filter });
  }
  const acorn = size > 0 && matches / size < ACORN_BELOW;
  plan.strategy = acorn ? "hnsw-acorn" : "hnsw-filtered";
  const filter = { filter: q.filter, filterMode: acorn ? ("acorn" as const) : ("plain" as const) };
  const found = yield* graphSearch(index, query, k, ef, Math.min(k, matches), plan, filter, q.deadline);
  // The matching records were poorly connected (or the caller's count was high): scan them exactly.
  return found ?? exactOver({ allowed: q.filter });
}

/** Graph search widened (4x ef) until it finds `want` hits; null (plan.fellBack set) when it never does. */
function* graphSearch(
  index: HnswIndex,
  query: Float32Array,
  k: number,
  ef: number,
  want: number,
  plan: AnnPlan,
  filter: Pick<HnswSearchOptions, "filter" | "filterMode"> | undefined,
  deadline: Deadline | undefined,
): PlanSteps<AnnResult | null> {
  const size = index.size;
  let curEf = ef;
  for (let attempt = 0; ; attempt++) {
    deadline?.check();
    const r = yield { index, query, k, opts: { ef: curEf, ...filter } };
    plan.ef = curEf;
    plan.visited += r.visited;
    if (r.slots.length >= want) return { slots: r.slots, scores: r.scores, plan };
    // A wider beam cannot find more than the graph holds.
    if (attempt === MAX_WIDENINGS || curEf >= size) break;
    plan.widenings++;
    curEf = Math.min(curEf * 4, Math.max(size, k));
  }
  plan.fellBack = true;
  return null;
}

/**
 * The lazy filter's graph search: the ef · live / low best candidates, tested best first until k
 * pass; widened 4× (twice at most) while fewer pass; null when it never finds k.
 */
function* lazySearch(
  index: HnswIndex,
  query: Float32Array,
  k: number,
  ef: number,
  lazy: SlotFilter,
  plan: AnnPlan,
  deadline: Deadline | undefined,
): PlanSteps<AnnResult | null> {
  const size = index.size;
  let width = Math.min(size, Math.ceil((ef * size) / Math.max(1, lazy.low)));
  for (let attempt = 0; ; attempt++) {
    deadline?.check();
    const r = yield { index, query, k: width, opts: { ef: width } };
    plan.ef = width;
    plan.visited += r.visited;
    const slots: number[] = [];
    const scores: number[] = [];
    for (let i = 0; i < r.slots.length && slots.length < k; i++) {
      if (!lazy.accept(r.slots[i])) continue;
      slots.push(r.slots[i]);
      scores.push(r.scores[i]);
    }
    if (slots.length >= k) return { slots, scores, plan };
    if (attempt === MAX_WIDENINGS || width >= size) return null;
    plan.widenings++;
    width = Math.min(width * 4, size);
  }
}

/**
 * Live slots in the bitmap: counted on small collections, estimated from COUNT_SAMPLE evenly strided
 * slots on large ones (the plan needs the order of magnitude; an exact plan lists the matches anyway).
 */
function estimateAllowed(bits: SlotBitmap, live: Uint8Array, liveCount: number): number {
  if (live.length <= COUNT_SAMPLE_ABOVE) return countAllowed(bits, live);
  const step = Math.floor(live.length / COUNT_SAMPLE);
  let seen = 0;
  let hit = 0;
  for (let s = 0; s < live.length; s += step) {
    if (live[s] !== 1) continue;
    seen++;
    if (hasSlot(bits, s)) hit++;
  }
  return seen === 0 ? 0 : Math.round((hit / seen) * liveCount);
}

/** One named vector as the planner sees it. */
export interface VectorSource {
  slab: VectorSlab;
  /** live[slot] = 1 when the slot holds a record with this vector. */
  live: Uint8Array;
  /** Records with this vector. */
  count: number;
  /** Slots in use (the scan bound). */
  highWater: number;
  /** The vector's graph, once it has one. */
  index: HnswIndex | null;
  /** Declared `type: "hnsw"`: the graph is used at any size, not only past ANN_MIN_RECORDS. */
  graphAlways: boolean;
}

export interface VectorSearchRequest {
  k: number;
  /** Beam width of a graph search (default: the index's efSearch). */
  ef?: number;
  /** Force an exact scan even when the vector has a graph. */
  exact?: boolean;
  /** A filter's matches; absent = no filter. */
  match?: MatchSet;
  /** A filter tested per slot, lazily on the graph's candidates or in one exact pass; ignored with `match`. */
  predicate?: SlotFilter;
  /** Checked before each graph search and between the chunks of every exact scan. */
  deadline?: Deadline;
}

export interface VectorSearchPlan {
  strategy: "exact-scan" | "exact-filtered" | "hnsw" | "hnsw-filtered" | "hnsw-acorn" | "hnsw-lazy";
  /** Matching records that have this vector (all records with it when unfiltered; estimated for hnsw-lazy). */
  candidates: number;
  /** Graph searches: beam width, nodes scored, widenings, and whether an exact scan finished the job. */
  ann?: { ef: number; visited: number; widenings: number; fellBack: boolean };
}

/**
 * The top k of one named vector, optionally among a filter's matches. Without a graph the scan is
 * exact; with one, annSearch picks an exact scan of few matches, a graph search (filter-aware below
 * ACORN_BELOW selectivity, or lazy), widening, or an exact fallback, so a filter matching at least k
 * records always yields k hits.
 */
export function vectorSearch(
  source: VectorSource,
  query: Float32Array,
  req: VectorSearchRequest,
): { slots: number[]; scores: number[]; plan: VectorSearchPlan } {
  return runHere(vectorSteps(source, query, req));
}

/** vectorSearch() in steps (see PlanSteps). */
export function* vectorSteps(
  source: VectorSource,
  query: Float32Array,
  req: VectorSearchRequest,
): PlanSteps<{ slots: number[]; scores: number[]; plan: VectorSearchPlan }> {
  const m = req.match;
  const predicate = m === undefined ? req.predicate : undefined;
  const candidates = m ? countAllowed(m.bits, source.live) : predicate ? predicate.estimate : source.count;
  if (source.index && !req.exact) {
    const r = yield* annSteps(source.index, query, {
      k: req.k,
      ef: req.ef,
      filter: m?.bits,
      matches: m ? candidates : undefined,
      predicate,
      // A vector declared `hnsw` uses its graph at any size, except that a filter matching few
      // records is still answered by scanning them (exact, and cheaper than a filtered walk).
      force: !source.graphAlways ? "auto" : m && candidates <= EXACT_FILTER_MAX ? "exact" : "hnsw",
      deadline: req.deadline,
    });
    const p = r.plan;
    return {
      slots: r.slots,
      scores: r.scores,
      plan: {
        strategy: p.strategy === "exact" ? "exact-scan" : p.strategy,
        candidates: predicate ? (p.matches ?? candidates) : candidates,
        ann: { ef: p.ef, visited: p.visited, widenings: p.widenings, fellBack: p.fellBack },
      },
    };
  }
  const r = flatSearch(source.slab, query, req.k, {
    count: source.highWater,
    live: source.live,
    allowed: m?.bits,
    accept: predicate?.accept,
    deadline: req.deadline,
  });
  const filtered = m !== undefined || predicate !== undefined;
  return {
    slots: r.slots,
    scores: r.scores,
    plan: { strategy: filtered ? "exact-filtered" : "exact-scan", candidates: predicate ? r.scored : candidates },
  };
}
