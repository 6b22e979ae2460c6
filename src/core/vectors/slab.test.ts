// Tests of VectorSlab: layout survives growth, cosine normalisation, score conventions per metric,
// argument checks; run against both kernel implementations.

import { test } from "node:test";
import assert from "node:assert/strict";
import { isQuiverError } from "../errors/errors.js";
import { loadKernelFactory } from "../kernels/load.js";
import { scalarKernelFactory } from "../kernels/scalar.js";
import type { KernelFactory } from "../kernels/kernels.js";
import { VectorSlab } from "./slab.js";
import { seededRandom as rng } from "../util/prng.js";

const randomVec = (r: () => number, dim: number): number[] => Array.from({ length: dim }, () => r() * 2 - 1);

async function factories(): Promise<KernelFactory[]> {
  return [await loadKernelFactory(), scalarKernelFactory];
}

const close = (a: number, b: number, tol = 1e-5): boolean => Math.abs(a - b) <= tol * Math.max(1, Math.abs(b));

test("vectors survive geometric growth across many memory.grow calls", async () => {
  for (const factory of await factories()) {
    const dim = 129;
    const slab = new VectorSlab(factory, dim, "dot");
    assert.equal(slab.capacity, 0);
    const r = rng(1);
    const vecs: number[][] = [];
    let grows = 0;
    for (let s = 0; s < 3000; s++) {
      const before: number = slab.capacity;
      slab.ensureCapacity(s + 1);
      if (slab.capacity !== before) {
        grows++;
        assert.ok(slab.capacity >= 1.5 * before, "capacity grows geometrically (1.5x)");
      }
      vecs.push(randomVec(r, dim));
      slab.set(s, vecs[s]);
    }
    assert.ok(grows >= 8 && grows <= 16, `grew ${grows} times`);
    assert.ok(slab.bytesUsed() >= 65536 + 3000 * dim * 4);
    for (let s = 0; s < 3000; s += 7) assert.deepEqual(slab.get(s), Float32Array.from(vecs[s]));
    // Scores after growth read the right vectors.
    const q = randomVec(r, dim);
    const scores = slab.scoreRange(q, 0, 3000);
    for (let s = 0; s < 3000; s += 97) {
      const expected = vecs[s].reduce((acc, x, i) => acc + Math.fround(x) * Math.fround(q[i]), 0);
      assert.ok(close(scores[s], expected, 1e-4), `${factory.name} slot ${s}`);
    }
  }
});

test("cosine stores normalised vectors and scores cosine similarity", async () => {
  for (const factory of await factories()) {
    const slab = new VectorSlab(factory, 3, "cosine");
    slab.ensureCapacity(4);
    slab.set(0, [3, 0, 4]);
    slab.set(1, [0, 10, 0]);
    slab.set(2, [-1, 0, 0]);
    slab.set(3, [1e-20, 0, 1e-20]);
    const v0 = slab.get(0);
    assert.ok(close(v0[0], 0.6) && close(v0[2], 0.8), factory.name);
    assert.ok(close(slab.get(3)[0], Math.SQRT1_2), "tiny vectors normalise without underflow");
    const scores = slab.scoreRange([6, 0, 8], 0, 4);
    assert.ok(close(scores[0], 1));
    assert.ok(close(scores[1], 0));
    assert.ok(close(scores[2], -0.6));
    assert.ok(close(scores[3], 1.4 / Math.SQRT2));
    assert.equal(slab.finalScore(0.5), 0.5);
    // get() is a copy, not a view into slab memory.
    v0[0] = 42;
    assert.ok(close(slab.get(0)[0], 0.6));
  }
});

test("l2 scores are −squared distance in the hot path and −distance after finalScore", async () => {
  for (const factory of await factories()) {
    const slab = new VectorSlab(factory, 2, "l2");
    slab.ensureCapacity(3);
    slab.set(0, [0, 0]);
    slab.set(1, [3, 4]);
    slab.set(2, [1, 1]);
    // `+ 0` folds −0 (the score of an identical vector) into 0 for the comparison.
    const raw = Array.from(slab.scoreSlots([0, 0], Uint32Array.of(1, 0, 2, 1)), (x) => x + 0);
    assert.deepEqual(raw, [-25, 0, -2, -25]);
    assert.equal(slab.finalScore(-25), -5);
    assert.equal(slab.finalScore(1e-9), -0, "rounding above zero clamps to distance 0");
    const partial = slab.scoreSlots([0, 0], Uint32Array.of(2, 1, 0), 2);
    assert.deepEqual(Array.from(partial), [-2, -25]);
  }
});

test("dot scores are raw dot products, including for out-of-order slot lists", async () => {
  for (const factory of await factories()) {
    const slab = new VectorSlab(factory, 5, "dot");
    slab.ensureCapacity(10);
    for (let s = 0; s < 10; s++) slab.set(s, [s, 1, 0, 0, 2]);
    const scores = slab.scoreSlots([1, 1, 1, 1, 1], Uint32Array.of(9, 0, 4));
    assert.deepEqual(Array.from(scores), [12, 3, 7]);
    assert.deepEqual(Array.from(slab.scoreRange([2, 0, 0, 0, 0], 3, 4)), [6, 8, 10, 12]);
  }
});

test("invalid arguments are refused with QuiverError codes", async () => {
  const factory = await loadKernelFactory();
  assert.throws(
    () => new VectorSlab(factory, 0, "dot"),
    (e) => isQuiverError(e, "INVALID_ARGUMENT"),
  );
  assert.throws(
    () => new VectorSlab(factory, 4, "hamming" as "dot"),
    (e) => isQuiverError(e, "INVALID_ARGUMENT"),
  );
  const slab = new VectorSlab(factory, 4, "l2");
  slab.ensureCapacity(2);
  const cap = slab.capacity;
  assert.throws(
    () => slab.set(0, [1, 2, 3]),
    (e) => isQuiverError(e, "DIMENSION_MISMATCH"),
  );
  assert.throws(
    () => slab.set(cap, [1, 2, 3, 4]),
    (e) => isQuiverError(e, "INVALID_ARGUMENT"),
  );
  assert.throws(
    () => slab.get(-1),
    (e) => isQuiverError(e, "INVALID_ARGUMENT"),
  );
  assert.throws(
    () => slab.scoreRange([1, 2, 3, 4], cap - 1, 2),
    (e) => isQuiverError(e, "INVALID_ARGUMENT"),
  );
  assert.throws(
    () => slab.scoreSlots([1, 2, 3, 4], Uint32Array.of(0, cap)),
    (e) => isQuiverError(e, "INVALID_ARGUMENT"),
  );
  assert.throws(
    () => slab.scoreRange([1, 2, 3], 0, 1),
    (e) => isQuiverError(e, "DIMENSION_MISMATCH"),
  );
});

test("memory that cannot grow is RESOURCE_EXHAUSTED, and the slab keeps what it held", async () => {
  const slab = new VectorSlab(await loadKernelFactory(), 64, "dot");
  slab.ensureCapacity(16);
  const row = Array.from({ length: 64 }, (_, i) => i);
  slab.set(3, row);
  const links = slab.allocRegion(64);
  const grow = WebAssembly.Memory.prototype.grow;
  // What an engine out of memory (or at its maximum) does: grow throws a RangeError.
  WebAssembly.Memory.prototype.grow = () => {
    throw new RangeError("WebAssembly.Memory.grow(): Maximum memory size exceeded");
  };
  try {
    const exhausted = (e: unknown) =>
      isQuiverError(e, "RESOURCE_EXHAUSTED") && /could not grow the memory/.test(String(e));
    assert.throws(() => slab.ensureCapacity(100_000), exhausted);
    assert.throws(() => slab.allocRegion(1 << 24), exhausted); // e.g. an HNSW pool
    assert.throws(() => slab.resizeRegion(links, 1 << 24), exhausted);
  } finally {
    WebAssembly.Memory.prototype.grow = grow;
  }
  assert.equal(slab.capacity, 16);
  assert.deepEqual(Array.from(slab.get(3)), row);
  slab.ensureCapacity(100_000); // and grows once memory is there again
  assert.deepEqual(Array.from(slab.get(3)), row);
});

test("more than a 4 GiB memory can hold is RESOURCE_EXHAUSTED, refused before allocating", async () => {
  const slab = new VectorSlab(await loadKernelFactory(), 65536, "dot");
  // 20,000 rows of 256 KiB: 5 GiB, past wasm32's 4 GiB.
  assert.throws(
    () => slab.ensureCapacity(20_000),
    (e) => isQuiverError(e, "RESOURCE_EXHAUSTED") && /4 GiB/.test(String(e)),
  );
  assert.equal(slab.capacity, 0);
});
