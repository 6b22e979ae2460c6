// Tests of VectorSlab's region allocator: regions keep their bytes (and vectors theirs) across
// capacity growth, region resizes and frees, and layoutVersion changes whenever an offset may have.

import { test } from "node:test";
import assert from "node:assert/strict";
import { loadKernelFactory } from "../kernels/load.js";
import { VectorSlab, type SlabRegion } from "./slab.js";

function fill(slab: VectorSlab, r: SlabRegion, seed: number, bytes = r.bytes): void {
  const v = new Uint8Array(slab.wasmMemory.buffer, r.offset, bytes);
  for (let i = 0; i < bytes; i++) v[i] = (i * 31 + seed) & 0xff;
}

function check(slab: VectorSlab, r: SlabRegion, seed: number, bytes: number): void {
  const v = new Uint8Array(slab.wasmMemory.buffer, r.offset, bytes);
  for (let i = 0; i < bytes; i++)
    if (v[i] !== ((i * 31 + seed) & 0xff)) assert.fail(`byte ${i} of region ${seed} changed`);
}

test("regions and vectors survive growth, resize and free", async () => {
  const slab = new VectorSlab(await loadKernelFactory(), 5, "l2");
  slab.ensureCapacity(10);
  for (let s = 0; s < 10; s++) slab.set(s, [s, s + 1, s + 2, s + 3, s + 4]);
  const a = slab.allocRegion(1000);
  const b = slab.allocRegion(70_000);
  const c = slab.allocRegion(10);
  assert.equal(a.offset % 64, 0);
  assert.ok(b.offset >= a.offset + 1000 && c.offset >= b.offset + 70_000);
  fill(slab, a, 1, 1000);
  fill(slab, b, 2, 70_000);
  fill(slab, c, 3, 10);
  let v = slab.layoutVersion;
  slab.ensureCapacity(50_000);
  assert.ok(slab.layoutVersion > v);
  check(slab, a, 1, 1000);
  check(slab, b, 2, 70_000);
  check(slab, c, 3, 10);
  v = slab.layoutVersion;
  slab.resizeRegion(a, 300_000);
  assert.ok(slab.layoutVersion > v);
  check(slab, a, 1, 1000);
  assert.ok(
    new Uint8Array(slab.wasmMemory.buffer, a.offset + 1024, 1000).every((x) => x === 0),
    "grown bytes are zero",
  );
  check(slab, b, 2, 70_000);
  check(slab, c, 3, 10);
  slab.resizeRegion(b, 64);
  check(slab, b, 2, 64);
  check(slab, c, 3, 10);
  slab.freeRegion(a);
  check(slab, b, 2, 64);
  check(slab, c, 3, 10);
  for (let s = 0; s < 10; s++) assert.deepEqual(Array.from(slab.get(s)), [s, s + 1, s + 2, s + 3, s + 4]);
  assert.equal(Math.abs(slab.scoreSlots([0, 1, 2, 3, 4], Uint32Array.of(0))[0]), 0);
});
