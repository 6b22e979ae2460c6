// Tests of memory growth under refusal: a slab grows to exactly what is needed when doubling is
// refused, a refused growth throws RESOURCE_EXHAUSTED and changes nothing, and an HNSW index's
// reserve() leaves the reserved inserts nothing to allocate.

import { test } from "node:test";
import assert from "node:assert/strict";
import { isQuiverError } from "../errors/errors.js";
import { loadKernelFactory } from "../kernels/load.js";
import { HnswIndex } from "../index/hnsw/hnsw.js";
import { VectorSlab, type GrowHook } from "./slab.js";

const DIM = 64;
const row = (i: number) => Float32Array.from({ length: DIM }, (_, d) => Math.sin(i + d * 0.3) + 2);

test("when doubling is refused the slab grows to exactly what is needed; beyond that it refuses and keeps its rows", async () => {
  let limit = Infinity;
  const hook: GrowHook = (to) => to <= limit;
  const slab = new VectorSlab(await loadKernelFactory(), DIM, "l2", null, { label: "t.v", growHook: hook });
  slab.ensureCapacity(1000);
  for (let i = 0; i < 1000; i++) slab.set(i, row(i));
  // Room for about 1,500 rows: doubling to 2,000 is refused, exactly 1,200 is not.
  limit = slab.bytesUsed() + 500 * DIM * 4;
  slab.ensureCapacity(1200);
  assert.equal(slab.capacity, 1200);
  assert.throws(
    () => slab.ensureCapacity(5000),
    (e: unknown) =>
      isQuiverError(e, "RESOURCE_EXHAUSTED") &&
      /^t\.v: 5000 vectors of dim 64 need \d+ bytes/.test(String((e as Error).message)),
  );
  assert.equal(slab.capacity, 1200);
  for (let i = 0; i < 1000; i += 99) assert.deepEqual(slab.get(i), row(i));
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
