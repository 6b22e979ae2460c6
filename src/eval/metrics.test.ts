// IR metrics against hand-computed trec_eval values.
import { test } from "node:test";
import assert from "node:assert/strict";
import { meanMetrics, queryMetrics } from "./metrics.js";

test("nDCG@10 (graded), AP, R@100 and P@10 follow trec_eval", () => {
  const judged = new Map([
    ["a", 3],
    ["b", 1],
    ["c", 2],
  ]);
  const m = queryMetrics(["x", "a", "y", "b"], judged);
  const dcg = 3 / Math.log2(3) + 1 / Math.log2(5);
  const idcg = 3 + 2 / Math.log2(3) + 1 / Math.log2(4);
  assert.ok(Math.abs(m.ndcg10 - dcg / idcg) < 1e-12);
  assert.ok(Math.abs(m.map - (1 / 2 + 2 / 4) / 3) < 1e-12);
  assert.ok(Math.abs(m.recall100 - 2 / 3) < 1e-12);
  assert.equal(m.p10, 0.2);
});

test("the mean covers judged queries with a relevant document, unanswered ones scoring 0", () => {
  const qrels = new Map([
    ["q1", new Map([["a", 1]])],
    ["q2", new Map([["b", 1]])],
    ["q3", new Map([["c", 0]])],
  ]);
  const m = meanMetrics(new Map([["q1", ["a"]]]), qrels);
  assert.equal(m.queries, 2);
  assert.equal(m.ndcg10, 0.5);
});
