/**
 * Before a checkpoint, memory for its graph copies is allocated and faulted in (freeze-room.ts):
 * for each graph of a collection with changes, with room to spare for nodes added meanwhile; none
 * for unchanged collections or graphs under the size limit. A checkpoint taken with that memory
 * freezes each graph into it, and the frozen graph is the live one.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { MemoryDirectory, open } from "../../src/index.js";
import type { CollectionState } from "../../src/database/collection-state.js";
import { FREEZE_ROOM_MIN_BYTES, prepareFreezeRoom } from "../../src/database/freeze-room.js";
import { takeCheckpoint } from "../../src/database/checkpoint.js";
import { writeHnsw } from "../../src/core/index/hnsw/serialize.js";

const statesOf = (db: unknown): CollectionState[] => [
  ...(db as { collections: Map<string, CollectionState> }).collections.values(),
];
const vec = (i: number) => Array.from({ length: 8 }, (_, j) => Math.sin(i * 1.3 + j));

test("room is prepared for the graphs of changed collections, and a checkpoint freezes into it", async () => {
  const db = await open(new MemoryDirectory());
  const hnsw = { v: { dim: 8, metric: "l2" as const, index: { type: "hnsw" as const } } };
  const changed = await db.createCollection("changed", { vectors: hnsw });
  const still = await db.createCollection("still", { vectors: hnsw });
  await still.upsert(Array.from({ length: 300 }, (_, i) => ({ id: `s${i}`, vector: vec(i) })));
  await db.checkpoint();
  await changed.upsert(Array.from({ length: 500 }, (_, i) => ({ id: `c${i}`, vector: vec(i + 1000) })));
  const [c, s] = statesOf(db).sort((a, b) => (a.name < b.name ? -1 : 1));
  const graph = c.vectors.get("v")!.index!;

  const changedGraphs = () => statesOf(db).flatMap((state) => state.changedGraphs());
  assert.equal(changedGraphs().length, 1, "the graphs of changed collections only");
  assert.equal(changedGraphs()[0], graph);
  assert.equal((await prepareFreezeRoom(changedGraphs())).has(graph), false, `graphs under ${FREEZE_ROOM_MIN_BYTES} B`);
  const room = await prepareFreezeRoom(changedGraphs(), 0);
  const memory = room.get(graph);
  assert.ok(memory && memory.length >= graph.freezeBytes(), "room for the changed collection's graph");
  assert.equal(room.has(s.vectors.get("v")!.index!), false, "none for the unchanged one");

  const live = graph.serialize();
  const plan = takeCheckpoint([c], new Map(), new Map(), 8, 1, 1, [], room);
  const frozen = plan.collections[0].index!.graphs.get("v")!;
  assert.deepEqual(writeHnsw(frozen), live);
  assert.equal(frozen.flags.buffer, memory!.buffer, "frozen into the prepared memory");
  c.release(plan.collections[0].records!);
  await db.close();
});
