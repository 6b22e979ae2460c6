/**
 * The README's promise with many identical vectors, through the public API: a query returns
 * min(limit, matching) hits, unfiltered and with a filter that matches everything, at large limits.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Database } from "../../src/database/database.js";
import { MemoryDirectory } from "../../src/storage/memory-directory.js";

test("6,000 identical vectors: limits 100 to 1,000 return exactly that many hits, with and without a match-all filter", async () => {
  const db = await Database.openDirectory(new MemoryDirectory());
  const c = await db.createCollection("c", {
    vectors: { v: { dim: 8, metric: "cosine", index: { type: "hnsw" } } },
    indexes: { k: "keyword" },
  });
  const v = [1, 2, 3, 4, 5, 6, 7, 8];
  await c.upsert(Array.from({ length: 6000 }, (_, i) => ({ id: `r${i}`, vector: v, payload: { k: "a" } })));
  for (const limit of [100, 500, 1000]) {
    for (const filter of [undefined, { k: "a" }]) {
      const { hits, plan } = await c.query({ vector: v, limit, filter });
      assert.equal(new Set(hits.map((h) => h.id)).size, limit, `limit ${limit}, ${JSON.stringify(plan)}`);
    }
  }
  await db.close();
});
