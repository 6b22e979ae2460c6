/**
 * Durability across close and reopen on a real directory: WAL replay, checkpoints into segments,
 * compaction, the writer lock, and a torn WAL tail reported and cut.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, appendFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { open, type QuiverError } from "../../src/index.js";
import { randomVector, rng } from "../support/brute.js";

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), "quiver-persist-"));
}

test("records survive close and reopen, through checkpoints and compaction", async () => {
  const path = await tempDir();
  const r = rng(42);
  const expected = new Map<string, number[]>();
  let db = await open(path, { walMaxBytes: 8 * 1024, maxSegments: 3 });
  let c = await db.createCollection("docs", { vectors: { v: { dim: 8, metric: "l2" } }, indexes: { g: "number" } });
  for (let round = 0; round < 30; round++) {
    const batch = Array.from({ length: 20 }, () => {
      const id = `id${Math.floor(r() * 200)}`;
      return { id, vector: randomVector(r, 8), payload: { g: round } };
    });
    const unique = [...new Map(batch.map((b) => [b.id, b])).values()];
    await c.upsert(unique);
    for (const b of unique) expected.set(b.id, b.vector);
    const del = [`id${Math.floor(r() * 200)}`, `id${Math.floor(r() * 200)}`];
    await c.delete(del);
    for (const d of del) expected.delete(d);
  }
  const files = await readdir(path);
  assert.ok(
    files.some((f) => f.endsWith(".qseg")),
    `checkpoints wrote segments: ${files.join(" ")}`,
  );
  assert.ok((await db.stats()).collections[0].segments <= 3, "compaction keeps the segment count bounded");
  await db.close();

  db = await open(path);
  c = await db.collection("docs");
  assert.equal(await c.count(), expected.size);
  const got = await c.get([...expected.keys()], { withVectors: true });
  for (const rec of got) {
    const want = expected.get(rec.id)!;
    (rec.vectors!.v as number[]).forEach((x, i) => {
      assert.ok(Math.abs(x - want[i]) < 1e-6);
    });
  }
  // Deleted ids stay deleted.
  const all = new Set((await c.scroll({ limit: 1000 })).records.map((x) => x.id));
  assert.deepEqual([...all].sort(), [...expected.keys()].sort());
  await db.close();
  await rm(path, { recursive: true });
});

test("an open reads segments of several sizes through one buffer: a small one after a large one keeps its own records", async () => {
  // One buffer serves every segment (sized for the largest): each must be applied before the next
  // overwrites it, and a shorter one must not see the longer one's bytes past its end.
  const path = await tempDir();
  const r = rng(7);
  const expected = new Map<string, { v: number[]; g: number }>();
  let db = await open(path);
  let c = await db.createCollection("docs", { vectors: { v: { dim: 8, metric: "l2" } }, indexes: { g: "number" } });
  for (const [round, size] of [200, 3, 60, 1].entries()) {
    const batch = Array.from({ length: size }, (_, i) => ({
      id: `r${round}-${i}`,
      vector: randomVector(r, 8),
      payload: { g: round },
    }));
    await c.upsert(batch);
    for (const b of batch) expected.set(b.id, { v: b.vector, g: round });
    await db.checkpoint();
  }
  assert.ok((await db.stats()).collections[0].segments >= 3, "several segments on disk");
  await db.close();

  db = await open(path);
  c = await db.collection("docs");
  assert.equal(await c.count(), expected.size);
  for (const rec of await c.get([...expected.keys()], { withVectors: true })) {
    const want = expected.get(rec.id)!;
    assert.equal(rec.payload!.g, want.g, rec.id);
    for (const [i, x] of (rec.vectors!.v as number[]).entries()) assert.ok(Math.abs(x - want.v[i]) < 1e-6, rec.id);
  }
  const { hits } = await c.query({ vector: expected.get("r3-0")!.v, limit: 1 });
  assert.equal(hits[0].id, "r3-0");
  await db.close();
  await rm(path, { recursive: true });
});

test("a second open of the same directory is refused with LOCKED until the first closes", async () => {
  const path = await tempDir();
  const db = await open(path);
  await assert.rejects(open(path), (e: QuiverError) => e.code === "LOCKED");
  await db.close();
  const again = await open(path);
  await again.close();
  await rm(path, { recursive: true });
});

test("a torn WAL tail is cut and reported, and earlier writes survive", async () => {
  const path = await tempDir();
  const db = await open(path);
  const c = await db.createCollection("t", { vectors: { v: { dim: 2, metric: "dot" } } });
  await c.upsert([{ id: "kept", vector: [1, 2] }]);
  // Simulate a crash: leave the WAL as is (no close), append garbage as a torn record would.
  const wal = (await readdir(path)).find((f) => f.startsWith("wal-"))!;
  await appendFile(join(path, wal), new Uint8Array([200, 0, 0, 0, 1, 2, 3]));
  // Release the lock as a dead process would have (its pid would be gone).
  await (db as unknown as { lock: { release(): Promise<void> } }).lock.release();
  const warnings: string[] = [];
  const db2 = await open(path, { onWarning: (w) => warnings.push(w) });
  assert.equal(db2.recovery.tornBytesTruncated, 7);
  assert.equal(warnings.length, 1);
  const c2 = await db2.collection("t");
  assert.deepEqual(
    (await c2.get(["kept"])).map((x) => x.id),
    ["kept"],
  );
  await c2.upsert([{ id: "after", vector: [3, 4] }]);
  await db2.close();
  const db3 = await open(path);
  assert.equal(db3.recovery.tornBytesTruncated, 0, "the tail was cut, not left for the next open");
  assert.equal(await (await db3.collection("t")).count(), 2);
  await db3.close();
  // The "crashed" database's log is still open: close its handle, as the dead process's exit would
  // (Bun fails a run that leaves a file handle to the garbage collector).
  await (db as unknown as { wal: { close(): Promise<void> } }).wal.close();
  await rm(path, { recursive: true });
});

test("a dropped and re-created collection never gets the old one's records back", async () => {
  const path = await tempDir();
  let db = await open(path, { walMaxBytes: 2048 });
  let c = await db.createCollection("x", { vectors: { v: { dim: 2, metric: "l2" } } });
  await c.upsert(Array.from({ length: 200 }, (_, i) => ({ id: `old${i}`, vector: [i, 0] })));
  await db.checkpoint(); // the old collection now has a segment
  await db.dropCollection("x");
  c = await db.createCollection("x", { vectors: { v: { dim: 3, metric: "l2" } } });
  await c.upsert([{ id: "new", vector: [1, 2, 3] }]);
  await db.close();
  // The dropped collection's segments were removed by the checkpoint, not left for the next open.
  const manifest = JSON.parse((await readFile(join(path, "MANIFEST"), "utf8")).replace(/\ncrc32c:.*\n$/, "")) as {
    collections: { segments: string[] }[];
  };
  const named = new Set(manifest.collections.flatMap((m) => m.segments));
  assert.deepEqual(
    (await readdir(path)).filter((f) => f.endsWith(".qseg") && !named.has(f)),
    [],
  );
  db = await open(path);
  c = await db.collection("x");
  assert.deepEqual(
    (await c.scroll()).records.map((r) => r.id),
    ["new"],
  );
  assert.equal(c.schema.vectors.v.dim, 3);
  await db.close();
  await rm(path, { recursive: true });
});
