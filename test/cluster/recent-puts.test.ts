/**
 * RecentPuts: a GET of an object this node PUT is answered from memory (the store is not asked), up to
 * its byte bound (oldest dropped first); a delete drops the kept copy; large objects are not kept.
 */
import assert from "node:assert/strict";
import { it } from "node:test";
import { DirectoryObjectStore } from "../../src/cluster/object-store.js";
import { RecentPuts } from "../../src/cluster/recent-puts.js";
import { MemoryDirectory } from "../../src/storage/memory-directory.js";
import { CountingStore } from "../support/shard-storage.js";

it("answers GETs of its recent PUTs from memory, within its bound, and forgets deleted ones", async () => {
  const inner = new CountingStore(new DirectoryObjectStore(new MemoryDirectory()));
  const store = new RecentPuts(inner, 1000);
  const bytes = (n: number, fill: number) => new Uint8Array(n).fill(fill);
  await store.put("a/1", bytes(200, 1));
  await store.put("a/2", bytes(200, 2));
  assert.deepEqual(await store.get("a/1"), bytes(200, 1));
  assert.deepEqual(inner.gets, [], "both kept");
  await store.put("a/big", bytes(300, 3)); // over a quarter of the bound: stored, not kept
  assert.deepEqual(await store.get("a/big"), bytes(300, 3));
  assert.deepEqual(inner.gets, ["a/big"]);
  for (let i = 3; i <= 7; i++) await store.put(`a/${i}`, bytes(200, i)); // 7 × 200 > 1000: the oldest go
  assert.deepEqual(await store.get("a/1"), bytes(200, 1), "read through from the store");
  assert.deepEqual(await store.get("a/7"), bytes(200, 7));
  assert.deepEqual(inner.gets, ["a/big", "a/1"]);
  await store.delete("a/7");
  assert.equal(await store.get("a/7"), null, "a deleted object is gone, not served from memory");
  assert.equal(store.hits, 2);
});
