// Maximal marginal relevance: lambda 1 is similarity order, lower lambdas trade closeness for
// diversity, k past the candidates returns them all, and a zero vector is scored, not NaN.
import { test } from "node:test";
import assert from "node:assert/strict";
import { maximalMarginalRelevance } from "./mmr.js";

const query = [1, 0, 0];
// 0 and 1 are near the query and each other; 2 is less near but points elsewhere.
const candidates = [
  [1, 0.01, 0],
  [1, 0.02, 0],
  [0.6, 0, 0.8],
];

test("lambda 1 keeps similarity order", () => {
  assert.deepEqual(maximalMarginalRelevance(query, candidates, 3, 1), [0, 1, 2]);
});

test("a lower lambda picks the different candidate before the near duplicate", () => {
  assert.deepEqual(maximalMarginalRelevance(query, candidates, 2, 0.5), [0, 2]);
  // Pure diversity: the closest first (not whichever comes first), then the one least like it.
  assert.deepEqual(maximalMarginalRelevance(query, [candidates[2], candidates[1], candidates[0]], 3, 0), [2, 0, 1]);
});

test("k past the candidates returns each once; no candidates returns none", () => {
  assert.deepEqual([...maximalMarginalRelevance(query, candidates, 10, 0.5)].sort(), [0, 1, 2]);
  assert.deepEqual(maximalMarginalRelevance(query, [], 3, 0.5), []);
});

test("a zero vector is similar to nothing, so it is picked last rather than breaking the order", () => {
  assert.deepEqual(
    maximalMarginalRelevance(
      query,
      [
        [0, 0, 0],
        [1, 0, 0],
      ],
      2,
      0.5,
    ),
    [1, 0],
  );
});
