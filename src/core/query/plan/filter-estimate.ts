/**
 * How many records a filter matches, estimated before anything is materialised (from payload index
 * statistics when the indexes can narrow it, from a random sample of live payloads when they cannot,
 * with the sample's uncertainty), and from that the cheapest way to honour it in a vector query:
 * test the graph's candidates lazily, scan every payload once keeping the k best, or build the match
 * set (through the indexes) and search with it.
 */

import type { PayloadIndexSet } from "../../payload/indexes.js";
import type { FilterNode } from "../filter/ast.js";
import type { PayloadPredicate } from "../filter/compile.js";
import { seededRandom } from "../../util/prng.js";
import { estimateMatches } from "./candidates.js";
import { EXACT_FILTER_MAX } from "./vector-plan.js";

/** Live payloads sampled to estimate an unindexed filter: ±4.4% at selectivity 0.5 (two standard errors). */
export const FILTER_SAMPLE = 512;
/** Standard errors on each side of a sampled share for its bounds (Wilson interval, ~95%). */
const Z = 2;
/** Random slots drawn per wanted sample: slots past deletes hold nothing, so a sparse slab yields fewer. */
const DRAWS_PER_SAMPLE = 4;

// The cost model, in units of one vector scored by an exact scan. Measured on 200k × 128 (m 16,
// int8 graph; /tmp script of bench/RESULTS.md "Filters by estimate", best of 7 interleaved rounds on a
// loaded machine): testing a payload with a compiled filter in a pass costs 0.2 of a scored vector; a
// graph search about 12 per unit of beam width (ef 240 → 2,400); an index candidate put in the match
// set and re-checked about 8 (range lookup, the re-check, the bitmap, its score).

/** One payload tested by a compiled filter in a pass over the slots. */
export const PAYLOAD_TEST_COST = 0.2;
/** One index candidate put in the match set and re-checked against the whole filter. */
export const INDEX_CANDIDATE_COST = 8;
/** A graph search, per unit of beam width. */
export const GRAPH_COST_PER_EF = 12;
/**
 * A filter-aware (bitmap) graph walk, per unit of beam width: assumed 4× a plain walk (it hops over
 * non-matching nodes); not measured here, it only decides between walking and scoring a large set.
 */
const FILTERED_WALK_COST_PER_EF = 4 * GRAPH_COST_PER_EF;

/**
 * Below this lower bound on the selectivity a lazy search is not tried whatever the cost model says:
 * the beam (ef / selectivity) would be so wide that an error in the estimate costs more than it saves.
 */
export const LAZY_MIN_SELECTIVITY = 0.002;

export interface FilterEstimate {
  /** Estimated live records matching. */
  matches: number;
  /** Bounds on the true count: equal to `matches` when it is exact, the sample's interval otherwise. */
  low: number;
  high: number;
  /** Index statistics (an upper bound, exact for one indexed condition), a sample, or every payload counted. */
  from: "indexes" | "sample" | "count";
  /** Payloads the estimate evaluated. */
  payloadsChecked: number;
}

/** What the estimator reads of a collection. */
export interface EstimateSource {
  indexes: PayloadIndexSet;
  /** Live records. */
  live: number;
  /** Slots in use: the sample is drawn from [0, highWater). */
  highWater: number;
  /** The payload at a slot, undefined for an empty slot. */
  payloadAt(slot: number): Record<string, unknown> | undefined;
}

/**
 * Estimates the filter's matches. When the indexes can bound it (an indexed equality, range or
 * `$exists`, or an `$and` with one), that bound is the estimate; otherwise up to FILTER_SAMPLE live
 * payloads drawn at random (a fixed seed: the same collection gives the same estimate) are tested and
 * the share that matches is scaled to the live count, with a Wilson interval as its bounds. A small
 * collection is counted whole.
 *
 * @example estimateFilter(node, source, compileFilter(node)) // { matches: 1250, low: 640, high: 2400, from: "sample", ... }
 */
export function estimateFilter(node: FilterNode, src: EstimateSource, test: PayloadPredicate): FilterEstimate {
  const bound = estimateMatches(node, src.indexes, src.live);
  if (bound < src.live || src.live === 0) {
    // One indexed condition is counted exactly by its index (arrays aside: a slot per value); a
    // conjunction with other conditions may match fewer.
    const exact = node.kind !== "and" && node.kind !== "or";
    return { matches: bound, low: exact ? bound : 0, high: bound, from: "indexes", payloadsChecked: 0 };
  }
  if (src.live <= FILTER_SAMPLE * 2) {
    let hit = 0;
    let seen = 0;
    for (let s = 0; s < src.highWater; s++) {
      const p = src.payloadAt(s);
      if (p === undefined) continue;
      seen++;
      if (test(p)) hit++;
    }
    return { matches: hit, low: hit, high: hit, from: "count", payloadsChecked: seen };
  }
  const random = seededRandom(0x9e3779b9);
  let seen = 0;
  let hit = 0;
  for (let draw = 0; draw < FILTER_SAMPLE * DRAWS_PER_SAMPLE && seen < FILTER_SAMPLE; draw++) {
    const p = src.payloadAt(Math.floor(random() * src.highWater));
    if (p === undefined) continue;
    seen++;
    if (test(p)) hit++;
  }
  if (seen === 0) return { matches: src.live, low: 0, high: src.live, from: "sample", payloadsChecked: 0 };
  const [lo, hi] = wilson(hit, seen);
  const scale = (x: number) => Math.round(x * src.live);
  return { matches: scale(hit / seen), low: scale(lo), high: scale(hi), from: "sample", payloadsChecked: seen };
}

/** The Wilson score interval of a share of `hit` in `n` at Z standard errors. */
function wilson(hit: number, n: number): [number, number] {
  const p = hit / n;
  const z2 = Z * Z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (Z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

/**
 * How a vector query honours its filter: `lazy` tests the graph's candidates as they come (an exact
 * pass if too few pass), `scan` tests every live payload once and keeps the k best (exact), and
 * `match-set` builds the bitmap of matches (through the indexes when they narrow) for an exact scan
 * of few matches or a filter-aware graph walk.
 */
export type FilterPlan = "lazy" | "scan" | "match-set";

export interface FilterPlanChoice {
  plan: FilterPlan;
  /** The model's cost of each plan it weighed, in vectors scored (see the constants above). */
  costs: Partial<Record<FilterPlan, number>>;
}

/**
 * Chooses the plan of least modelled cost. The lazy plan is priced at the estimate's lower bound
 * (a beam of ef / selectivity: an overestimated selectivity would make it too narrow, then widened
 * and finally abandoned for a full pass) and never tried below LAZY_MIN_SELECTIVITY; the pass and the
 * match set at the point estimate, the pass winning ties (it builds nothing).
 *
 * @example chooseFilterPlan(est, 200_000, 24, true).plan // "scan" for an unindexed 0.1% filter
 */
export function chooseFilterPlan(est: FilterEstimate, live: number, ef: number, graph: boolean): FilterPlanChoice {
  const costs: FilterPlanChoice["costs"] = {};
  const indexed = est.from === "indexes";
  // The set costs its candidates (indexed) or a pass over every payload; its matches are then scored
  // exactly when few (as annSearch does), or walked in the graph.
  const among = est.matches;
  const search = !graph || among <= EXACT_FILTER_MAX ? among : Math.min(among, ef * FILTERED_WALK_COST_PER_EF);
  costs["match-set"] = (indexed ? among * INDEX_CANDIDATE_COST : live * PAYLOAD_TEST_COST) + search;
  if (!indexed) costs.scan = live * PAYLOAD_TEST_COST + among;
  const selectivity = live === 0 ? 0 : est.low / live;
  if (graph && selectivity >= LAZY_MIN_SELECTIVITY) {
    // Each candidate of the beam is a graph node scored and a payload tested.
    costs.lazy = Math.min(live, ef / selectivity) * (GRAPH_COST_PER_EF + PAYLOAD_TEST_COST);
  }
  let plan: FilterPlan = "match-set";
  if (costs.scan !== undefined && costs.scan <= costs[plan]!) plan = "scan";
  if (costs.lazy !== undefined && costs.lazy < costs[plan]!) plan = "lazy";
  return { plan, costs };
}
