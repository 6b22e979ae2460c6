/**
 * The write path is reachable only through the validated methods: a user of `Database` or
 * `Collection` cannot log or apply operations, or reach a collection's in-memory state, directly.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { open } from "../../src/index.js";

// (TypeScript-private fields such as the database's collection map stay reachable through a cast;
// what matters is that no method or field hands out the write path.)
test("Database and Collection expose no write, applyLogged, stateByUid or state of their own", async () => {
  const db = await open();
  try {
    const docs = await db.createCollection("docs", { vectors: { v: { dim: 2, metric: "cosine" } } });
    const internals = ["write", "applyLogged", "stateByUid", "state", "host", "db"];
    for (const name of internals) {
      assert.equal((db as unknown as Record<string, unknown>)[name], undefined, `db.${name}`);
      assert.equal((docs as unknown as Record<string, unknown>)[name], undefined, `collection.${name}`);
    }
    // No field of a handle leads to the database's write path either.
    for (const [key, value] of Object.entries(docs)) {
      if (typeof value === "object" && value !== null)
        for (const name of internals) assert.ok(!(name in value), `collection.${key}.${name}`);
    }
    await docs.upsert([{ id: "a", vector: [1, 0] }]);
    assert.equal(await docs.count(), 1);
  } finally {
    await db.close();
  }
});
