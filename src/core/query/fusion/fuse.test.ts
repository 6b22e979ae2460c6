// Fusion: RRF by ranks and weights, z-score fusion with true scores for documents outside a list,
// min-max, and deterministic ties.
import { test } from "node:test";
import assert from "node:assert/strict";
import { fuse, type FusionSource } from "./fuse.js";

function src(slots: number[], scores: number[], all: Map<number, number>, mean = 0, std = 1): FusionSource {
  return { slots, scores, mean, std, scoreOf: (s) => all.get(s) };
}

test("rrf sums weight / (k + rank)", () => {
  const a = src([1, 2], [9, 8], new Map());
  const b = src([2, 3], [0.9, 0.8], new Map());
  const out = fuse([a, b], { method: "rrf", k: 60, weights: [1, 1] });
  assert.deepEqual(
    out.map((h) => h.slot),
    [2, 1, 3],
  );
  assert.ok(Math.abs(out[0].score - (1 / 62 + 1 / 61)) < 1e-12);
  assert.deepEqual(out[0].parts, [
    { rank: 2, score: 8 },
    { rank: 1, score: 0.9 },
  ]);
  assert.equal(out[2].parts[0], null);
  const weighted = fuse([a, b], { method: "rrf", k: 60, weights: [1, 0] });
  assert.deepEqual(
    weighted.map((h) => h.slot),
    [1, 2, 3],
  );
});

test("zscore uses each source's distribution and the true score of documents outside its list", () => {
  // Source A stands out (z = 10 for its best); source B is flat (z at most 1).
  const a = src([1], [10], new Map([[2, 0]]), 0, 1);
  const b = src([2, 1], [0.6, 0.5], new Map(), 0.5, 0.1);
  const out = fuse([a, b], { method: "zscore", k: 60, weights: [1, 1] });
  assert.equal(out[0].slot, 1);
  assert.ok(Math.abs(out[0].score - (10 + 0)) < 1e-9);
  assert.ok(Math.abs(out[1].score - (0 + 1)) < 1e-9);
});

test("minmax rescales each list to [0, 1]; equal scores tie-break on the lower slot", () => {
  const a = src([5, 4], [2, 1], new Map([[3, 0]]));
  const b = src([3, 4], [1, 0], new Map([[5, 0.5]]));
  const out = fuse([a, b], { method: "minmax", k: 60, weights: [1, 1] });
  assert.deepEqual(
    out.map((h) => [h.slot, h.score]),
    [
      [5, 1.5],
      [3, 1],
      [4, 0],
    ],
  );
});
