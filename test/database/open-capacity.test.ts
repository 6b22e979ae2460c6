/**
 * Opening sizes each vector memory to the records it loads: the index file's slot table exactly, in
 * one growth (at 10M records a geometric step over it no longer fits the 4 GiB a memory holds). It used
 * to reserve the whole table again for every segment, plus the segment, and doubled that.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Database } from "../../src/database/database.js";
import { MemoryDirectory } from "../../src/storage/memory-directory.js";

const DIM = 32;
const vec = (i: number): number[] => Array.from({ length: DIM }, (_, d) => Math.sin(i * 0.37 + d) + (d === 0 ? 2 : 0));

test("a reopened collection's vector memory is no larger than the one that wrote it", async () => {
  const dir = new MemoryDirectory();
  const db = await Database.openDirectory(dir);
  const c = await db.createCollection("c", {
    vectors: { v: { dim: DIM, metric: "l2", index: { type: "hnsw", m: 8, efConstruction: 32 } } },
  });
  // Several segments (a checkpoint after each batch), so a per-segment reservation would show.
  for (let b = 0; b < 4; b++) {
    await c.upsert(Array.from({ length: 3000 }, (_, i) => ({ id: `r${b * 3000 + i}`, vector: vec(b * 3000 + i) })));
    await db.checkpoint();
  }
  const written = (await db.stats()).collections[0].vectorBytes;
  await db.close();
  let largest = 0;
  const reopened = await Database.openDirectory(dir, {
    growHook: (to) => {
      largest = Math.max(largest, to);
      return true;
    },
  });
  const rc = await reopened.collection("c");
  assert.equal(await rc.count(), 12_000);
  assert.equal((await rc.query({ vector: vec(4321), limit: 1 })).hits[0].id, "r4321");
  const opened = (await reopened.stats()).collections[0].vectorBytes;
  console.log(`vector memory: ${written} bytes written, ${opened} reopened (largest growth ${largest})`);
  assert.ok(largest <= written, `reopening grew the memory to ${largest} bytes; the writer had ${written}`);
  await reopened.close();
});
