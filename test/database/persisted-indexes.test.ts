/**
 * Opening a collection with every kind of data (a dense vector with its graph, a sparse vector,
 * text, keyword / number / boolean payload indexes, replaced and deleted records, a WAL tail) gives
 * the same answers as before it was closed, whether its payload indexes are loaded from the index
 * file (what a checkpoint writes now) or rebuilt from the records (no index file, a damaged one, or
 * one whose payload indexes do not fit the records); what was loaded or rebuilt is in db.recovery.
 * After each open the final checkpoint succeeds (it once failed on a slot table loaded with holes).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { MemoryDirectory, open, type Collection, type RecordInput } from "../../src/index.js";
import { writeFileSynced } from "../../src/storage/directory.js";
import { decodeIndexFile, encodeIndexFile } from "../../src/storage/index-file.js";
import { MANIFEST_FILE, decodeManifest } from "../../src/storage/manifest.js";
import type { CollectionState } from "../../src/database/collection-state.js";

const N = 400;
const vec = (i: number) => Array.from({ length: 8 }, (_, j) => Math.sin(i * 0.7 + j * 1.3));
const sparse = (i: number) => ({ indices: [i % 11, 20 + (i % 7)], values: [1 + (i % 3), 0.5] });
const TAGS = ["red", "green", "blue", "gold"];

function payload(i: number, salt = 0): Record<string, unknown> {
  const p: Record<string, unknown> = { n: (i * 37 + salt) % 101, title: `note ${i} about ${TAGS[i % 4]} storage` };
  if (i % 5 !== 0) p.tag = i % 9 === 0 ? [TAGS[i % 4], "gold"] : TAGS[(i + salt) % 4];
  if (i % 3 === 0) p.flag = i % 2 === 0;
  if (i % 7 === 0) p.note = { deep: [i, "é✓"] };
  return p;
}

/** Written, churned, checkpointed, then written to again: a directory as a stopped process leaves it. */
async function build(): Promise<{ dir: MemoryDirectory; want: unknown }> {
  const dir = new MemoryDirectory();
  const db = await open(dir);
  const c = await db.createCollection("mixed", {
    vectors: { v: { dim: 8, metric: "cosine", index: { type: "hnsw" } }, s: { kind: "sparse" } },
    text: { title: {} },
    indexes: { tag: "keyword", n: "number", flag: "boolean" },
  });
  const record = (i: number, salt = 0): RecordInput => ({
    id: `r${i}`,
    vectors: i % 10 === 9 ? { v: vec(i) } : { v: vec(i), s: sparse(i) },
    payload: payload(i, salt),
  });
  for (let i = 0; i < N; i += 100) await c.upsert(Array.from({ length: 100 }, (_, j) => record(i + j)));
  await c.delete(Array.from({ length: 30 }, (_, k) => `r${k * 13}`));
  await c.upsert(Array.from({ length: 40 }, (_, k) => record(k * 7 + 1, 3)));
  await db.checkpoint();
  // Only in the WAL: replayed on top of what was loaded.
  await c.upsert([record(N, 1), record(2, 5)]);
  await c.delete(["r4", "r399"]);
  const want = await answers(c);
  const stopped = await copyOf(dir);
  await db.close();
  return { dir: stopped, want };
}

async function answers(c: Collection): Promise<unknown> {
  const out: unknown[] = [await c.count()];
  const filters = [
    { tag: "gold" },
    { tag: { $in: ["red", "blue"] } },
    { n: { $gte: 20, $lt: 60 } },
    { n: { $gt: 95 } },
    { flag: true },
    { flag: { $exists: true } },
    { $and: [{ tag: "green" }, { n: { $lte: 50 } }] },
    { "note.deep": { $exists: true } },
  ];
  for (const filter of filters) {
    out.push(await c.count(filter));
    const hits = await c.query({ vector: { v: vec(17) }, filter, limit: 5, ef: 400, withPayload: true });
    out.push(hits.hits.map((h) => [h.id, h.payload]));
  }
  out.push((await c.query({ vector: { s: sparse(3) }, limit: 8 })).hits.map((h) => `${h.id}:${h.score.toFixed(6)}`));
  out.push((await c.query({ text: "gold storage", limit: 8 })).hits.map((h) => `${h.id}:${h.score.toFixed(6)}`));
  out.push(await c.get(["r1", "r2", "r8", "r13", `r${N}`], { withPayload: true, withVectors: true }));
  let cursor: string | null | undefined;
  do {
    const page = await c.scroll({
      limit: 150,
      cursor: cursor ?? undefined,
      filter: { n: { $lt: 30 } },
      withPayload: true,
    });
    out.push(page.records);
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

async function copyOf(dir: MemoryDirectory): Promise<MemoryDirectory> {
  const copy = new MemoryDirectory();
  for (const f of await dir.list()) if (f !== "LOCK") await writeFileSynced(copy, f, await dir.read(f));
  return copy;
}

async function indexFileOf(dir: MemoryDirectory): Promise<string> {
  const name = decodeManifest(await dir.read(MANIFEST_FILE)).collections[0].indexFile;
  assert.ok(name);
  return name;
}

/** Opens `dir`, checks its answers and what recovery reports, then closes it and opens it once more. */
async function check(dir: MemoryDirectory, want: unknown, restored: number, warning: RegExp | null, what: string) {
  const later: string[] = [];
  const db = await open(dir, { onWarning: (w) => later.push(w) });
  assert.equal(db.recovery.payloadIndexesRestored, restored, what);
  if (warning)
    assert.ok(
      db.recovery.warnings.some((w) => warning.test(w)),
      `${what}: ${db.recovery.warnings.join(" | ")}`,
    );
  else assert.deepEqual(db.recovery.warnings, [], what);
  assert.deepEqual(await answers(await db.collection("mixed")), want, what);
  await db.close();
  const recovery = new Set(db.recovery.warnings);
  assert.deepEqual(
    later.filter((w) => !recovery.has(w)),
    [],
    `${what}: the final checkpoint succeeded`,
  );
  // close() checkpointed: the next open loads what that checkpoint wrote, and answers the same.
  const again = await open(dir);
  assert.equal(again.recovery.payloadIndexesRestored, 1, `${what}, reopened`);
  assert.deepEqual(again.recovery.warnings, [], `${what}, reopened`);
  assert.deepEqual(await answers(await again.collection("mixed")), want, `${what}, reopened`);
  await again.close();
}

test("payload indexes load from the index file and answer as before the close, with every kind of data", async () => {
  const { dir, want } = await build();
  await check(dir, want, 1, null, "loaded");
});

test("without payload indexes in the index file (none, or no index file) they are rebuilt, with the same answers", async () => {
  const { dir, want } = await build();
  const name = await indexFileOf(dir);
  const snapshot = decodeIndexFile(await dir.read(name), name);
  assert.deepEqual([...snapshot.payload.keys()].sort(), ["flag", "n", "tag"]);
  const older = await copyOf(dir);
  await older.remove(name);
  await writeFileSynced(older, name, encodeIndexFile({ ...snapshot, payload: new Map() }));
  await check(older, want, 0, null, "an index file without payload indexes");
  const none = await copyOf(dir);
  await none.remove(name);
  await check(none, want, 0, new RegExp(`${name}: .*rebuilt from the records`), "no index file");
});

test("damaged or mismatched payload indexes are detected and rebuilt, never used", async () => {
  const { dir, want } = await build();
  const name = await indexFileOf(dir);
  const original = await dir.read(name);
  const snapshot = decodeIndexFile(original, name);
  const swapped = new Map(snapshot.payload);
  swapped.set("tag", snapshot.payload.get("n")!);
  const damagedCount = new Map(snapshot.payload);
  const tagBytes = snapshot.payload.get("tag")!.slice();
  new DataView(tagBytes.buffer).setUint32(16, 1_000_000, true); // the first value's slot count
  damagedCount.set("tag", tagBytes);
  // A slot table with one id missing: what the indexes say about slots cannot be trusted.
  const firstLive = snapshot.slotIds.findIndex((id) => id !== undefined);
  const otherTable = snapshot.slotIds.map((id, slot) => (slot === firstLive ? undefined : id));
  const flipped = original.slice();
  flipped[original.length - 40] ^= 0x10; // inside the payload indexes, the last section
  const cases: [string, Uint8Array, RegExp][] = [
    ["a flipped byte", flipped, /index file checksum mismatch.*payload indexes are rebuilt/],
    [
      "an index of another type",
      encodeIndexFile({ ...snapshot, payload: swapped }),
      /damaged \(payload index of type number, declared keyword\); the payload indexes are rebuilt/,
    ],
    [
      "counts past the slots",
      encodeIndexFile({ ...snapshot, payload: damagedCount }),
      /payload indexes are damaged .*; the payload indexes are rebuilt/,
    ],
    [
      "another slot table",
      encodeIndexFile({ ...snapshot, slotIds: otherTable }),
      /payload indexes in idx-\d+\.qidx did not match the records and were rebuilt/,
    ],
  ];
  for (const [what, bytes, warning] of cases) {
    const copy = await copyOf(dir);
    await copy.remove(name);
    await writeFileSynced(copy, name, bytes);
    await check(copy, want, 0, warning, what);
  }
});

test("an open parses no payload; reads parse only what they touch, and checkpoints write unread payloads as stored", async () => {
  const dir = new MemoryDirectory();
  let db = await open(dir);
  const c = await db.createCollection("lazy", {
    vectors: { v: { dim: 8, metric: "l2", index: { type: "hnsw" } } },
    indexes: { tag: "keyword", n: "number" },
  });
  await c.upsert(Array.from({ length: 300 }, (_, i) => ({ id: `r${i}`, vectors: { v: vec(i) }, payload: payload(i) })));
  await db.close();
  // The collection's state is private to the database: reached here only to count unread payloads.
  const unread = (d: typeof db): number =>
    [...(d as unknown as { collections: Map<string, CollectionState> }).collections.values()][0].payloads.unread;
  db = await open(dir);
  assert.equal(db.recovery.payloadIndexesRestored, 1);
  assert.equal(unread(db), 300, "nothing parsed at open");
  let lazy = await db.collection("lazy");
  const gold = Array.from({ length: 300 }, (_, i) => [payload(i).tag].flat().includes("gold")).filter(Boolean).length;
  assert.ok(gold > 0);
  assert.equal(await lazy.count({ tag: "gold" }), gold);
  assert.ok(unread(db) >= 300 - gold, "an indexed filter reads at most its candidates' payloads (to re-check them)");
  const before = unread(db);
  const [r6] = await lazy.get(["r6"], { withPayload: true }); // blue: not read by the filter above
  assert.deepEqual(r6.payload, payload(6));
  assert.equal(unread(db), before - 1);
  // A write and a checkpoint compact nothing parsed: the unread payloads are written as stored.
  await lazy.upsert([{ id: "r8", vectors: { v: vec(8) }, payload: { tag: "new" } }]);
  await db.checkpoint();
  assert.ok(unread(db) >= before - 3, `${unread(db)} unread`);
  // An unindexed field's filter reads every payload once.
  assert.equal(await lazy.count({ "note.deep": { $exists: true } }), 43);
  assert.equal(unread(db), 0);
  await db.close();
  db = await open(dir);
  lazy = await db.collection("lazy");
  assert.deepEqual(
    (await lazy.get(["r8", "r9"], { withPayload: true })).map((r) => r.payload),
    [{ tag: "new" }, payload(9)],
  );
  assert.equal(await lazy.count({ tag: "new" }), 1);
  await db.close();
});

test("a collection opened with rebuilt payload indexes gets a new index file at the next checkpoint, even unchanged", async () => {
  const { dir } = await build();
  let db = await open(dir);
  await db.createCollection("other", { vectors: { v: { dim: 2, metric: "l2" } } });
  await db.close();
  // "mixed" is unchanged from here on; its index file is replaced by one without payload indexes.
  const name = await indexFileOf(dir);
  const snapshot = decodeIndexFile(await dir.read(name), name);
  await dir.remove(name);
  await writeFileSynced(dir, name, encodeIndexFile({ ...snapshot, payload: new Map() }));
  db = await open(dir);
  assert.equal(db.recovery.payloadIndexesRestored, 0);
  // A write elsewhere makes the close checkpoint.
  await (await db.collection("other")).upsert([{ id: "x", vectors: { v: [1, 2] } }]);
  await db.close();
  assert.notEqual(await indexFileOf(dir), name);
  db = await open(dir);
  assert.equal(db.recovery.payloadIndexesRestored, 1);
  assert.deepEqual(db.recovery.warnings, []);
  await db.close();
});
