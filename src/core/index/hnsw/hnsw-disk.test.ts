// Tests of HnswIndex over a slab whose f32 rows live in a RowFile ("originals on disk"): recall close
// to the in-memory build although construction and repair compare codes, inserts pending the
// quantizer, delete repair, serialize round trip, and exact scans that equal the in-memory ones.

import { test } from "node:test";
import assert from "node:assert/strict";
import { HnswIndex, type Quantization } from "./hnsw.js";
import { buildClustered, clustered, diskSlabWith, recallAt, slabWith, MemoryRowFile } from "./test-support.js";
import { flatSearch } from "../flat/flat-search.js";
import { annSearch } from "../../query/plan/vector-plan.js";
import { allowedSlots, bitmapOf } from "../slot-bitmap.js";
import { VectorSlab, type Metric } from "../../vectors/slab.js";
import { loadKernelFactory } from "../../kernels/load.js";

const N = 4000;
const Q = 100;
const K = 10;
/** Stated thresholds: recall@10 at ef = 64 (binary: 200), and at most this far below the in-memory build. */
const MIN_RECALL = 0.95;
const MAX_GAP = 0.02;

const build = (metric: Metric, quantization: Quantization, disk: boolean, dim = 48) =>
  buildClustered(N, Q, K, metric, quantization, { dim, disk });

for (const [metric, quant] of [
  ["l2", "int8"],
  ["cosine", "int8"],
  ["dot", "int8"],
  ["cosine", "binary"],
] as const) {
  test(`disk originals: recall@10 ≥ ${MIN_RECALL} and within ${MAX_GAP} of in-memory (${metric}, ${quant})`, async () => {
    const dim = quant === "binary" ? 256 : 48;
    const ef = quant === "binary" ? 200 : 64;
    const disk = await build(metric, quant, true, dim);
    const mem = await build(metric, quant, false, dim);
    const rd = recallAt(
      disk.queries.map((q) => disk.index.search(q, K, { ef }).slots),
      disk.truth,
    );
    const rm = recallAt(
      mem.queries.map((q) => mem.index.search(q, K, { ef }).slots),
      mem.truth,
    );
    assert.ok(rd >= MIN_RECALL, `disk recall ${rd.toFixed(4)}`);
    assert.ok(rd >= rm - MAX_GAP, `disk ${rd.toFixed(4)} vs memory ${rm.toFixed(4)}`);
    assert.equal(disk.index.size, N);
    assert.equal(disk.index.stats().originals, "disk");
  });
}

test("disk originals: a few inserts wait for the quantizer, then a search finds them exactly", async () => {
  const data = clustered(30, 16, 3);
  const slab = await diskSlabWith(data.slice(0, 20), "cosine");
  const index = await HnswIndex.create(slab, { m: 8, quantization: "int8" });
  for (let s = 0; s < 20; s++) index.insert(s);
  assert.equal(index.size, 20);
  assert.ok(index.has(5));
  assert.ok(index.delete(5));
  const live = new Uint8Array(20).fill(1);
  live[5] = 0;
  for (const q of data.slice(20)) {
    const hits = index.search(q, 5, { ef: 64 });
    const want = flatSearch(slab, q, 5, { count: 20, live });
    // Re-ranked on the f32 rows read back: the very scores of an exact scan.
    assert.deepEqual({ slots: hits.slots, scores: hits.scores }, { slots: want.slots, scores: want.scores });
  }
});

test("disk originals: deleting 30% and re-inserting keeps recall within 0.01", async () => {
  const { index, queries, truth } = await build("l2", "int8", true);
  const before = recallAt(
    queries.map((q) => index.search(q, K, { ef: 64 }).slots),
    truth,
  );
  const gone: number[] = [];
  for (let s = 0; s < N; s++) if ((s * 7919) % 10 < 3) gone.push(s);
  for (const s of gone) assert.ok(index.delete(s));
  const deleted = new Set(gone);
  for (const q of queries.slice(0, 20)) for (const s of index.search(q, K).slots) assert.ok(!deleted.has(s));
  for (const s of gone) index.insert(s);
  assert.equal(index.size, N);
  const after = recallAt(
    queries.map((q) => index.search(q, K, { ef: 64 }).slots),
    truth,
  );
  assert.ok(after >= before - 0.01, `fresh ${before.toFixed(4)}, after delete+reinsert ${after.toFixed(4)}`);
});

test("disk originals: filtered graph search (plain and two-hop) returns only matches, with recall", async () => {
  const { slab, index, queries, live } = await build("l2", "int8", true);
  for (const [every, strategy] of [
    [2, "hnsw-filtered"],
    [8, "hnsw-acorn"],
  ] as const) {
    const bits = bitmapOf(
      Array.from({ length: N / every }, (_, i) => i * every),
      N,
    );
    const found: number[][] = [];
    const truth: number[][] = [];
    for (const q of queries) {
      const r = annSearch(index, q, { k: K, filter: bits, force: "hnsw" });
      assert.equal(r.plan.strategy, strategy);
      assert.ok(r.slots.every((s) => s % every === 0));
      found.push(r.slots);
      truth.push(flatSearch(slab, q, K, { count: N, live, candidates: allowedSlots(bits, live) }).slots);
    }
    const r = recallAt(found, truth);
    assert.ok(r >= 0.9, `${strategy}: recall ${r.toFixed(4)}`);
  }
});

test("disk originals: serialize → deserialize gives identical results", async () => {
  const { slab, index, queries } = await build("cosine", "int8", true);
  for (let s = 0; s < 50; s++) index.delete(s * 3);
  const bytes = index.serialize();
  const copy = await HnswIndex.deserialize(slab, bytes);
  for (const q of queries) assert.deepEqual(copy.search(q, K, { ef: 32 }), index.search(q, K, { ef: 32 }));
  assert.deepEqual(copy.serialize(), bytes);
});

test("disk rows: exact scans (whole range and candidate lists) equal the in-memory slab's", async () => {
  const data = clustered(5000, 40, 11);
  for (const metric of ["l2", "cosine", "dot"] as const) {
    const mem = await slabWith(data, metric);
    const disk = await diskSlabWith(data, metric);
    assert.ok(disk.batchLimit < data.length, "several staged batches per scan");
    const live = new Uint8Array(data.length).fill(1);
    for (let s = 0; s < data.length; s += 7) live[s] = 0;
    const cands = Uint32Array.from({ length: 2500 }, (_, i) => (i * 2654435761) % data.length).sort();
    for (const q of data.slice(0, 10)) {
      assert.deepEqual(
        flatSearch(disk, q, 20, { count: data.length, live }),
        flatSearch(mem, q, 20, { count: data.length, live }),
      );
      assert.deepEqual(
        flatSearch(disk, q, 20, { count: data.length, live, candidates: cands }),
        flatSearch(mem, q, 20, { count: data.length, live, candidates: cands }),
      );
    }
    assert.deepEqual(disk.get(123), mem.get(123));
    // The rows are not in memory: the disk slab stays at its fixed staging size.
    assert.ok(disk.bytesUsed() < mem.bytesUsed() / 2, `${disk.bytesUsed()} vs ${mem.bytesUsed()}`);
  }
});

test("disk originals need quantized codes; dispose closes the row file", async () => {
  const rows = new MemoryRowFile();
  const slab = new VectorSlab(await loadKernelFactory(), 8, "l2", rows);
  await assert.rejects(HnswIndex.create(slab, { quantization: "none" }), /int8/);
  slab.dispose();
  assert.ok(rows.closed);
});
