// Tests of memory growth under refusal: a slab grows by 1.5x, else 1.25x, else 1.125x, else exactly what is
// needed; a refused growth throws RESOURCE_EXHAUSTED and changes nothing; an index's declared bytes per
// slot are reserved with the slots, so its regions fit the capacity chosen; and an HNSW index's
// reserve() leaves the reserved inserts nothing to allocate.

import { test } from "node:test";
import assert from "node:assert/strict";
import { isQuiverError } from "../errors/errors.js";
import { loadKernelFactory } from "../kernels/load.js";
import { HnswIndex } from "../index/hnsw/hnsw.js";
import { VectorSlab, type GrowHook } from "./slab.js";
import { MemoryRowFile } from "../index/hnsw/test-support.js";

const DIM = 64;
const row = (i: number) => Float32Array.from({ length: DIM }, (_, d) => Math.sin(i + d * 0.3) + 2);

test("growth steps down from 1.5x to 1.25x, 1.125x, then exactly what is needed; beyond that it refuses and keeps its rows", async () => {
  let limit = Infinity;
  const hook: GrowHook = (to) => to <= limit;
  const slab = new VectorSlab(await loadKernelFactory(), DIM, "l2", null, { label: "t.v", growHook: hook });
  slab.ensureCapacity(10_000);
  assert.equal(slab.capacity, 10_000, "the first growth is exact");
  for (let i = 0; i < 10_000; i += 7) slab.set(i, row(i));
  slab.ensureCapacity(10_001);
  assert.equal(slab.capacity, 15_000, "1.5x when granted");
  // 264 bytes per row (the row and two scratch words): room for about 2,100 more rows, so 1.5x and
  // 1.25x (7,500 and 3,750 rows) are refused and 1.125x (1,875) is granted.
  limit = slab.bytesUsed() + 2_100 * 264;
  slab.ensureCapacity(15_001);
  assert.equal(slab.capacity, 16_875);
  slab.ensureCapacity(16_900);
  assert.equal(slab.capacity, 16_900, "exactly what is needed once no factor fits");
  assert.throws(
    () => slab.ensureCapacity(50_000),
    (e: unknown) =>
      isQuiverError(e, "RESOURCE_EXHAUSTED") &&
      /^t\.v: 50000 vectors of dim 64 need \d+ bytes/.test(String((e as Error).message)),
  );
  assert.equal(slab.capacity, 16_900);
  for (let i = 0; i < 10_000; i += 7 * 99) assert.deepEqual(slab.get(i), row(i));
});

test("an index's declared bytes per slot are reserved with the slots: near the limit the graph still fits", async () => {
  let limit = Infinity;
  const hook: GrowHook = (to) => to <= limit;
  // Rows on disk, as at 10M vectors: the slots cost the slab nothing, the graph's regions all of it.
  const slab = new VectorSlab(await loadKernelFactory(), DIM, "l2", new MemoryRowFile(), { growHook: hook });
  const index = await HnswIndex.create(slab, { m: 8, efConstruction: 40 });
  slab.ensureCapacity(10_000);
  for (let i = 0; i < 10_000; i++) slab.set(i, row(i));
  index.reserve(10_000);
  for (let i = 0; i < 10_000; i++) index.insert(i);
  // Room for about 3,000 more nodes of the graph: 1.5x (5,000 more slots) would not hold its regions,
  // 1.25x (2,500) does. Undeclared, the slab took 1.5x (free: its rows are on disk) and the graph failed.
  const perNode = index.stats().indexBytes / 10_000;
  limit = slab.bytesUsed() + 3_000 * perNode;
  slab.ensureCapacity(10_001);
  assert.equal(slab.capacity, 12_500);
  index.reserve(slab.capacity - 10_000);
  for (let i = 10_000; i < slab.capacity; i++) {
    slab.set(i, row(i));
    index.insert(i);
  }
  assert.equal(index.size, slab.capacity, "every slot the slab granted holds a graph node");
  index.dispose();
});

test("HnswIndex.reserve(n): the next n inserts allocate nothing; a refused reserve leaves a working index", async () => {
  let calls = 0;
  let refuse = false;
  const hook: GrowHook = () => {
    calls++;
    return !refuse;
  };
  const slab = new VectorSlab(await loadKernelFactory(), DIM, "cosine", null, { growHook: hook });
  const index = await HnswIndex.create(slab, { m: 8, efConstruction: 40 });
  slab.ensureCapacity(3000);
  for (let i = 0; i < 3000; i++) slab.set(i, row(i));
  for (let i = 0; i < 100; i++) index.insert(i);
  index.reserve(2900);
  const before = calls;
  for (let i = 100; i < 3000; i++) index.insert(i);
  assert.equal(calls, before, "no growth after reserve");
  refuse = true;
  slab.ensureCapacity(3000);
  assert.throws(
    () => index.reserve(200_000),
    (e: unknown) => isQuiverError(e, "RESOURCE_EXHAUSTED"),
  );
  assert.ok(index.search(row(1234), 1).scores[0] > 0.9999, "the index still answers");
  assert.equal(index.size, 3000);
});
