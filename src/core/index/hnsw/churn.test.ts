// Tests of local graph repair: after heavy replace and delete churn the graph's recall@10 against brute
// force stays within a small tolerance of a fresh build over the same final vectors; deletes and
// inserts repair locally (tombstones wait, no consolidate per write) until tombstones pass their share.

import { test } from "node:test";
import assert from "node:assert/strict";
import { HnswIndex } from "./hnsw.js";
import { clustered, exact, recallAt, slabWith } from "./test-support.js";
import type { Quantization } from "./layout.js";

const N = 4000;
const Q = 100;
const K = 10;
const DIM = 48;
/** Stated tolerance: recall@10 after churn may fall at most this far below a fresh build's. */
const TOLERANCE = 0.01;

async function churned(quantization: Quantization) {
  // One draw: the originals, their replacements and the queries all come from the same clusters.
  const drawn = clustered(2 * N + Q, DIM, 11);
  const slab = await slabWith(drawn.slice(0, N), "l2");
  const index = await HnswIndex.create(slab, { m: 12, efConstruction: 100, quantization, seed: 1 });
  for (let s = 0; s < N; s++) index.insert(s);
  const live = new Uint8Array(N).fill(1);
  // 20% replaced in place (same slot, new vector), then 20% deleted and their slots reused by new
  // vectors (as the database's free list does), then 5% deleted for good.
  for (let s = 0; s < N; s++) {
    const r = (s * 7919) % 100;
    if (r < 20) {
      slab.set(s, drawn[N + s]);
      index.insert(s);
    } else if (r < 40) {
      assert.ok(index.delete(s));
    }
  }
  for (let s = 0; s < N; s++) {
    const r = (s * 7919) % 100;
    if (r >= 20 && r < 40) {
      slab.set(s, drawn[N + s]);
      index.insert(s);
    } else if (r >= 40 && r < 45) {
      index.delete(s);
      live[s] = 0;
    }
  }
  const queries = drawn.slice(2 * N);
  const truth = queries.map((q) => exact(slab, q, K, live));
  return { slab, index, queries, truth, live };
}

for (const quantization of ["none", "int8"] as const) {
  test(`20% replaced, 20% deleted and reused, 5% deleted: recall@10 within ${TOLERANCE} of a fresh build (${quantization})`, async () => {
    const { slab, index, queries, truth, live } = await churned(quantization);
    assert.equal(
      index.size,
      live.reduce((a, b) => a + b, 0),
    );
    const fresh = await HnswIndex.create(slab, { m: 12, efConstruction: 100, quantization, seed: 1 });
    for (let s = 0; s < N; s++) if (live[s]) fresh.insert(s);
    const recall = (ix: HnswIndex) =>
      recallAt(
        queries.map((q) => ix.search(q, K, { ef: 64 }).slots),
        truth,
      );
    const rFresh = recall(fresh);
    const rChurned = recall(index);
    assert.ok(rFresh >= 0.95, `fresh build recall ${rFresh.toFixed(4)}`);
    assert.ok(rChurned >= rFresh - TOLERANCE, `fresh ${rFresh.toFixed(4)}, after churn ${rChurned.toFixed(4)}`);
    // Deleted slots never come back.
    for (const q of queries) for (const s of index.search(q, K).slots) assert.equal(live[s], 1, `slot ${s} is deleted`);
  });
}

test("deletes leave tombstones (no consolidate per write) until they pass a tenth of the graph", async () => {
  const drawn = clustered(1000, 16, 3);
  const slab = await slabWith(drawn, "l2");
  const index = await HnswIndex.create(slab, { m: 8, efConstruction: 50, seed: 2 });
  for (let s = 0; s < 900; s++) index.insert(s);
  for (let s = 0; s < 50; s++) index.delete(s * 2);
  assert.equal(index.stats().tombstones, 50);
  // An insert into a fresh slot repairs nothing elsewhere: the tombstones stay.
  index.insert(950);
  assert.equal(index.stats().tombstones, 50);
  // Reusing a tombstone's slot makes it live again.
  index.insert(0);
  assert.equal(index.stats().tombstones, 49);
  assert.equal(index.size, 852);
  // Past 10% of the nodes (tombstones > 0.1 · (live + tombstones)) the consolidate pass frees them all.
  let most = 0;
  for (let s = 1; index.stats().tombstones > 0; s += 2) {
    most = Math.max(most, index.stats().tombstones);
    index.delete(s);
    assert.ok(s < 400, "tombstones were never consolidated");
  }
  // 852 live + 49 tombstones: the pass runs at the delete that takes the tombstones past 90.
  assert.equal(most, 90);
  for (const q of drawn.slice(960, 980)) {
    const hits = index.search(q, 5).slots;
    assert.equal(hits.length, 5);
    for (const h of hits) assert.ok(index.has(h));
  }
});

test("replacing every node, the entry point included, keeps every live node reachable", async () => {
  const drawn = clustered(1000, 8, 4);
  const slab = await slabWith(drawn.slice(0, 500), "l2");
  const index = await HnswIndex.create(slab, { m: 6, efConstruction: 40, quantization: "none", seed: 3 });
  for (let s = 0; s < 500; s++) index.insert(s);
  // Every slot in turn (so the entry point among them, whose reuse must first move the entry): deleted,
  // then reused with a new vector.
  for (let s = 0; s < 500; s++) {
    index.delete(s);
    slab.set(s, drawn[500 + s]);
    index.insert(s);
  }
  assert.equal(index.stats().tombstones, 0);
  const all = index.search(drawn[0], 500, { ef: 500 });
  assert.equal(new Set(all.slots).size, 500);
  const live = new Uint8Array(500).fill(1);
  assert.deepEqual(index.search(drawn[1], 10, { ef: 200 }).slots, exact(slab, drawn[1], 10, live));
});
