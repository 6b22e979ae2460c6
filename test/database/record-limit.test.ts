/**
 * The most records a collection holds (limits.maxRecordsPerCollection; at most 2^24, the largest Map
 * a JavaScript engine allows): a write that would pass it is refused before it is logged, so the
 * writer stays healthy, nothing already acknowledged changes, and replacing or deleting goes on.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { MAX_RECORDS_PER_COLLECTION } from "../../src/api/limits.js";
import { isQuiverError } from "../../src/core/errors/errors.js";
import type { CollectionState } from "../../src/database/collection-state.js";
import { Database } from "../../src/database/database.js";
import type { Op, StoredRecord } from "../../src/database/ops.js";
import { GroupReservation } from "../../src/database/reserve.js";
import { MemoryDirectory } from "../../src/storage/memory-directory.js";

const rec = (id: string, x = 1) => ({ id, vector: [x, 2, 3], payload: { x } });
const refused = (e: unknown) =>
  isQuiverError(e, "RESOURCE_EXHAUSTED") && /collection "c" holds 4 records.*past its most, 5/.test(e.message);

test("a write past a collection's most records is refused before it is logged; the rest goes on", async () => {
  const dir = new MemoryDirectory();
  const db = await Database.openDirectory(dir, { limits: { maxRecordsPerCollection: 5 } });
  const c = await db.createCollection("c", { vectors: { v: { dim: 3, metric: "cosine" } } });
  await c.upsert(["a", "b", "c", "d"].map((id) => rec(id)));
  // Two new ids would make 6: refused whole, nothing of it applied.
  await assert.rejects(c.upsert([rec("a", 9), rec("e"), rec("f")]), refused);
  assert.equal(await c.count(), 4);
  assert.deepEqual((await c.get(["a"]))[0]?.payload, { x: 1 });
  // Replacing existing records and adding up to the limit is fine, in one write or several at once.
  await c.upsert([rec("a", 2), rec("e")]);
  await Promise.all([c.upsert([rec("b", 3)]), assert.rejects(c.upsert([rec("g")]), isQuiverErrorExhausted)]);
  assert.equal(await c.count(), 5);
  await c.delete(["e"]);
  await c.upsert([rec("h")]);
  await db.close();

  // Nothing refused was logged: the reopened collection holds exactly what was acknowledged.
  const again = await Database.openDirectory(dir);
  const c2 = await again.collection("c");
  assert.equal(await c2.count(), 5);
  const got = await c2.get(["a", "b", "e", "f", "g", "h"]);
  assert.deepEqual(
    got.map((r) => [r.id, r.payload]),
    [
      ["a", { x: 2 }],
      ["b", { x: 3 }],
      ["h", { x: 1 }],
    ],
  );
  await c2.upsert([rec("e")]);
  await c2.upsert([rec("a", 5)]); // no limit given on reopening: the default, far above 5
  await c2.upsert([rec("z")]);
  assert.equal(await c2.count(), 7);
  await again.close();
});

test("no setting raises the limit past the engine's most (2^24 records)", () => {
  // A collection as full as the engine allows (only what the reservation reads of it).
  const full = { name: "c", size: MAX_RECORDS_PER_COLLECTION, ids: new Map(), reserve: () => undefined };
  const reservation = new GroupReservation(new Map([["u", full as unknown as CollectionState]]), 2 ** 30);
  const op = (id: string): Op => ({
    type: "upsert",
    uid: "u",
    records: [{ id, vectors: new Map(), sparse: new Map(), payloadJson: "{}" } as unknown as StoredRecord],
  });
  assert.throws(
    () => reservation.add([op("new")]),
    (e) => isQuiverErrorExhausted(e) && /past its most, 16777216/.test((e as Error).message),
  );
  full.ids.set("old", 0);
  reservation.add([op("old")]); // replacing a record adds none
});

function isQuiverErrorExhausted(e: unknown): boolean {
  return isQuiverError(e, "RESOURCE_EXHAUSTED");
}
