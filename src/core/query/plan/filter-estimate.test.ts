/**
 * Tests of filter estimates and the plan chosen on them: an indexed filter is bounded by its index's
 * statistics (no payload read), an unindexed one is sampled at random with an interval that holds the
 * true count, a small collection is counted exactly, and the plan (lazy graph search, one exact pass,
 * or the match set) follows selectivity, indexes, ef and the estimate's uncertainty.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { PayloadIndexSet } from "../../payload/indexes.js";
import { compileFilter } from "../filter/compile.js";
import { parseFilter } from "../filter/parse.js";
import {
  chooseFilterPlan,
  estimateFilter,
  FILTER_SAMPLE,
  LAZY_MIN_SELECTIVITY,
  type EstimateSource,
  type FilterEstimate,
} from "./filter-estimate.js";
import { seededRandom } from "../../util/prng.js";

function source(n: number, holes = 0): EstimateSource & { payloads: (Record<string, unknown> | undefined)[] } {
  const r = seededRandom(4);
  const indexes = new PayloadIndexSet([{ field: "w", type: "number" }]);
  const payloads: (Record<string, unknown> | undefined)[] = [];
  for (let s = 0; s < n; s++) {
    if (holes > 0 && s % holes === 0) {
      payloads.push(undefined);
      continue;
    }
    const u = r();
    payloads.push({ u, w: u });
    indexes.add(s, payloads[s]!);
  }
  const live = payloads.filter((p) => p !== undefined).length;
  return { indexes, live, highWater: n, payloadAt: (s) => payloads[s], payloads };
}

const estimate = (filter: Record<string, unknown>, src: EstimateSource): FilterEstimate => {
  const node = parseFilter(filter);
  return estimateFilter(node, src, compileFilter(node));
};

test("an indexed filter is estimated from its index, reading no payload; exact for one condition", () => {
  const src = source(20_000);
  const est = estimate({ w: { $lt: 0.1 } }, src);
  assert.equal(est.from, "indexes");
  assert.equal(est.payloadsChecked, 0);
  const truth = src.payloads.filter((p) => (p!.w as number) < 0.1).length;
  assert.deepEqual([est.matches, est.low, est.high], [truth, truth, truth]);
  // With an unindexed condition beside it, the index only bounds the count from above.
  const both = estimate({ w: { $lt: 0.1 }, u: { $gte: 0.05 } }, src);
  assert.deepEqual([both.from, both.low, both.high], ["indexes", 0, truth]);
});

test(`an unindexed filter is sampled at random (${FILTER_SAMPLE} live payloads), its interval holding the truth`, () => {
  const src = source(50_000, 7);
  for (const sel of [0.5, 0.1, 0.01, 0.001]) {
    const est = estimate({ u: { $lt: sel } }, src);
    assert.equal(est.from, "sample");
    // Draws that fall on empty slots (1 in 7 here) are drawn again.
    assert.equal(est.payloadsChecked, FILTER_SAMPLE);
    const truth = src.payloads.filter((p) => p !== undefined && (p.u as number) < sel).length;
    assert.ok(est.low <= truth && truth <= est.high, `selectivity ${sel}: ${est.low}..${est.high}, truth ${truth}`);
    assert.ok(est.low <= est.matches && est.matches <= est.high);
    // Two standard errors each side, not a vacuous [0, live].
    const se = Math.sqrt(Math.max(sel * (1 - sel), 1 / FILTER_SAMPLE) / FILTER_SAMPLE) * src.live;
    assert.ok(est.high - est.low <= 6 * se, `selectivity ${sel}: width ${est.high - est.low}, se ${se}`);
  }
});

test("the same collection and filter always give the same estimate (a seeded sample)", () => {
  const src = source(30_000);
  assert.deepEqual(estimate({ u: { $lt: 0.2 } }, src), estimate({ u: { $lt: 0.2 } }, src));
});

test("a collection of at most twice the sample is counted exactly", () => {
  const src = source(1000, 9);
  const est = estimate({ u: { $gte: 0.3 } }, src);
  const truth = src.payloads.filter((p) => p !== undefined && (p.u as number) >= 0.3).length;
  assert.deepEqual([est.from, est.matches, est.low, est.high], ["count", truth, truth, truth]);
});

const sampled = (matches: number, low: number, high: number): FilterEstimate => ({
  matches,
  low,
  high,
  from: "sample",
  payloadsChecked: FILTER_SAMPLE,
});
const indexed = (matches: number): FilterEstimate => ({
  matches,
  low: matches,
  high: matches,
  from: "indexes",
  payloadsChecked: 0,
});

test("broad filters are tested lazily on the graph's candidates; selective unindexed ones by one exact pass", () => {
  const live = 200_000;
  assert.equal(chooseFilterPlan(sampled(100_000, 95_000, 105_000), live, 24, true).plan, "lazy");
  assert.equal(chooseFilterPlan(sampled(20_000, 16_000, 24_000), live, 24, true).plan, "lazy");
  assert.equal(chooseFilterPlan(sampled(2_000, 800, 5_000), live, 24, true).plan, "scan");
  assert.equal(chooseFilterPlan(sampled(0, 0, 1_500), live, 24, true).plan, "scan");
  // Without a graph there is nothing to be lazy on: the exact pass.
  assert.equal(chooseFilterPlan(sampled(100_000, 95_000, 105_000), live, 24, false).plan, "scan");
});

test("the lazy plan is priced at the estimate's lower bound, and never below LAZY_MIN_SELECTIVITY", () => {
  const live = 1_000_000;
  // Same point estimate (3%), different certainty: a wide interval makes the beam too risky.
  assert.equal(chooseFilterPlan(sampled(30_000, 25_000, 36_000), live, 24, true).plan, "lazy");
  // Too uncertain to be lazy: the set is built and walked in the graph (30,000 matches are many to score).
  assert.equal(chooseFilterPlan(sampled(30_000, 1_000, 90_000), live, 24, true).plan, "match-set");
  const floor = LAZY_MIN_SELECTIVITY * live;
  const below = chooseFilterPlan(sampled(floor, floor - 1, floor * 2), live, 1, true);
  assert.equal(below.costs.lazy, undefined);
  assert.equal(chooseFilterPlan(sampled(floor, floor, floor * 2), live, 1, true).costs.lazy !== undefined, true);
});

test("indexed filters build the match set through the index unless a lazy beam is cheaper", () => {
  const live = 200_000;
  assert.equal(chooseFilterPlan(indexed(2_000), live, 24, true).plan, "match-set");
  assert.equal(chooseFilterPlan(indexed(200), live, 24, true).plan, "match-set");
  assert.equal(chooseFilterPlan(indexed(100_000), live, 24, true).plan, "lazy");
  // A wider ef makes the lazy beam dearer than the index's candidates.
  assert.equal(chooseFilterPlan(indexed(4_000), live, 16, true).plan, "lazy");
  assert.equal(chooseFilterPlan(indexed(4_000), live, 64, true).plan, "match-set");
  assert.equal(chooseFilterPlan(indexed(0), 0, 24, true).plan, "match-set");
});
