/**
 * Tests of filter estimates: an indexed filter is bounded by its index's statistics (no payload read),
 * an unindexed one is sampled within a stated tolerance, a small collection is counted exactly, and
 * the lazy-or-materialise choice follows selectivity, indexes and ef.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { PayloadIndexSet } from "../../payload/indexes.js";
import { parseFilter } from "../filter/parse.js";
import { estimateFilter, FILTER_SAMPLE, preferLazy, type EstimateSource } from "./filter-estimate.js";
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

test("an indexed filter is estimated from its index, reading no payload", () => {
  const src = source(20_000);
  const est = estimateFilter(parseFilter({ w: { $lt: 0.1 } }), src);
  assert.equal(est.from, "indexes");
  assert.equal(est.payloadsChecked, 0);
  const truth = src.payloads.filter((p) => (p!.w as number) < 0.1).length;
  assert.equal(est.matches, truth);
});

test(`an unindexed filter is sampled (${FILTER_SAMPLE} payloads) within 4 standard errors, over empty slots too`, () => {
  const src = source(50_000, 7);
  for (const sel of [0.5, 0.1, 0.01]) {
    const est = estimateFilter(parseFilter({ u: { $lt: sel } }), src);
    assert.equal(est.from, "sample");
    // Sample positions that fall on empty slots (1 in 7 here) are skipped, not replaced.
    assert.ok(est.payloadsChecked <= FILTER_SAMPLE && est.payloadsChecked >= FILTER_SAMPLE * 0.8);
    const truth = src.payloads.filter((p) => p !== undefined && (p.u as number) < sel).length;
    const se = Math.sqrt((sel * (1 - sel)) / FILTER_SAMPLE) * src.live;
    assert.ok(
      Math.abs(est.matches - truth) <= 4 * se + 1,
      `selectivity ${sel}: estimate ${est.matches}, truth ${truth}`,
    );
  }
});

test("a collection no larger than the sample is counted exactly", () => {
  const src = source(200);
  const est = estimateFilter(parseFilter({ u: { $gte: 0.3 } }), src);
  assert.equal(est.matches, src.payloads.filter((p) => (p!.u as number) >= 0.3).length);
});

test("lazy when its beam costs less than the match set: broad filters, unindexed ones sooner", () => {
  const live = 100_000;
  const est = (matches: number, from: "indexes" | "sample") => ({ matches, from, payloadsChecked: 0 });
  assert.equal(preferLazy(est(50_000, "sample"), live, 64), true);
  assert.equal(preferLazy(est(50_000, "indexes"), live, 64), true);
  assert.equal(preferLazy(est(10_000, "sample"), live, 64), true);
  // An index hands over 10,000 candidates for less than a beam of 640 costs.
  assert.equal(preferLazy(est(10_000, "indexes"), live, 64), false);
  assert.equal(preferLazy(est(500, "sample"), live, 64), false);
  // 1% of 1M unindexed: a beam of 6,400 costs less than reading a million payloads.
  assert.equal(preferLazy(est(10_000, "sample"), 1_000_000, 64), true);
  // Below LAZY_MIN_SELECTIVITY never, even where the cost model would say yes.
  assert.equal(preferLazy(est(1_000, "sample"), 1_000_000, 1), false);
  assert.equal(preferLazy(est(50_000, "sample"), live, 4096), false);
  assert.equal(preferLazy(est(0, "sample"), 0, 64), false);
});
