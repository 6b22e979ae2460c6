/**
 * A write that adds records is refused before it is logged while the JavaScript heap is nearly full
 * (src/node/heap-usage.ts through DatabaseOptions.admitRecords): replacing and deleting go on, adding resumes
 * once the heap has room, and the reopened database holds exactly what was acknowledged. The heap is
 * reported by a stub here; heap-limit-process.test.ts fills a real one.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { isQuiverError } from "../../src/core/errors/errors.js";
import { Database } from "../../src/database/database.js";
import { HEAP_RESERVE_MIN_BYTES, HEAP_RESERVE_SHARE, heapAdmission } from "../../src/node/heap-usage.js";
import { MemoryDirectory } from "../../src/storage/memory-directory.js";

const MB = 2 ** 20;
const rec = (id: string, x = 1) => ({ id, vector: [x, 2, 3], payload: { x } });
const heapFull = (e: unknown) =>
  isQuiverError(e, "RESOURCE_EXHAUSTED") && /JavaScript heap holds 3700 MB of its 4000 MB limit/.test(e.message);

test("with the heap nearly full, adding records is refused unlogged; replacing and deleting go on", async () => {
  const dir = new MemoryDirectory();
  let used = 1000 * MB;
  const db = await Database.openDirectory(dir, { admitRecords: heapAdmission(() => ({ used, limit: 4000 * MB })) });
  const c = await db.createCollection("c", { vectors: { v: { dim: 3, metric: "cosine" } } });
  await c.upsert([rec("a"), rec("b")]);
  // 300 MB left of 4,000: under the 15% reserve (600 MB).
  used = 3700 * MB;
  await assert.rejects(c.upsert([rec("c")]), heapFull);
  // A write mixing a replacement with a new record adds one: refused whole.
  await assert.rejects(c.upsert([rec("a", 5), rec("d")]), heapFull);
  await c.upsert([rec("a", 2)]);
  await c.delete(["b"]);
  assert.equal(await c.count(), 1);
  // Room again (the reserve is checked at each write): adding resumes.
  used = 3300 * MB;
  await c.upsert([rec("e")]);
  await db.close();

  const again = await Database.openDirectory(dir);
  const c2 = await again.collection("c");
  assert.deepEqual(
    (await c2.get(["a", "b", "c", "d", "e"])).map((r) => [r.id, r.payload]),
    [
      ["a", { x: 2 }],
      ["e", { x: 1 }],
    ],
  );
  await again.close();
});

test("the reserve is a share of the limit, or 128 MB for a small heap, whichever is larger", async () => {
  assert.equal(HEAP_RESERVE_SHARE, 0.15);
  assert.equal(HEAP_RESERVE_MIN_BYTES, 128 * MB);
  let used = 0;
  const limit = 200 * MB;
  const db = await Database.openDirectory(new MemoryDirectory(), {
    admitRecords: heapAdmission(() => ({ used, limit })),
  });
  const c = await db.createCollection("c", { vectors: { v: { dim: 3, metric: "cosine" } } });
  // 200 MB: 15% is 30 MB, so the floor (128 MB) decides: 72 MB used is fine, a byte more is not.
  used = limit - 128 * MB - 1;
  await c.upsert([rec("a")]);
  used = limit - 128 * MB + 1;
  await assert.rejects(c.upsert([rec("b")]), (e) => isQuiverError(e, "RESOURCE_EXHAUSTED"));
  // A runtime that cannot tell (null) is not checked.
  const unknown = await Database.openDirectory(new MemoryDirectory(), { admitRecords: heapAdmission(() => null) });
  const u = await unknown.createCollection("c", { vectors: { v: { dim: 3, metric: "cosine" } } });
  await u.upsert([rec("a")]);
  await Promise.all([db.close(), unknown.close()]);
});
