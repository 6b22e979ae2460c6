// Tests of HnswIndex: recall against exact search on clustered data per metric and quantization,
// delete 30% + reinsert keeps recall, serialize round trip answers identically, argument checks.

import { test } from "node:test";
import assert from "node:assert/strict";
import { HnswIndex, type Quantization } from "./hnsw.js";
import { buildClustered, recallAt } from "./test-support.js";
import type { Metric } from "../../vectors/slab.js";

const N = 4000;
const Q = 100;
const K = 10;
/** Stated threshold: recall@10 of the graph against brute force at ef = 64 on this data. */
const MIN_RECALL = 0.95;

const build = (metric: Metric, quantization: Quantization, dim = 48) =>
  buildClustered(N, Q, K, metric, quantization, { dim });

for (const [metric, quant] of [
  ["l2", "none"],
  ["l2", "int8"],
  ["cosine", "int8"],
  ["dot", "int8"],
  ["cosine", "binary"],
] as const) {
  test(`recall@10 ≥ ${MIN_RECALL} against exact search (${metric}, ${quant})`, async () => {
    const { index, queries, truth } = await build(metric, quant, quant === "binary" ? 256 : 48);
    const ef = quant === "binary" ? 200 : 64;
    const found = queries.map((q) => index.search(q, K, { ef }).slots);
    const r = recallAt(found, truth);
    assert.ok(r >= MIN_RECALL, `recall ${r.toFixed(4)}`);
    assert.equal(index.size, N);
  });
}

test("scores are public scores, best first, and equal the exact ones for the same slots", async () => {
  const { slab, index, queries } = await build("l2", "int8");
  const hits = index.search(queries[0], K, { ef: 64 });
  for (let i = 1; i < hits.scores.length; i++) assert.ok(hits.scores[i - 1] >= hits.scores[i]);
  const v = slab.get(hits.slots[0]);
  let d = 0;
  for (let i = 0; i < v.length; i++) d += (v[i] - queries[0][i]) ** 2;
  assert.ok(Math.abs(hits.scores[0] + Math.sqrt(d)) < 1e-4);
});

test("deleting 30% and re-inserting keeps recall within 0.01 of a fresh build", async () => {
  const { index, queries, truth } = await build("l2", "int8");
  const before = recallAt(
    queries.map((q) => index.search(q, K, { ef: 64 }).slots),
    truth,
  );
  const gone: number[] = [];
  for (let s = 0; s < N; s++) if ((s * 7919) % 10 < 3) gone.push(s);
  for (const s of gone) assert.ok(index.delete(s));
  assert.equal(index.size, N - gone.length);
  // Deleted slots never come back while deleted.
  const deleted = new Set(gone);
  for (const q of queries.slice(0, 20)) for (const s of index.search(q, K).slots) assert.ok(!deleted.has(s));
  for (const s of gone) index.insert(s);
  assert.equal(index.size, N);
  assert.equal(index.stats().tombstones, 0);
  const after = recallAt(
    queries.map((q) => index.search(q, K, { ef: 64 }).slots),
    truth,
  );
  assert.ok(after >= before - 0.01, `fresh ${before.toFixed(4)}, after delete+reinsert ${after.toFixed(4)}`);
});

test("serialize → deserialize gives identical results", async () => {
  const { slab, index, queries } = await build("cosine", "int8");
  for (let s = 0; s < 50; s++) index.delete(s * 3);
  const bytes = index.serialize();
  const copy = await HnswIndex.deserialize(slab, bytes);
  for (const q of queries) assert.deepEqual(copy.search(q, K, { ef: 32 }), index.search(q, K, { ef: 32 }));
  assert.deepEqual(copy.serialize(), bytes);
  bytes[bytes.length - 9] ^= 1;
  await assert.rejects(HnswIndex.deserialize(slab, bytes), /checksum/);
});

test("int8 traversal memory is ≥ 3.5× smaller than f32", async () => {
  const { index } = await build("l2", "int8", 128);
  const b = index.stats().bytesPerVector;
  assert.ok(b.full / b.traversal >= 3.5, `${b.full} / ${b.traversal}`);
});

test("argument checks", async () => {
  const { index } = await build("l2", "none");
  assert.throws(() => index.search(new Float32Array(3), 10), /DIMENSION|expected/);
  assert.throws(() => index.insert(N + 1e6), /outside/);
  assert.deepEqual(index.search(new Float32Array(48), 0).slots, []);
});
