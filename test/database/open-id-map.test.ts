/**
 * An open from an index file places every id by the file's slot table and builds no id -> slot map
 * until something asks for an id. Across several segments (later ones deleting, replacing and
 * re-adding ids of earlier ones, and adding ids the table places above the loaded ones), the opened
 * collection holds exactly the records it held, answers by id, and keeps working as before once the
 * map is built: writes, deletes, a checkpoint and another open.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { MemoryDirectory, open, type Collection, type RecordInput } from "../../src/index.js";
import type { CollectionState } from "../../src/database/collection-state.js";

const vec = (i: number) => Array.from({ length: 4 }, (_, j) => Math.cos(i * 0.9 + j));
const rec = (i: number, salt = 0): RecordInput => ({ id: `r${i}`, vector: vec(i + salt), payload: { i, salt } });

/** The state behind a collection (private to the database: reached only to see whether the map exists). */
const stateOf = (db: unknown): CollectionState =>
  [...(db as { collections: Map<string, CollectionState> }).collections.values()][0];
const hasIdMap = (s: CollectionState): boolean => (s as unknown as { idMap: unknown }).idMap !== null;

async function everything(c: Collection): Promise<unknown[]> {
  const out: unknown[] = [];
  let cursor: string | undefined;
  do {
    const page = await c.scroll({ limit: 50, cursor, withPayload: true });
    out.push(...page.records.map((r) => [r.id, r.payload]));
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return out;
}

test("an open from an index file builds the id map only on first access by id, and holds the same records", async () => {
  const dir = new MemoryDirectory();
  let db = await open(dir);
  let c = await db.createCollection("c", { vectors: { v: { dim: 4, metric: "l2", index: { type: "hnsw" } } } });
  await c.upsert(Array.from({ length: 120 }, (_, i) => rec(i)));
  await db.checkpoint();
  // A second segment: deletions of the first one's ids, replacements, and new ids.
  await c.delete(["r3", "r50", "r51", "r119"]);
  await c.upsert([rec(10, 7), rec(60, 7), rec(200), rec(201)]);
  await db.checkpoint();
  // A third: an id deleted above comes back, one added above goes.
  await c.upsert([rec(50, 9), rec(202)]);
  await c.delete(["r201", "r11"]);
  await db.checkpoint();
  const want = await everything(c);
  const count = await c.count();
  await db.close();

  db = await open(dir);
  assert.equal(db.recovery.graphsRestored, 1);
  const state = stateOf(db);
  assert.equal(hasIdMap(state), false, "no id map after open");
  c = await db.collection("c");
  assert.equal(await c.count(), count);
  const hits = await c.query({ vector: vec(60 + 7), limit: 1 });
  assert.equal(hits.hits[0].id, "r60");
  assert.equal(hasIdMap(state), false, "a count and a search need no id map");
  assert.deepEqual(await everything(c), want);
  const got = await c.get(["r10", "r50", "r3", "r201", "r202"], { withPayload: true });
  assert.deepEqual(
    got.map((r) => [r.id, r.payload]),
    [
      ["r10", { i: 10, salt: 7 }],
      ["r50", { i: 50, salt: 9 }],
      ["r202", { i: 202, salt: 0 }],
    ],
  );
  assert.equal(hasIdMap(state), true, "built by the read by id");
  // Writes after the map is built: a replacement, a deletion, a new id.
  await c.upsert([rec(0, 5), rec(300)]);
  await c.delete(["r1"]);
  assert.equal(await c.count(), count + 1 - 1);
  await db.checkpoint();
  const after = await everything(c);
  await db.close();

  db = await open(dir);
  c = await db.collection("c");
  assert.deepEqual(await everything(c), after);
  assert.equal((await c.get(["r0"], { withPayload: true }))[0].payload?.salt, 5);
  assert.deepEqual(await c.get(["r1"]), []);
  await db.close();
});
