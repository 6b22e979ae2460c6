/**
 * Read paths over a collection's in-memory state: filtered slot selection, exact vector query,
 * get by ids, count and cursor scroll. Pure functions of the state; nothing here writes.
 */
import { QuiverError } from "../core/errors/errors.js";
import { flatSearch } from "../core/index/flat/flat-search.js";
import { annSearch, bitmapOf, EXACT_FILTER_MAX } from "../core/index/hnsw/plan.js";
import type { FilterNode } from "../core/query/filter/ast.js";
import { matches } from "../core/query/filter/evaluate.js";
import { candidateSlots } from "../core/query/plan/candidates.js";
import { DEADLINE_STRIDE, type Deadline } from "../core/util/deadline.js";
import type { CollectionState } from "./collection-state.js";
import type { HitExplain } from "./search.js";

/** A record as returned to callers. */
export interface RecordOutput {
  id: string;
  payload?: Record<string, unknown>;
  vectors?: Record<string, number[]>;
}

export interface Hit extends RecordOutput {
  /** Higher is closer: the vector similarity (cosine, dot, negated Euclidean distance), the BM25 score, or the fused score. */
  score: number;
  /** With `explain: true`: the hit's 1-based rank and own score in each source (null when that source did not rank it). */
  explain?: HitExplain;
  /** With `groupBy`: the value of the grouping field (absent when the record has none). */
  group?: unknown;
}

/** How a query was executed; returned with every result so slow or surprising queries can be understood. */
export interface QueryPlan {
  /** `exact-scan` / `exact-filtered`: vector only; `text`: BM25 only; `hybrid`: both, fused. */
  strategy: "exact-scan" | "exact-filtered" | "hnsw" | "hnsw-filtered" | "hnsw-acorn" | "text" | "hybrid";
  /** The named vector searched, or "" for a text-only query. */
  vector: string;
  /** Vector queries: records that matched the filter (or all live records with that vector). Text queries: records containing a query term. */
  candidates: number;
  /** Whether payload indexes narrowed the filter before payloads were read. */
  usedIndexes: boolean;
  /** Payloads evaluated against the filter. */
  payloadsChecked: number;
  /** Text and hybrid queries: the fields searched, the query's terms per field after analysis, and the records containing any. */
  text?: { fields: string[]; terms: Record<string, string[]>; matched: number };
  /** Hybrid queries: the fusion used, e.g. `zscore` or `rrf(k=60)`. */
  fusion?: string;
  /** Graph searches: the beam width used, nodes scored, retries with a 4x wider beam, and whether an exact scan had to finish the job. */
  ann?: { ef: number; visited: number; widenings: number; fellBack: boolean };
}

export interface OutputOptions {
  withPayload: boolean;
  withVectors: boolean;
}

export function outputRecord(state: CollectionState, slot: number, opts: OutputOptions): RecordOutput {
  const out: RecordOutput = { id: state.slotIds[slot]! };
  if (opts.withPayload) out.payload = structuredClone(state.payloads[slot] ?? {});
  if (opts.withVectors) {
    const vectors: Record<string, number[]> = {};
    for (const [name, v] of state.vectors) if (v.live[slot]) vectors[name] = Array.from(v.slab.get(slot));
    out.vectors = vectors;
  }
  return out;
}

/** Slots of live records matching the filter, in ascending slot order. */
export function matchingSlots(
  state: CollectionState,
  filter: FilterNode,
  deadline?: Deadline,
): { slots: Uint32Array; usedIndexes: boolean; payloadsChecked: number } {
  const fromIndex = candidateSlots(filter, state.indexes);
  const out: number[] = [];
  let checked = 0;
  if (fromIndex) {
    for (const slot of fromIndex) {
      if (state.slotIds[slot] === undefined) continue;
      if (++checked % DEADLINE_STRIDE === 0) deadline?.check();
      if (matches(filter, state.payloads[slot])) out.push(slot);
    }
    out.sort((a, b) => a - b);
  } else {
    for (let slot = 0; slot < state.highWater; slot++) {
      if (state.slotIds[slot] === undefined) continue;
      if (++checked % DEADLINE_STRIDE === 0) deadline?.check();
      if (matches(filter, state.payloads[slot])) out.push(slot);
    }
  }
  return { slots: Uint32Array.from(out), usedIndexes: fromIndex !== null, payloadsChecked: checked };
}

/** Per-query knobs of vector search. */
export interface VectorSearchOptions {
  /** Beam width of a graph search (default: the vector's efSearch). */
  ef?: number;
  /** Force an exact scan even when the vector has a graph. */
  exact?: boolean;
}

/**
 * The top k of one named vector, optionally among records matching a filter. Without a graph the
 * scan is exact; with one, the planner (core/index/hnsw/plan.ts) picks an exact scan of few
 * matches, a graph search (filter-aware below 25% selectivity), widening, or an exact fallback, so
 * a filter matching at least k records always yields k hits.
 */
export function vectorQuery(
  state: CollectionState,
  vectorName: string,
  query: Float32Array,
  filter: FilterNode | undefined,
  k: number,
  opts: VectorSearchOptions = {},
  deadline?: Deadline,
): { slots: number[]; scores: number[]; plan: QueryPlan } {
  const named = state.vectors.get(vectorName);
  if (!named) throw new QuiverError("INTERNAL", `no vector ${vectorName}`);
  const filtered = filter !== undefined && filter.kind !== "all";
  const m = filtered ? matchingSlots(state, filter, deadline) : null;
  const base = { vector: vectorName, usedIndexes: m?.usedIndexes ?? false, payloadsChecked: m?.payloadsChecked ?? 0 };
  // Matching records that have this vector.
  const matching = m ? countLive(m.slots, named.live) : named.count;
  if (named.index && !opts.exact) {
    const r = annSearch(named.index, query, {
      k,
      ef: opts.ef,
      filter: m ? bitmapOf(m.slots, state.highWater) : undefined,
      matches: m ? matching : undefined,
      // A vector declared `hnsw` uses its graph at any size, except that a filter matching few
      // records is still answered by scanning them (exact, and cheaper than a filtered walk).
      force: named.spec.type !== "hnsw" ? "auto" : m && matching <= EXACT_FILTER_MAX ? "exact" : "hnsw",
      deadline,
    });
    const p = r.plan;
    const strategy = p.strategy === "exact" ? "exact-scan" : p.strategy;
    const plan: QueryPlan = {
      strategy,
      ...base,
      candidates: matching,
      ann: { ef: p.ef, visited: p.visited, widenings: p.widenings, fellBack: p.fellBack },
    };
    return { slots: r.slots, scores: r.scores, plan };
  }
  if (!m) {
    const { slots, scores } = flatSearch(named.slab, query, k, { count: state.highWater, live: named.live, deadline });
    return { slots, scores, plan: { strategy: "exact-scan", ...base, candidates: matching } };
  }
  const { slots, scores } = flatSearch(named.slab, query, k, {
    count: state.highWater,
    live: named.live,
    candidates: m.slots,
    deadline,
  });
  return { slots, scores, plan: { strategy: "exact-filtered", ...base, candidates: matching } };
}

function countLive(slots: Uint32Array, live: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < slots.length; i++) n += live[slots[i]];
  return n;
}

export function countMatching(state: CollectionState, filter: FilterNode | undefined, deadline?: Deadline): number {
  if (!filter || filter.kind === "all") return state.size;
  return matchingSlots(state, filter, deadline).slots.length;
}

/** First index in sorted `ids` whose id is strictly greater than `after`. */
function upperBound(ids: string[], after: string): number {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ids[mid] <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * One page of records in id order after `cursor`. The cursor is the last id of the previous page,
 * so pages stay correct while records are added or deleted between calls.
 */
export function scrollPage(
  state: CollectionState,
  cursor: string | undefined,
  limit: number,
  filter: FilterNode | undefined,
  opts: OutputOptions,
  deadline?: Deadline,
): { records: RecordOutput[]; nextCursor: string | null } {
  const ids = state.sortedIds();
  const records: RecordOutput[] = [];
  let i = cursor === undefined ? 0 : upperBound(ids, cursor);
  for (let n = 1; i < ids.length && records.length < limit; i++, n++) {
    // A selective filter can walk the whole collection for one page.
    if (n % DEADLINE_STRIDE === 0) deadline?.check();
    const slot = state.ids.get(ids[i])!;
    if (filter && filter.kind !== "all" && !matches(filter, state.payloads[slot])) continue;
    records.push(outputRecord(state, slot, opts));
  }
  // Stopped by the limit with ids left: the next page starts after the last record returned.
  const nextCursor = i < ids.length ? records[records.length - 1].id : null;
  return { records, nextCursor };
}
