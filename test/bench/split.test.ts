/**
 * The benchmarks' query split: every query lands in exactly one part, the tuning part is every fifth row,
 * and the split is the same on every call (so a tuned parameter is never chosen on a scored query).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { splitQueries, TUNE_EVERY } from "../../bench/split.js";

test("the tuning and scored parts are disjoint and together hold every query once, in order", () => {
  const rows = Array.from({ length: 23 }, (_, i) => i);
  const { tune, scored } = splitQueries(rows);
  assert.deepEqual(tune, [0, 5, 10, 15, 20]);
  assert.equal(scored.length, 18);
  assert.ok(scored.every((r) => r % TUNE_EVERY !== 0));
  assert.deepEqual(
    [...tune, ...scored].sort((a, b) => a - b),
    rows,
  );
});

test("the split is deterministic and keys on position, not value", () => {
  const qs = ["q7", "q3", "q9", "q1", "q2", "q8"];
  assert.deepEqual(splitQueries(qs), splitQueries([...qs]));
  assert.deepEqual(splitQueries(qs).tune, ["q7", "q8"]);
});
