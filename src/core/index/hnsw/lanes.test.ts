// Search lanes on one thread: a lane search (the module's searchLane, as a reader thread runs it) must
// answer exactly what search() answers, for every filter mode, across capacity growth and deletes,
// with int8 codes and with originals on disk; and lanes must stay ready only while nothing changes.

import { test } from "node:test";
import assert from "node:assert/strict";
import { loadKernelFactory } from "../../kernels/load.js";
import { VectorSlab, type RowFile } from "../../vectors/slab.js";
import { HnswIndex, type HnswSearchOptions } from "./hnsw.js";
import { instantiateHnsw, loadHnswModule } from "./module.js";
import { clustered } from "./test-support.js";
import { bitmapOf } from "../slot-bitmap.js";

/** A RowFile in memory (originals on disk without a disk). */
function memoryRows(): RowFile {
  let bytes = new Uint8Array(0);
  return {
    read(pos, into) {
      into.fill(0);
      into.set(bytes.subarray(pos, pos + into.length));
    },
    write(pos, data) {
      if (pos + data.length > bytes.length) {
        const grown = new Uint8Array(Math.max(pos + data.length, bytes.length * 2));
        grown.set(bytes);
        bytes = grown;
      }
      bytes.set(data, pos);
    },
    close() {},
  };
}

async function build(n: number, dim: number, opts: { shared: boolean; disk?: boolean }) {
  const factory = await loadKernelFactory(undefined, undefined, opts.shared);
  const slab = new VectorSlab(factory, dim, "cosine", opts.disk ? memoryRows() : null);
  const module = await loadHnswModule(undefined, opts.shared);
  const index = new HnswIndex(module, slab, { m: 8, efConstruction: 60, quantization: "int8" });
  const vectors = clustered(n, dim, 11);
  const add = (from: number, to: number) => {
    slab.ensureCapacity(to);
    index.reserve(to - from);
    for (let s = from; s < to; s++) {
      slab.set(s, vectors[s]);
      index.insert(s);
    }
  };
  return { slab, index, module, add, queries: clustered(30, dim, 99) };
}

/** What a reader thread does for one query, run here: laneCall, searchLane over the same memory, laneHits. */
function laneSearch(
  index: HnswIndex,
  module: WebAssembly.Module,
  lane: number,
  q: Float32Array,
  k: number,
  opts: HnswSearchOptions,
) {
  const x = instantiateHnsw(module, index.slab.wasmMemory);
  const call = index.laneCall(lane, q, k, opts);
  assert.ok(call, "a non-empty graph has something to search");
  const found = x.searchLane(call.hdr, call.lane, call.k, call.ef, call.filterMode);
  return index.laneHits(lane, q, k, found);
}

for (const disk of [false, true]) {
  test(`a lane search answers what search() answers (${disk ? "originals on disk" : "in memory"}, shared memory)`, async () => {
    const { slab, index, module, add, queries } = await build(1500, 24, { shared: true, disk });
    add(0, 1000);
    index.prepareLanes(2);
    assert.ok(index.lanesReady(2));
    // Growth moves regions: the lanes are readied again, and still agree.
    add(1000, 1500);
    assert.equal(index.lanesReady(2), false, "a change of the graph unreadies the lanes");
    for (const s of [3, 50, 700]) index.delete(s);
    index.prepareLanes(2);
    const live = index.liveView();
    const half = bitmapOf(
      Array.from({ length: 1500 }, (_, s) => s).filter((s) => s % 2 === 0 && live[s] === 1),
      slab.capacity,
    );
    const tenth = bitmapOf(
      Array.from({ length: 1500 }, (_, s) => s).filter((s) => s % 10 === 0 && live[s] === 1),
      slab.capacity,
    );
    const modes: HnswSearchOptions[] = [
      { ef: 40 },
      { ef: 200 },
      { ef: 40, filter: half, filterMode: "plain" },
      { ef: 40, filter: tenth, filterMode: "acorn" },
    ];
    let compared = 0;
    for (const opts of modes) {
      for (const [i, q] of queries.entries()) {
        const want = index.search(q, 10, opts);
        const got = laneSearch(index, module, i % 2, q, 10, opts);
        assert.deepEqual(got.slots, want.slots);
        assert.deepEqual(got.scores, want.scores);
        assert.equal(got.visited, want.visited);
        for (const s of got.slots) assert.ok(![3, 50, 700].includes(s), "a deleted slot is never returned");
        compared++;
      }
    }
    assert.equal(compared, modes.length * queries.length);
  });
}

test("lanes work over an ordinary memory too, and a slab over a shared one has a SharedArrayBuffer", async () => {
  const plain = await build(300, 16, { shared: false });
  plain.add(0, 300);
  plain.index.prepareLanes(1);
  const q = plain.queries[0];
  assert.deepEqual(laneSearch(plain.index, plain.module, 0, q, 5, {}).slots, plain.index.search(q, 5).slots);
  assert.ok(!(plain.slab.wasmMemory.buffer instanceof SharedArrayBuffer));
  const shared = await build(10, 16, { shared: true });
  assert.ok(shared.slab.wasmMemory.buffer instanceof SharedArrayBuffer);
});

test("lanes are counted in the index's bytes and freed with it", async () => {
  const { slab, index, add } = await build(500, 16, { shared: true });
  add(0, 500);
  const before = index.stats().indexBytes;
  index.prepareLanes(3);
  const lanes = index.stats().indexBytes - before;
  // Each lane holds at least the visited epochs and three pair lists for every slot.
  assert.ok(lanes >= 3 * slab.capacity * 25, `lanes hold ${lanes} bytes for ${slab.capacity} slots`);
  index.prepareLanes(1);
  assert.ok(index.stats().indexBytes - before < lanes / 2, "fewer lanes give memory back");
});
