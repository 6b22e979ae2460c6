// The approximate-search planner: exact scan or graph search per query, filter-aware traversal chosen
// by selectivity, widening when too few hits come back, and an exact fallback that makes "k hits
// whenever k records match" a guarantee, with or without a filter. Returns the plan it used, for query explanations.

import type { Deadline } from "../../util/deadline.js";
import { flatSearch } from "../flat/flat-search.js";
import type { HnswIndex, HnswSearchOptions } from "./hnsw.js";

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
  /** Records the filter matches (given by the caller's payload-index estimate, or counted on the bitmap). */
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
  /** Bitmap of allowed slots (bit s of byte s>>3); absent = no filter. */
  filter?: Uint8Array;
  /** The planner's estimate of how many live records match (e.g. from payload indexes); counted when absent. */
  matches?: number;
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
 * const { slots, scores, plan } = annSearch(index, q, { k: 10, filter: bitmap, matches: estimate });
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
  const exactOver = (bits?: Uint8Array): AnnResult => {
    const live = index.liveView();
    const candidates = bits === undefined ? undefined : allowedSlots(bits, live);
    const r = flatSearch(index.slab, query, k, { count: live.length, live, candidates, deadline: q.deadline });
    return { slots: r.slots, scores: r.scores, plan };
  };

  if (q.filter === undefined) {
    if (force === "exact" || (force === "auto" && size < ANN_MIN_RECORDS)) {
      plan.strategy = "exact";
      return exactOver();
    }
    // Deletes (or many identical vectors) can leave a live node unreachable: the graph's answer must
    // still hold min(k, size) hits, so a short one is widened and then answered exactly, as for filters.
    return graphSearch(index, query, k, ef, Math.min(k, size), plan, undefined, q.deadline) ?? exactOver();
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
  const found = graphSearch(index, query, k, ef, Math.min(k, matches), plan, filter, q.deadline);
  // The count may have been high, or the matching records poorly connected: scan them exactly.
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
  deadline: Deadline | undefined,
): AnnResult | null {
  const size = index.size;
  let curEf = ef;
  for (let attempt = 0; ; attempt++) {
    deadline?.check();
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

/** Live slots whose bit is set. */
export function allowedSlots(bits: Uint8Array, live: Uint8Array): Uint32Array {
  const out: number[] = [];
  const n = Math.min(live.length, bits.length * 8);
  for (let s = 0; s < n; s++) if (live[s] === 1 && (bits[s >> 3] & (1 << (s & 7))) !== 0) out.push(s);
  return Uint32Array.from(out);
}

function countAllowed(bits: Uint8Array, live: Uint8Array): number {
  let c = 0;
  const n = Math.min(live.length, bits.length * 8);
  for (let s = 0; s < n; s++) if (live[s] === 1 && (bits[s >> 3] & (1 << (s & 7))) !== 0) c++;
  return c;
}

/** Builds the bitmap annSearch takes from a list of allowed slots (e.g. a payload index's candidates). */
export function bitmapOf(slots: ArrayLike<number>, capacity: number): Uint8Array {
  const bits = new Uint8Array(Math.ceil(capacity / 8));
  for (let i = 0; i < slots.length; i++) bits[slots[i] >> 3] |= 1 << (slots[i] & 7);
  return bits;
}
