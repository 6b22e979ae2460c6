/**
 * Text, vector, sparse and hybrid queries over a collection's state: evaluates the filter once, runs
 * each source (BM25 through the TextIndex; dense vectors through the planner in
 * core/query/plan/vector-plan.ts, an exact scan or the HNSW graph; a sparse vector through its
 * SparseIndex, MaxScore), fuses them (src/core/query/fusion/), groups by a payload field,
 * and attaches per-hit explanations. Nothing a caller can see changes, but a graph search first
 * settles inserts that were waiting for the graph's quantizer (HnswIndex.liveView).
 */
import type { TermStats } from "../core/index/bm25/term-stats.js";
import { QuiverError } from "../core/errors/errors.js";
import { flatSearch } from "../core/index/flat/flat-search.js";
import type { SlotBitmap } from "../core/index/slot-bitmap.js";
import {
  runHere,
  vectorSteps,
  type MatchSet,
  type PlanSteps,
  type SlotFilter,
} from "../core/query/plan/vector-plan.js";
import { chooseFilterPlan, estimateFilter, type FilterEstimate } from "../core/query/plan/filter-estimate.js";
import { estimateMatches } from "../core/query/plan/candidates.js";
import { compileFilter, type PayloadPredicate } from "../core/query/filter/compile.js";
import type { FilterNode } from "../core/query/filter/ast.js";
import { fuse, type FusionOptions, type FusionSource } from "../core/query/fusion/fuse.js";
import { valuesAt, splitPath } from "../core/payload/path.js";
import type { Deadline } from "../core/util/deadline.js";
import type { CollectionState } from "./collection-state.js";
import type { HitExplain, QueryPlan } from "../api/query.js";
import { matchSet } from "./reads.js";
import type { SparseVector } from "../core/index/sparse/sparse-vector.js";
import type * as SampleStats from "./sample-stats.js";

/** Each source's list is at least this deep before fusing, so a document ranked modestly by both can win. */
export const DEFAULT_FUSION_DEPTH = 100;

/** Per-query knobs of vector search. */
export interface VectorSearchOptions {
  /** Beam width of a graph search (default: the vector's efSearch). */
  ef?: number;
  /** Force an exact scan even when the vector has a graph. */
  exact?: boolean;
}

/**
 * A query's filter, evaluated once and shared by the text and the vector source: either its match set,
 * or (a vector-only query) a predicate tested per slot, lazily on the graph's candidates or in one
 * exact pass. `info` is what the plan reports of it, updated as the predicate runs.
 */
interface QueryFilter {
  match?: MatchSet;
  predicate?: SlotFilter;
  info: { usedIndexes: boolean; payloadsChecked: number };
  /** What the planner estimated and chose (vector-only queries). */
  planned?: QueryPlan["filter"];
}

/** The sources a query can rank by, in the order of fusion weights (`fusion.weights`) and explanations. */
export const SOURCES = ["text", "vector", "sparse"] as const;
type SourceName = (typeof SOURCES)[number];

export interface SearchSpec {
  /** `stats`: score BM25 with these collection statistics instead of this collection's own (a shard's query). */
  text?: { query: string; fields?: string[]; stats?: TermStats };
  vector?: { name: string; query: Float32Array; options?: VectorSearchOptions };
  sparse?: { name: string; query: SparseVector };
  filter?: FilterNode;
  fusion: FusionOptions & { depth: number };
  groupBy?: string;
  /** With `groupBy`: most ranked hits examined for groups (Limits.maxGroupScan); fewer groups come back past it. */
  maxGroupScan?: number;
  /** Checked at the safe points of every source's loops; past it the search stops with TIMEOUT. */
  deadline?: Deadline;
  /** Z-score fusion's sampling (sample-stats.ts), which the caller loads for a score-fused query. */
  sample?: typeof SampleStats;
}

export interface RankedHit {
  slot: number;
  score: number;
  explain: HitExplain;
  group?: unknown;
}

/** A query's ranked hits and the plan that found them. */
export interface Ranked {
  hits: RankedHit[];
  plan: QueryPlan;
}

/** Runs a text, vector or hybrid search and returns the first `needed` hits (or groups). */
export function search(state: CollectionState, spec: SearchSpec, needed: number): Ranked {
  return runHere(searchSteps(state, spec, needed));
}

/** search() in steps: yields its graph searches (PlanSteps), so they can run in search threads. */
export function* searchSteps(state: CollectionState, spec: SearchSpec, needed: number): PlanSteps<Ranked> {
  const path = spec.groupBy !== undefined ? splitPath(spec.groupBy) : null;
  // Grouping deepens the ranking until it has enough groups, up to a bound on the work.
  const scanCap = Math.max(needed, spec.maxGroupScan ?? Number.POSITIVE_INFINITY);
  let depth = path ? Math.min(needed * 4, scanCap) : needed;
  for (;;) {
    spec.deadline?.check();
    const r = yield* rankOnce(state, spec, depth);
    if (!path) return { hits: r.hits.slice(0, needed), plan: r.plan };
    const seen = new Set<string>();
    const out: RankedHit[] = [];
    for (const h of r.hits) {
      const v = valuesAt(state.payloads.get(h.slot), path)[0];
      if (v !== undefined && v !== null) {
        const key = JSON.stringify(v);
        if (seen.has(key)) continue;
        seen.add(key);
        h.group = v;
      }
      out.push(h);
      if (out.length === needed) break;
    }
    // Enough groups, or every source was exhausted: done. Otherwise look deeper.
    if (out.length === needed || !r.truncated || depth >= state.size || depth >= scanCap)
      return { hits: out, plan: r.plan };
    depth = Math.min(depth * 4, Math.max(state.size, 1), scanCap);
  }
}

function* rankOnce(
  state: CollectionState,
  spec: SearchSpec,
  k: number,
): PlanSteps<{ hits: RankedHit[]; plan: QueryPlan; truncated: boolean }> {
  const filter = queryFilter(state, spec, k);
  const match = filter?.match;
  const filterInfo = filter?.info ?? { usedIndexes: false, payloadsChecked: 0 };
  const active = SOURCES.filter((name) => spec[name] !== undefined);
  if (active.length === 1) return yield* rankOne(state, spec, active[0], filter, k);

  // Hybrid: every list at least `depth` deep, then each source scores the others' documents too.
  const depth = Math.max(k, spec.fusion.depth);
  const v = spec.vector && (yield* vectorQuery(state, spec.vector, filter, depth, spec.deadline));
  const sp = spec.sparse && sparseQuery(state, spec.sparse, filter, depth, spec.deadline);
  const others = [...new Set([...(v?.slots ?? []), ...(sp?.slots ?? [])])];
  const t = spec.text ? textSearch(state, spec, depth, match?.bits, others) : undefined;
  const runs: FusionSource[] = [];
  // Without it (RRF, which reads no statistics) the sample is empty.
  const { sampled, moments } = spec.sample ?? {
    sampled: () => ({ slots: new Uint32Array(0) }),
    moments: () => ({ mean: 0, std: 1 }),
  };
  if (t) {
    const textScoreOf = new Map<number, number>();
    others.forEach((slot, i) => {
      textScoreOf.set(slot, t.extraScores[i]);
    });
    runs.push({ ...t, scoreOf: (s) => textScoreOf.get(s) ?? 0 });
  }
  if (v) {
    const vector = spec.vector!;
    const named = state.vectors.get(vector.name)!;
    const inVector = new Set(v.slots);
    const missing = Uint32Array.from(
      new Set([...(t?.slots ?? []), ...(sp?.slots ?? [])].filter((s) => !inVector.has(s))),
    );
    const vectorScoreOf = new Map<number, number>();
    if (missing.length > 0) {
      const r = flatSearch(named.slab, vector.query, missing.length, {
        count: state.highWater,
        live: named.live,
        candidates: missing,
        deadline: spec.deadline,
      });
      r.slots.forEach((slot, i) => {
        vectorScoreOf.set(slot, r.scores[i]);
      });
    }
    // z-score's statistics, over the id-hash sample (sample-stats.ts).
    const { slots: sample } = sampled(state, (s) => named.live[s] === 1);
    const vstats = moments(
      flatSearch(named.slab, vector.query, sample.length, {
        count: state.highWater,
        live: named.live,
        candidates: sample,
        deadline: spec.deadline,
      }).scores,
    );
    runs.push({ slots: v.slots, scores: v.scores, ...vstats, scoreOf: (s) => vectorScoreOf.get(s) });
  }
  if (sp) {
    const index = state.sparse.get(spec.sparse!.name)!;
    const query = spec.sparse!.query;
    const { slots: sample } = sampled(state, (s) => index.get(s) !== undefined);
    const stats = moments(Array.from(sample, (s) => index.score(s, query) as number));
    runs.push({ slots: sp.slots, scores: sp.scores, ...stats, scoreOf: (s) => index.score(s, query) });
  }
  const weights = active.map((name) => spec.fusion.weights[SOURCES.indexOf(name)] ?? 1);
  const fused = fuse(runs, { ...spec.fusion, weights });
  const label = spec.fusion.method === "rrf" ? `rrf(k=${spec.fusion.k})` : spec.fusion.method;
  const hits = fused.slice(0, k).map((h) => {
    const explain: HitExplain = { fusion: label };
    active.forEach((name, i) => {
      explain[name] = h.parts[i];
    });
    return { slot: h.slot, score: h.score, explain };
  });
  const plan: QueryPlan = {
    strategy: "hybrid",
    vector: spec.vector?.name ?? spec.sparse?.name ?? "",
    candidates: v?.plan.candidates ?? sp?.plan.candidates ?? t?.matched ?? 0,
    usedIndexes: filterInfo.usedIndexes,
    payloadsChecked: filterInfo.payloadsChecked,
    fusion: label,
  };
  if (t) plan.text = t.info;
  if (sp?.plan.sparse) plan.sparse = sp.plan.sparse;
  if (v?.plan.hnswUnavailable) plan.hnswUnavailable = v.plan.hnswUnavailable;
  return { hits, truncated: runs.some((r) => r.slots.length === depth), plan };
}

/** A query with a single source: its own ranking, scores and plan, unfused. */
function* rankOne(
  state: CollectionState,
  spec: SearchSpec,
  source: SourceName,
  filter: QueryFilter | undefined,
  k: number,
): PlanSteps<{ hits: RankedHit[]; plan: QueryPlan; truncated: boolean }> {
  let r: { slots: number[]; scores: number[]; plan: QueryPlan };
  if (source === "vector") r = yield* vectorQuery(state, spec.vector!, filter, k, spec.deadline);
  else if (source === "sparse") r = sparseQuery(state, spec.sparse!, filter, k, spec.deadline);
  else {
    const t = textSearch(state, spec, k, filter?.match?.bits);
    r = {
      ...t,
      plan: {
        strategy: "text",
        vector: "",
        candidates: t.matched,
        usedIndexes: filter?.info.usedIndexes ?? false,
        payloadsChecked: filter?.info.payloadsChecked ?? 0,
        text: t.info,
      },
    };
  }
  const hits = r.slots.map((slot, i) => ({
    slot,
    score: r.scores[i],
    explain: { [source]: { rank: i + 1, score: r.scores[i] } },
  }));
  return { hits, truncated: r.slots.length === k, plan: r.plan };
}

/** The exact top k of one sparse vector by dot product (MaxScore) among the filter's matches. */
function sparseQuery(
  state: CollectionState,
  sparse: NonNullable<SearchSpec["sparse"]>,
  filter: QueryFilter | undefined,
  k: number,
  deadline: Deadline | undefined,
): { slots: number[]; scores: number[]; plan: QueryPlan } {
  const index = state.sparse.get(sparse.name);
  if (!index) throw new QuiverError("INTERNAL", `no sparse vector ${sparse.name}`);
  const match = filter?.match;
  const r = index.search(sparse.query, k, { accept: match?.bits, deadline });
  const terms = sparse.query.indices.filter((_, i) => sparse.query.values[i] !== 0).length;
  return {
    slots: r.slots,
    scores: r.scores,
    plan: {
      strategy: "sparse",
      vector: sparse.name,
      candidates: match ? match.count : index.count,
      usedIndexes: filter?.info.usedIndexes ?? false,
      payloadsChecked: filter?.info.payloadsChecked ?? 0,
      sparse: { vector: sparse.name, terms, postings: r.postings, read: r.read, scored: r.scored },
    },
  };
}

/** The top k of one named vector among the filter's matches, with the plan the planner chose. */
function* vectorQuery(
  state: CollectionState,
  vector: NonNullable<SearchSpec["vector"]>,
  filter: QueryFilter | undefined,
  k: number,
  deadline: Deadline | undefined,
): PlanSteps<{ slots: number[]; scores: number[]; plan: QueryPlan }> {
  const named = state.vectors.get(vector.name);
  if (!named) throw new QuiverError("INTERNAL", `no vector ${vector.name}`);
  const source = {
    slab: named.slab,
    live: named.live,
    count: named.count,
    highWater: state.highWater,
    index: named.index ?? null,
    graphAlways: named.spec.type === "hnsw",
  };
  const r = yield* vectorSteps(source, vector.query, {
    k,
    ...vector.options,
    match: filter?.match,
    predicate: filter?.predicate,
    deadline,
  });
  const plan: QueryPlan = {
    strategy: r.plan.strategy,
    vector: vector.name,
    usedIndexes: filter?.info.usedIndexes ?? false,
    payloadsChecked: filter?.info.payloadsChecked ?? 0,
    candidates: r.plan.candidates,
  };
  if (filter?.planned) {
    const c = r.plan.candidates;
    // A filter planned without a sample was counted by the query itself: report that count.
    plan.filter =
      filter.planned.from === "count" ? { ...filter.planned, estimate: c, low: c, high: c } : filter.planned;
  }
  if (r.plan.ann) plan.ann = r.plan.ann;
  if (state.hnswUnavailable) plan.hnswUnavailable = state.hnswUnavailable;
  return { slots: r.slots, scores: r.scores, plan };
}

/**
 * The query's filter, planned from its estimated matches (filter-estimate.ts). A vector-only query
 * gets the cheapest of: the compiled predicate tested lazily on the graph's candidates, the predicate
 * tested in one exact pass over every live payload (no set built, the k best kept), or the match set
 * built through the payload indexes. Queries with a text or sparse source get the match set, which
 * they test per posting. undefined without a filter.
 */
function queryFilter(state: CollectionState, spec: SearchSpec, k: number): QueryFilter | undefined {
  const node = spec.filter;
  if (!node || node.kind === "all") return undefined;
  const test = compiledFilter(node);
  const info = { usedIndexes: false, payloadsChecked: 0 };
  const vectorOnly = spec.vector !== undefined && !spec.text && !spec.sparse;
  if (!vectorOnly) return { match: materialise(state, node, test, info, spec.deadline), info };
  const vector = spec.vector!;
  const index = vector.options?.exact === true ? undefined : (state.vectors.get(vector.name)?.index ?? undefined);
  // Without a graph both plans left are exact and read the payloads once anyway: sampling them
  // first would be wasted work (and billed). The count is reported once the plan has run.
  const est: FilterEstimate =
    index === undefined
      ? uncounted(estimateMatches(node, state.indexes, state.size), state.size)
      : cachedEstimate(state, node, test);
  info.payloadsChecked = est.payloadsChecked;
  const ef = Math.max(vector.options?.ef ?? index?.efSearch ?? k, k);
  const { plan } = chooseFilterPlan(est, state.size, ef, index !== undefined);
  const planned: QueryFilter["planned"] = { estimate: est.matches, low: est.low, high: est.high, from: est.from, plan };
  if (plan === "match-set") return { match: materialise(state, node, test, info, spec.deadline), info, planned };
  const payloads = state.payloads;
  const predicate: SlotFilter = {
    estimate: est.matches,
    low: est.low,
    lazy: plan === "lazy",
    accept: (slot) => {
      info.payloadsChecked++;
      return test(payloads.get(slot));
    },
  };
  return { predicate, info, planned };
}

/**
 * An estimate made from the indexes alone (no payload read): their bound when they narrow, else
 * unknown (0 to every live record), settled as an exact count when the query has run (vectorQuery).
 */
function uncounted(bound: number, live: number): FilterEstimate {
  if (bound < live) return { matches: bound, low: bound, high: bound, from: "indexes", payloadsChecked: 0 };
  return { matches: live, low: 0, high: live, from: "count", payloadsChecked: 0 };
}

/** The filter's match set (through the payload indexes when they narrow it), reported in `info`. */
function materialise(
  state: CollectionState,
  node: FilterNode,
  test: PayloadPredicate,
  info: QueryFilter["info"],
  deadline: Deadline | undefined,
): MatchSet {
  const m = matchSet(state, node, deadline, test);
  info.usedIndexes = m.usedIndexes;
  info.payloadsChecked += m.payloadsChecked;
  return m;
}

/** Compiled filters by AST node: a query compiles its filter once, however many times it is tested. */
const compiled = new WeakMap<FilterNode, PayloadPredicate>();

function compiledFilter(node: FilterNode): PayloadPredicate {
  let test = compiled.get(node);
  if (test === undefined) {
    test = compileFilter(node);
    compiled.set(node, test);
  }
  return test;
}

/** Estimates per collection, kept while it does not change: a filter repeated by many queries is sampled once. */
const estimates = new WeakMap<CollectionState, { version: number; byFilter: Map<string, FilterEstimate> }>();
const MAX_CACHED_ESTIMATES = 256;

function cachedEstimate(state: CollectionState, node: FilterNode, test: PayloadPredicate): FilterEstimate {
  let cache = estimates.get(state);
  if (cache === undefined || cache.version !== state.version || cache.byFilter.size >= MAX_CACHED_ESTIMATES) {
    cache = { version: state.version, byFilter: new Map() };
    estimates.set(state, cache);
  }
  const key = JSON.stringify(node);
  const hit = cache.byFilter.get(key);
  // A reused estimate read no payload for this query.
  if (hit) return { ...hit, payloadsChecked: 0 };
  const est = estimateFilter(
    node,
    {
      indexes: state.indexes,
      live: state.size,
      highWater: state.highWater,
      payloadAt: (slot) => (state.slotIds[slot] === undefined ? undefined : (state.payloads.get(slot) ?? {})),
    },
    test,
  );
  cache.byFilter.set(key, est);
  return est;
}

function textSearch(
  state: CollectionState,
  spec: SearchSpec,
  k: number,
  accept: SlotBitmap | undefined,
  scoresFor?: number[],
) {
  const text = state.text!;
  const q = spec.text!;
  const r = text.search(q.query, k, {
    fields: q.fields,
    accept,
    highWater: state.highWater,
    scoresFor,
    deadline: spec.deadline,
    stats: q.stats,
  });
  return {
    ...r,
    info: {
      fields: q.fields ?? text.fields.map((f) => f.name),
      terms: text.analyzeQuery(q.query, q.fields),
      matched: r.matched,
    },
  };
}
