/**
 * The server bench's ef tuning: the smallest ladder value whose tuning recall reaches the target, found by
 * binary search, and an honest "not reached" (with the largest ef) when no value does.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { EF_LADDER, smallestEf } from "../../bench/tune.js";

/** A monotone recall curve: recall = 1 - 1/ef. */
const curve = async (ef: number) => 1 - 1 / ef;

test("picks the smallest ef reaching the target, not merely one that does", async () => {
  for (const target of [0.5, 0.9, 0.95, 0.99]) {
    const want = EF_LADDER.find((ef) => 1 - 1 / ef >= target)!;
    const got = await smallestEf(target, curve);
    assert.equal(got.ef, want, `target ${target}`);
    assert.equal(got.reached, true);
    assert.equal(got.tuneRecall, 1 - 1 / want);
  }
});

test("an exact hit on a ladder value is taken, and the first ladder value when it already reaches", async () => {
  assert.equal((await smallestEf(0.75, curve, [2, 4, 8])).ef, 4);
  assert.equal((await smallestEf(0.1, curve, [2, 4, 8])).ef, 2);
});

test("a target no ef reaches gives the largest ef, marked not reached", async () => {
  const got = await smallestEf(0.999, curve, [10, 20, 40]);
  assert.deepEqual(got, { ef: 40, tuneRecall: 0.975, reached: false });
});

test("asks for few values: a binary search, not a sweep", async () => {
  const asked: number[] = [];
  await smallestEf(0.97, async (ef) => {
    asked.push(ef);
    return 1 - 1 / ef;
  });
  assert.ok(asked.length <= Math.ceil(Math.log2(EF_LADDER.length)) + 2, `asked ${asked.join(", ")}`);
});
