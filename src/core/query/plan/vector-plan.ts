// The vector-search planner, the only one: exact scan or graph search per query, filter-aware
// traversal chosen by selectivity, widening when too few hits come back, and an exact fallback that
// makes "k hits whenever k records match" a guarantee. Returns the plan it used, for query explanations.

import { flatSearch } from "../../index/flat/flat-search.js";
import type { HnswIndex, HnswSearchOptions } from "../../index/hnsw/hnsw.js";
import { allowedSlots, countAllowed, type SlotBitmap } from "../../index/slot-bitmap.js";
import type { VectorSlab } from "../../vectors/slab.js";

/** Below this many live records a collection is searched exactly (the graph would not pay for itself). */
export const ANN_MIN_RECORDS = 10_000;
/** A filter matching at most this many records is answered by an exact scan of them. */
export const EXACT_FILTER_MAX = 4096;
/** Below this selectivity the graph search hops over non-matching nodes (ACORN-style); above, it walks all. */
export const ACORN_BELOW = 0.25;
const MAX_WIDENINGS = 2;

export type AnnStrategy = "exact" | "exact-filtered" | "hnsw" | "hnsw-filtered" | "hnsw-acorn";

export interface AnnPlan {
  strategy: AnnStrategy;
  /** Live records the filter matches (given by the caller, or counted on the bitmap); null without a filter. */
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
  /** How many live records match, when the caller has counted them; counted on the bitmap when absent. */
  matches?: number;
  /** "exact" or "hnsw" forces the strategy family; "auto" (default) decides by size and selectivity. */
  force?: "auto" | "exact" | "hnsw";
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
  const { k } = q;
  const ef = Math.max(q.ef ?? index.efSearch, k);
  const size = index.size;
  const force = q.force ?? "auto";
  const plan: AnnPlan = { strategy: "hnsw", matches: null, ef: 0, widenings: 0, fellBack: false, visited: 0 };
  // The live view is taken again for every scan: a graph search with a wide ef may grow the slab's
  // memory, which detaches any view taken before it (an empty view would make the fallback find nothing).
  const exactOver = (bits?: SlotBitmap): AnnResult => {
    const live = index.liveView();
    const candidates = bits === undefined ? undefined : allowedSlots(bits, live);
    const r = flatSearch(index.slab, query, k, { count: live.length, live, candidates });
    return { slots: r.slots, scores: r.scores, plan };
  };

  if (q.filter === undefined) {
    if (force === "exact" || (force === "auto" && size < ANN_MIN_RECORDS)) {
      plan.strategy = "exact";
      return exactOver();
    }
    // Deletes (or many identical vectors) can leave a live node unreachable: the graph's answer must
    // still hold min(k, size) hits, so a short one is widened and then answered exactly, as for filters.
    return graphSearch(index, query, k, ef, Math.min(k, size), plan, undefined) ?? exactOver();
  }

  const matches = q.matches ?? countAllowed(q.filter, index.liveView());
  plan.matches = matches;
  if (force === "exact" || (force === "auto" && (matches <= EXACT_FILTER_MAX || size < ANN_MIN_RECORDS))) {
    plan.strategy = "exact-filtered";
    return exactOver(q.filter);
  }
  const acorn = size > 0 && matches / size < ACORN_BELOW;
  plan.strategy = acorn ? "hnsw-acorn" : "hnsw-filtered";
  const filter = { filter: q.filter, filterMode: acorn ? ("acorn" as const) : ("plain" as const) };
  const found = graphSearch(index, query, k, ef, Math.min(k, matches), plan, filter);
  // The matching records were poorly connected (or the caller's count was high): scan them exactly.
  return found ?? exactOver(q.filter);
}

/** Graph search widened (4x ef) until it finds `want` hits; null (plan.fellBack set) when it never does. */
function graphSearch(
  index: HnswIndex,
  query: Float32Array,
  k: number,
  ef: number,
  want: number,
  plan: AnnPlan,
  filter: Pick<HnswSearchOptions, "filter" | "filterMode"> | undefined,
): AnnResult | null {
  const size = index.size;
  let curEf = ef;
  for (let attempt = 0; ; attempt++) {
    const r = index.search(query, k, { ef: curEf, ...filter });
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
  /** A filter's matching slots, as a list and as a bitmap; absent = no filter. */
  match?: { slots: Uint32Array; bits: SlotBitmap };
}

export interface VectorSearchPlan {
  strategy: "exact-scan" | "exact-filtered" | "hnsw" | "hnsw-filtered" | "hnsw-acorn";
  /** Matching records that have this vector (all records with it when unfiltered). */
  candidates: number;
  /** Graph searches: beam width, nodes scored, widenings, and whether an exact scan finished the job. */
  ann?: { ef: number; visited: number; widenings: number; fellBack: boolean };
}

/**
 * The top k of one named vector, optionally among a filter's matches. Without a graph the scan is
 * exact; with one, annSearch picks an exact scan of few matches, a graph search (filter-aware below
 * ACORN_BELOW selectivity), widening, or an exact fallback, so a filter matching at least k records
 * always yields k hits.
 */
export function vectorSearch(
  source: VectorSource,
  query: Float32Array,
  req: VectorSearchRequest,
): { slots: number[]; scores: number[]; plan: VectorSearchPlan } {
  const m = req.match;
  const candidates = m ? countLive(m.slots, source.live) : source.count;
  if (source.index && !req.exact) {
    const r = annSearch(source.index, query, {
      k: req.k,
      ef: req.ef,
      filter: m?.bits,
      matches: m ? candidates : undefined,
      // A vector declared `hnsw` uses its graph at any size, except that a filter matching few
      // records is still answered by scanning them (exact, and cheaper than a filtered walk).
      force: !source.graphAlways ? "auto" : m && candidates <= EXACT_FILTER_MAX ? "exact" : "hnsw",
    });
    const p = r.plan;
    return {
      slots: r.slots,
      scores: r.scores,
      plan: {
        strategy: p.strategy === "exact" ? "exact-scan" : p.strategy,
        candidates,
        ann: { ef: p.ef, visited: p.visited, widenings: p.widenings, fellBack: p.fellBack },
      },
    };
  }
  const { slots, scores } = flatSearch(source.slab, query, req.k, {
    count: source.highWater,
    live: source.live,
    candidates: m?.slots,
  });
  return { slots, scores, plan: { strategy: m ? "exact-filtered" : "exact-scan", candidates } };
}

function countLive(slots: Uint32Array, live: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < slots.length; i++) n += live[slots[i]];
  return n;
}
