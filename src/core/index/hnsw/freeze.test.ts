/**
 * HnswIndex.freeze copies the graph into the memory it is given (prepared and faulted in before a
 * checkpoint) while that has room, and into new memory otherwise: either way the frozen graph
 * serializes to the live graph's bytes, and stays so while the live graph changes.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeHnsw } from "./serialize.js";
import { buildClustered } from "./test-support.js";

test("a graph frozen into given memory serializes as the live graph, and keeps its bytes while the graph changes", async () => {
  const { index, slab } = await buildClustered(1500, 0, 10, "l2", "int8", { dim: 16 });
  const bytes = index.freezeBytes();
  const live = index.serialize();
  const room = new Uint8Array(bytes);
  const frozen = index.freeze(room);
  assert.deepEqual(writeHnsw(frozen), live);
  assert.ok(
    room.some((b) => b !== 0),
    "the copy is in the given memory",
  );
  assert.deepEqual(writeHnsw(index.freeze()), live, "and without memory given, in new memory");
  // Changes after the freeze do not reach the frozen copy.
  slab.ensureCapacity(1600);
  for (let s = 1500; s < 1600; s++) {
    slab.set(
      s,
      slab.get(s - 1500).map((x) => x + 0.01),
    );
    index.insert(s);
  }
  assert.notDeepEqual(index.serialize(), live);
  assert.deepEqual(writeHnsw(frozen), live);
});

test("memory too small for a region is not used for it: that region goes to new memory", async () => {
  const { index } = await buildClustered(800, 0, 10, "cosine", "none", { dim: 8 });
  const live = index.serialize();
  const room = new Uint8Array(64);
  assert.deepEqual(writeHnsw(index.freeze(room)), live);
  assert.deepEqual(writeHnsw(index.freeze(new Uint8Array(index.freezeBytes() - 8))), live);
});
