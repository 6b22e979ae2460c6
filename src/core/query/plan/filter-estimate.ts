/**
 * How many records a filter matches, estimated before anything is materialised: from payload index
 * statistics when the indexes can narrow it, from a strided sample of payloads when they cannot; and
 * from that, how a graph search honours it (a match set first, or the predicate evaluated lazily).
 */

import type { PayloadIndexSet } from "../../payload/indexes.js";
import type { FilterNode } from "../filter/ast.js";
import { matches } from "../filter/evaluate.js";
import { estimateMatches } from "./candidates.js";

/** Payloads evaluated to estimate an unindexed filter: ±3% at selectivity 0.5 (one standard error). */
export const FILTER_SAMPLE = 256;

/**
 * Payload checks one candidate of a lazily filtered graph search costs, in the planner's unit (one
 * payload evaluated against a filter): the graph nodes scored to produce it. Measured on 30k × 64-d:
 * an unfiltered search for 128 candidates took as long as ~4,000 payload checks.
 */
export const LAZY_COST_PER_CANDIDATE = 32;

/**
 * Below this estimated selectivity a lazy search is not tried whatever the cost model says: the beam
 * (ef / selectivity) would be so wide that a sampling error in the estimate costs more than it saves.
 * Above it the cost model decides (at 0.01 it used to be the floor, and a 1% unindexed filter on
 * 200k records read every payload for its match set: 40 q/s in `npm run bench -- scale`).
 */
export const LAZY_MIN_SELECTIVITY = 0.002;

export interface FilterEstimate {
  /** Estimated live records matching (an upper bound from indexes; a scaled sample count otherwise). */
  matches: number;
  /** Where the figure comes from. */
  from: "indexes" | "sample";
  /** Payloads the estimate evaluated (the sample). */
  payloadsChecked: number;
}

/** What the estimator reads of a collection. */
export interface EstimateSource {
  indexes: PayloadIndexSet;
  /** Live records. */
  live: number;
  /** Slots in use: the sample is spread over [0, highWater). */
  highWater: number;
  /** The payload at a slot, undefined for an empty slot. */
  payloadAt(slot: number): Record<string, unknown> | undefined;
}

/**
 * Estimates the filter's matches. When the indexes can bound it (an indexed equality, range or
 * `$exists`, or an `$and` with one), that bound is the estimate; otherwise FILTER_SAMPLE payloads at an
 * even stride are evaluated and the share that matches is scaled to the live count.
 *
 * @example estimateFilter(parseFilter({ price: { $lt: 10 } }), source) // { matches: 1250, from: "sample", ... }
 */
export function estimateFilter(node: FilterNode, src: EstimateSource): FilterEstimate {
  const bound = estimateMatches(node, src.indexes, src.live);
  if (bound < src.live || src.live === 0) return { matches: bound, from: "indexes", payloadsChecked: 0 };
  const step = Math.max(1, Math.floor(src.highWater / FILTER_SAMPLE));
  let seen = 0;
  let hit = 0;
  for (let s = 0; s < src.highWater && seen < FILTER_SAMPLE; s += step) {
    const p = src.payloadAt(s);
    if (p === undefined) continue;
    seen++;
    if (matches(node, p)) hit++;
  }
  // Every slot looked at: the count is exact.
  if (seen === src.live) return { matches: hit, from: "sample", payloadsChecked: seen };
  const share = seen === 0 ? 1 : hit / seen;
  return { matches: Math.round(share * src.live), from: "sample", payloadsChecked: seen };
}

/**
 * True when a graph search should evaluate the filter lazily on its candidates (best first, the beam
 * widened by 1 / selectivity) rather than first build the set of every match: when that costs less
 * than the payload checks the set would take (the index's candidates, or every live record for a
 * filter no index narrows), and the filter is not so selective that the beam would be huge.
 */
export function preferLazy(est: FilterEstimate, live: number, ef: number): boolean {
  if (live === 0) return false;
  const selectivity = est.matches / live;
  if (selectivity < LAZY_MIN_SELECTIVITY) return false;
  const materialise = est.from === "indexes" ? est.matches : live;
  return LAZY_COST_PER_CANDIDATE * (ef / selectivity) < materialise;
}
