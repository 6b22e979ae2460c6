/**
 * The process of the heap-limit test, run with a small JavaScript heap. Usage: node
 * --max-old-space-size=MB heap-limit-child.js <dir>. Upserts new records (ids, a payload with a string,
 * a number index) in batches until a write is refused, then replaces and deletes one acknowledged record;
 * prints one JSON line: { acked, code, message, replaced, deleted }, and closes the database.
 */
import { open, QuiverError } from "../../src/index.js";

const dir = process.argv[2];
// Checkpoints every 4 MiB of log, not 64: a checkpoint's transient heap grows with the log it folds,
// and this heap is small.
const db = await open(dir, { walMaxBytes: 4 * 2 ** 20 });
const c = await db.createCollection("fill", {
  vectors: { v: { dim: 4, metric: "l2", index: { type: "flat" } } },
  indexes: { n: "number" },
});
const BATCH = 500;
let acked = 0;
let refused: QuiverError | null = null;
// Far more records than a small heap holds: the loop ends at the refusal, or the test fails on the count.
while (acked < 5_000_000) {
  const batch = Array.from({ length: BATCH }, (_, j) => {
    const i = acked + j;
    return {
      id: `record-${i}`,
      vector: [i % 7, i % 11, i % 13, 1],
      payload: { n: i, text: `payload ${i} `.repeat(4) },
    };
  });
  try {
    await c.upsert(batch);
  } catch (e) {
    if (!(e instanceof QuiverError)) throw e;
    refused = e;
    break;
  }
  acked += BATCH;
}
// Replacing an existing record and deleting one still go through while new records are refused.
const replaced = await c.upsert([{ id: "record-0", vector: [1, 1, 1, 1], payload: { n: -1 } }]).then(
  () => true,
  (e) => String(e),
);
const deleted = await c.delete(["record-1"]).then(
  () => true,
  (e) => String(e),
);
console.log(JSON.stringify({ acked, code: refused?.code, message: refused?.message, replaced, deleted }));
await db.close();
