// TopK against a sort-based oracle: random scores with many ties, any k, any push order.

import { test } from "node:test";
import assert from "node:assert/strict";
import { TopK } from "./topk.js";
import { seededRandom as rng } from "../../util/prng.js";

function oracle(pairs: [number, number][], k: number): { slots: number[]; scores: number[] } {
  const best = [...pairs].sort((a, b) => b[0] - a[0] || a[1] - b[1]).slice(0, k);
  return { slots: best.map((p) => p[1]), scores: best.map((p) => p[0]) };
}

test("keeps the k best pairs, ties to the lower slot, whatever the push order", () => {
  const r = rng(7);
  for (let trial = 0; trial < 300; trial++) {
    const n = Math.floor(r() * 200);
    const k = Math.floor(r() * 30);
    // Few distinct scores, so ties at the k-th place are the common case.
    const pairs: [number, number][] = Array.from({ length: n }, (_, i) => [Math.floor(r() * 10) - 5, i]);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      [pairs[i], pairs[j]] = [pairs[j], pairs[i]];
    }
    const top = new TopK(k);
    for (const [s, slot] of pairs) top.push(s, slot);
    assert.equal(top.size, Math.min(k, n));
    assert.deepEqual(top.drain(), oracle(pairs, k), `trial ${trial}`);
    assert.equal(top.size, 0);
  }
});

test("threshold is −Infinity until full, then the worst kept score", () => {
  const top = new TopK(2);
  assert.equal(top.threshold, -Infinity);
  top.push(1, 0);
  assert.equal(top.threshold, -Infinity);
  top.push(3, 1);
  assert.equal(top.threshold, 1);
  assert.equal(top.push(0.5, 2), false);
  assert.equal(top.push(1, 3), false, "equal score, higher slot loses");
  assert.equal(top.threshold, 1);
  assert.deepEqual(top.drain(), { slots: [1, 0], scores: [3, 1] });
});

test("k = 0 keeps nothing; NaN is never kept; infinities are ordered", () => {
  const none = new TopK(0);
  assert.equal(none.push(1, 0), false);
  assert.deepEqual(none.drain(), { slots: [], scores: [] });
  const top = new TopK(3);
  top.push(NaN, 0);
  top.push(-Infinity, 1);
  top.push(Infinity, 2);
  top.push(0, 3);
  assert.deepEqual(top.drain(), { slots: [2, 3, 1], scores: [Infinity, 0, -Infinity] });
});
