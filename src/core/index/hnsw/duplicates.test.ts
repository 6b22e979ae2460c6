// Tests of the graph with many identical vectors: every node stays reachable (the graph alone returns
// exactly min(k, n) hits), duplicates mixed with distinct vectors keep recall against brute force, and
// the planner returns k hits with a match-all filter at large limits.

import { test } from "node:test";
import assert from "node:assert/strict";
import { HnswIndex } from "./hnsw.js";
import { annSearch } from "../../query/plan/vector-plan.js";
import { bitmapOf } from "../slot-bitmap.js";
import { clustered, exact, slabWith } from "./test-support.js";

const same = (n: number, dim: number): Float32Array[] =>
  Array.from({ length: n }, () => Float32Array.from({ length: dim }, (_, i) => i + 1));

async function graphOver(vectors: Float32Array[], quantization: "none" | "int8") {
  const slab = await slabWith(vectors, "cosine");
  const index = await HnswIndex.create(slab, { quantization, seed: 7 });
  for (let s = 0; s < vectors.length; s++) index.insert(s);
  return { slab, index };
}

for (const quantization of ["none", "int8"] as const) {
  test(`3,000 identical vectors: the graph alone returns min(k, n) distinct hits (${quantization})`, async () => {
    const vectors = same(3000, 8);
    const { index } = await graphOver(vectors, quantization);
    for (const k of [10, 100, 500, 1000, 3000]) {
      const r = index.search(vectors[0], k, { ef: k });
      assert.equal(new Set(r.slots).size, k, `k = ${k}: ${new Set(r.slots).size} distinct hits`);
    }
  });
}

test("duplicates mixed with distinct vectors: k hits and recall ≥ 0.95 against brute force", async () => {
  // One draw, so the queries come from the same clusters as the data.
  const drawn = clustered(3040, 16, 5);
  const distinct = drawn.slice(0, 3000);
  const copies = same(2000, 16);
  // Interleaved so that duplicates arrive throughout the build, not in one block.
  const vectors: Float32Array[] = [];
  let c = 0;
  let d = 0;
  for (let i = 0; i < 5000; i++) vectors.push(i % 5 < 2 ? copies[c++] : distinct[d++]);
  const { slab, index } = await graphOver(vectors, "int8");
  const queries = [...drawn.slice(3000), copies[0]];
  const found: number[][] = [];
  const truth: number[][] = [];
  for (const q of queries) {
    for (const k of [10, 100]) {
      const r = index.search(q, k, { ef: 2 * k });
      assert.equal(r.slots.length, k);
      found.push(r.slots);
      truth.push(exact(slab, q, k, index.liveView()));
    }
  }
  // Among tied duplicates any k are right, so a hit counts when it scores at least the exact k-th score.
  let hits = 0;
  let total = 0;
  for (let i = 0; i < found.length; i++) {
    const q = queries[Math.floor(i / 2)];
    const kth = Math.min(...truth[i].map((s) => cosine(slab.get(s), q)));
    for (const s of found[i]) if (cosine(slab.get(s), q) >= kth - 1e-6) hits++;
    total += truth[i].length;
  }
  assert.ok(hits / total >= 0.95, `recall ${(hits / total).toFixed(4)} counting ties`);
  const copyQuery = found.slice(-2);
  for (const slots of copyQuery) for (const s of slots) assert.ok(cosine(slab.get(s), copies[0]) > 0.9999);
});

test("a match-all filter with limits up to 1,000 returns exactly the limit over 6,000 identical vectors", async () => {
  const n = 6000;
  const vectors = same(n, 8);
  const { index } = await graphOver(vectors, "int8");
  const all = bitmapOf(
    Array.from({ length: n }, (_, s) => s),
    n,
  );
  for (const k of [100, 500, 1000]) {
    const r = annSearch(index, vectors[0], { k, filter: all, force: "hnsw" });
    assert.equal(new Set(r.slots).size, k, `limit ${k}: ${r.slots.length} hits (${JSON.stringify(r.plan)})`);
  }
});

test("the exact fallback finds every match even after a widened search grew the slab's memory", async () => {
  const n = 8000;
  const data = clustered(n, 16, 3);
  const { slab, index } = await graphOver(data, "int8");
  const allowed = Array.from({ length: 200 }, (_, i) => i * 40);
  const before = slab.bytesUsed();
  // The estimate says every record matches, so the planner widens the beam (growing the graph's
  // scratch, and so the memory) before its exact scan of the 200 real matches.
  const r = annSearch(index, data[1], { k: 4000, filter: bitmapOf(allowed, n), matches: n, force: "hnsw" });
  assert.ok(slab.bytesUsed() > before, "the widened search grew the memory");
  assert.equal(r.plan.fellBack, true);
  assert.deepEqual(
    [...r.slots].sort((a, b) => a - b),
    allowed,
  );
});

function cosine(a: Float32Array, b: Float32Array): number {
  let s = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    s += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return s / Math.sqrt(na * nb);
}
