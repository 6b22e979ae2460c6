/**
 * Damage versus crash: what a crash can leave (a torn tail of the newest WAL, files of an
 * interrupted checkpoint) is repaired and reported; anything else (a bad record with intact ones
 * after it, a gap in the log, a missing manifest or WAL start) fails the open with CORRUPT naming
 * the file, offset and sequence number, or opens read-only with `ifCorrupt: "readOnly"`.
 * Each case here lost acknowledged data, or deleted files, before recovery told the two apart.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Database, type DatabaseOptions } from "../../src/database/database.js";
import { QuiverError } from "../../src/core/errors/errors.js";
import { MemoryDirectory } from "../../src/storage/memory-directory.js";
import { NodeDirectory } from "../../src/node/fs-directory.js";
import { frameRecord, parseWalFileName, scanWal } from "../../src/storage/wal.js";
import { encodeOp } from "../../src/database/ops.js";
import { FaultyDirectory } from "../support/faulty-directory.js";
import { readState } from "../support/read-state.js";
import { startTestServer } from "../server/helpers.js";
import { COLLECTION, DIM } from "../support/workload.js";

const vector = (i: number): number[] => Array.from({ length: DIM }, (_, d) => ((i * 7 + d) % 13) / 16);

/** A killed database (no close, no final checkpoint): one upsert per WAL record, ids r0..r(n-1). */
async function killedAfter(n: number, options: DatabaseOptions = {}): Promise<Map<string, Uint8Array>> {
  const dir = new FaultyDirectory();
  const db = await Database.openDirectory(dir, options);
  const c = await db.createCollection(COLLECTION, { vectors: { vector: { dim: DIM, metric: "l2" } } });
  for (let i = 0; i < n; i++) await c.upsert([{ id: `r${i}`, vector: vector(i), payload: { op: i, g: 0 } }]);
  return dir.snapshot();
}

function wals(files: Map<string, Uint8Array>): string[] {
  return [...files.keys()].filter((f) => parseWalFileName(f) !== null).sort();
}

/** Offsets of a WAL file's records. */
function recordOffsets(files: Map<string, Uint8Array>, name: string): number[] {
  return scanWal(files.get(name)!, name).records.map((r) => r.offset);
}

function flip(files: Map<string, Uint8Array>, name: string, at: number): Map<string, Uint8Array> {
  const out = new Map(files);
  const bytes = files.get(name)!.slice();
  bytes[at] ^= 0x40;
  out.set(name, bytes);
  return out;
}

async function openFails(files: Map<string, Uint8Array>, ...mustName: (string | RegExp)[]): Promise<QuiverError> {
  const dir = MemoryDirectory.fromFiles(files);
  const err = await Database.openDirectory(dir).then(
    () => assert.fail("open must fail"),
    (e: unknown) => e,
  );
  assert.ok(err instanceof QuiverError && err.code === "CORRUPT", String(err));
  for (const m of mustName) assert.match(err.message, typeof m === "string" ? new RegExp(m.replace(".", "\\.")) : m);
  // Nothing was deleted or changed.
  assert.deepEqual(dir.snapshot(), files);
  return err;
}

async function ids(db: Database): Promise<Set<string>> {
  return new Set((await readState(await db.collection(COLLECTION))).keys());
}

test("a flipped byte in a middle WAL record is CORRUPT with file, offset and seq, not a torn tail", async () => {
  const files = await killedAfter(20);
  const [wal] = wals(files);
  const offsets = recordOffsets(files, wal);
  // Record 0 creates the collection; record 11 holds r10 (seq 12).
  const damaged = flip(files, wal, offsets[11] + 12);
  await openFails(damaged, wal, `offset ${offsets[11]}`, "seq 12");
  // The first record: before the fix, all of the file was cut as a "torn tail".
  await openFails(flip(files, wal, offsets[0] + 9), wal, `offset ${offsets[0]}`, "seq 1");
});

test("a truly torn tail (cut inside the last record) is still cut and reported", async () => {
  const files = await killedAfter(10);
  const [wal] = wals(files);
  const offsets = recordOffsets(files, wal);
  const torn = new Map(files);
  torn.set(wal, files.get(wal)!.subarray(0, offsets[10] + 5));
  const db = await Database.openDirectory(MemoryDirectory.fromFiles(torn));
  assert.equal(db.recovery.tornBytesTruncated, 5);
  assert.match(db.recovery.warnings.join("\n"), new RegExp(`${wal}: cut 5 bytes .* at offset ${offsets[10]}`));
  assert.deepEqual(await ids(db), new Set(Array.from({ length: 9 }, (_, i) => `r${i}`)));
  await db.close();
});

/** Several WAL files: a failing segment write keeps every WAL (each checkpoint retries). */
async function killedWithSeveralWals(): Promise<Map<string, Uint8Array>> {
  const dir = new FaultyDirectory();
  const db = await Database.openDirectory(dir, { walMaxBytes: 1024, onWarning: () => undefined });
  dir.injectFault({ op: "append", file: /\.qseg$/, error: "ENOSPC", times: Number.POSITIVE_INFINITY });
  const c = await db.createCollection(COLLECTION, { vectors: { vector: { dim: DIM, metric: "l2" } } });
  for (let i = 0; i < 60; i++) await c.upsert([{ id: `r${i}`, vector: vector(i), payload: { op: i, g: 0 } }]);
  return dir.snapshot();
}

test("with several WAL files, damage at the end of an older one is CORRUPT, not a gap", async () => {
  const files = await killedWithSeveralWals();
  const names = wals(files);
  assert.ok(names.length >= 3, `several WAL files (${names.join(" ")})`);
  const older = names[1];
  const offsets = recordOffsets(files, older);
  // The last record of an older file: nothing valid follows in that file, but later files were replayed before.
  await openFails(flip(files, older, offsets[offsets.length - 1] + 10), older, "not the newest");
  // A missing middle file is a gap in the sequence numbers.
  const gap = new Map(files);
  gap.delete(names[1]);
  await openFails(gap, names[2], /operations \d+ to \d+ are missing/);
  // Intact, everything is there.
  const db = await Database.openDirectory(MemoryDirectory.fromFiles(files));
  assert.equal((await ids(db)).size, 60);
  await db.close();
});

test("deleting the WAL file the manifest starts from is CORRUPT", async () => {
  const files = await killedAfter(5);
  const [wal] = wals(files);
  const gone = new Map(files);
  gone.delete(wal);
  await openFails(gone, wal, "manifest starts replay from is missing");
});

test("a missing MANIFEST beside segments refuses to open and deletes nothing; a new directory opens", async () => {
  const dir = new MemoryDirectory();
  const db = await Database.openDirectory(dir);
  const c = await db.createCollection(COLLECTION, { vectors: { vector: { dim: DIM, metric: "l2" } } });
  await c.upsert([{ id: "a", vector: vector(1) }]);
  await db.close(); // checkpoints: the record is in a segment
  const files = dir.snapshot();
  files.delete("MANIFEST");
  await openFails(files, "MANIFEST", /manifest is missing, yet the directory holds seg-\d+\.qseg/);

  // A brand-new directory, and one holding only the lock file, are new databases.
  const root = mkdtempSync(join(tmpdir(), "quiver-damage-"));
  try {
    const fresh = await Database.openDirectory(new NodeDirectory(root));
    assert.equal((await fresh.listCollections()).length, 0);
    await fresh.createCollection("x", { vectors: { v: { dim: 2, metric: "l2" } } });
    await fresh.close();
    const lockOnly = join(root, "lock-only");
    const d2 = new NodeDirectory(lockOnly);
    const held = await d2.lock();
    assert.deepEqual(readdirSync(lockOnly), ["LOCK"]);
    await held.release();
    const again = await Database.openDirectory(new NodeDirectory(lockOnly));
    assert.equal((await again.listCollections()).length, 0);
    await again.close();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("EIO on the directory fsync after the MANIFEST rename: no named file is deleted, writes stop until reopen", async () => {
  const dir = new FaultyDirectory();
  const warnings: string[] = [];
  const db = await Database.openDirectory(dir, { onWarning: (w) => warnings.push(w) });
  const c = await db.createCollection(COLLECTION, { vectors: { vector: { dim: DIM, metric: "l2" } } });
  for (let i = 0; i < 10; i++) await c.upsert([{ id: `r${i}`, vector: vector(i) }]);
  // A checkpoint syncs the directory twice: after creating the new WAL, then after the MANIFEST rename.
  dir.injectFault({ op: "syncDir", error: "EIO", after: 1 });
  await assert.rejects(db.checkpoint(), (e: unknown) => e instanceof QuiverError && e.code === "IO");
  assert.equal(dir.faultsFired, 1);
  await assert.rejects(
    c.upsert([{ id: "late", vector: vector(99) }]),
    (e: unknown) => e instanceof QuiverError && e.code === "IO" && /until it is reopened/.test(e.message),
  );
  await db.close();
  // Killed now (every issued change visible): the renamed MANIFEST names the new segment, which must exist.
  const reopened = await Database.openDirectory(MemoryDirectory.fromFiles(dir.snapshot()));
  assert.deepEqual(await ids(reopened), new Set(Array.from({ length: 10 }, (_, i) => `r${i}`)));
  await reopened.close();
});

test("after a checkpoint whose outcome is unknown, no later checkpoint runs (it would drop the WAL holding a delete)", async () => {
  // Found by the long fault-point run: a background checkpoint failed at the MANIFEST rename after
  // taking the delta with the delete (which it cannot put back); an explicit checkpoint waiting for it
  // then went on, published segments without the delete and removed the WAL that still held it, so
  // the deleted record came back at the next open.
  const dir = new FaultyDirectory();
  const db = await Database.openDirectory(dir);
  const c = await db.createCollection(COLLECTION, { vectors: { vector: { dim: DIM, metric: "l2" } } });
  for (let i = 0; i < 10; i++) await c.upsert([{ id: `r${i}`, vector: vector(i) }]);
  await db.checkpoint();
  await c.delete(["r3"]);
  dir.injectFault({ op: "rename", error: "EIO" });
  // The second call waits for the first (as a background checkpoint would be waited for), which fails.
  const first = db.checkpoint();
  const second = db.checkpoint();
  await assert.rejects(first, (e: unknown) => e instanceof QuiverError && e.code === "IO");
  await assert.rejects(
    second,
    (e: unknown) => e instanceof QuiverError && e.code === "IO" && /until it is reopened/.test(e.message),
  );
  assert.equal(dir.faultsFired, 1);
  await db.close();
  const reopened = await Database.openDirectory(MemoryDirectory.fromFiles(dir.snapshot()));
  const expected = new Set(Array.from({ length: 10 }, (_, i) => `r${i}`).filter((id) => id !== "r3"));
  assert.deepEqual(await ids(reopened), expected);
  await reopened.close();
});

test("an explicit checkpoint that fails rejects (embedded and POST /v1/checkpoint); background ones warn", async () => {
  const dir = new FaultyDirectory();
  const db = await Database.openDirectory(dir, { onWarning: () => undefined });
  const c = await db.createCollection(COLLECTION, { vectors: { vector: { dim: DIM, metric: "l2" } } });
  await c.upsert([{ id: "a", vector: vector(1) }]);
  dir.injectFault({ op: "append", file: /\.qseg$/, error: "ENOSPC", times: Number.POSITIVE_INFINITY });
  await assert.rejects(db.checkpoint(), (e: unknown) => e instanceof QuiverError && /ENOSPC/.test(e.message));
  // Nothing lost, still writable.
  await c.upsert([{ id: "b", vector: vector(2) }]);
  await db.close();

  const sdir = new FaultyDirectory();
  const server = await startTestServer({ dir: sdir, dbOptions: { onWarning: () => undefined } });
  try {
    const sc = await server.db.createCollection(COLLECTION, { vectors: { vector: { dim: DIM, metric: "l2" } } });
    await sc.upsert([{ id: "a", vector: vector(1) }]);
    sdir.injectFault({ op: "append", file: /\.qseg$/, error: "ENOSPC", times: Number.POSITIVE_INFINITY });
    const r = await server.call("POST", "/v1/checkpoint");
    assert.notEqual(r.status, 200, r.text);
    assert.match(r.text, /ENOSPC/);
    sdir.clearFaults();
  } finally {
    await server.close();
  }
});

test('ifCorrupt: "readOnly" opens what can be read, reports the damage, refuses writes, changes nothing', async () => {
  const files = await killedAfter(20);
  const [wal] = wals(files);
  const offsets = recordOffsets(files, wal);
  const damaged = flip(files, wal, offsets[11] + 12);
  const dir = MemoryDirectory.fromFiles(damaged);
  const warnings: string[] = [];
  const db = await Database.openDirectory(dir, { ifCorrupt: "readOnly", onWarning: (w) => warnings.push(w) });
  assert.equal(db.readOnly, true);
  assert.equal(db.recovery.damage.length, 1);
  assert.deepEqual(
    { ...db.recovery.damage[0], message: "" },
    { kind: "wal", file: wal, offset: offsets[11], seq: 12, message: "" },
  );
  assert.match(warnings.join("\n"), /damaged, opened read-only/);
  // Everything before the damage is readable.
  assert.deepEqual(await ids(db), new Set(Array.from({ length: 10 }, (_, i) => `r${i}`)));
  const c = await db.collection(COLLECTION);
  const readOnly = (e: unknown) => e instanceof QuiverError && e.code === "READ_ONLY" && e.message.includes(wal);
  await assert.rejects(c.upsert([{ id: "x", vector: vector(0) }]), readOnly);
  await assert.rejects(c.delete(["r1"]), readOnly);
  await assert.rejects(db.createCollection("other", { vectors: { v: { dim: 2, metric: "l2" } } }), readOnly);
  await assert.rejects(db.dropCollection(COLLECTION), readOnly);
  await assert.rejects(db.checkpoint(), readOnly);
  await db.close();
  assert.deepEqual(dir.snapshot(), damaged, "a read-only open changes no file");
  // A healthy directory opened with the option is an ordinary writable database.
  const healthy = await Database.openDirectory(MemoryDirectory.fromFiles(files), { ifCorrupt: "readOnly" });
  assert.equal(healthy.readOnly, false);
  await (await healthy.collection(COLLECTION)).upsert([{ id: "x", vector: vector(0) }]);
  await healthy.close();
});

test("a record that passes its checksum but cannot be applied is CORRUPT with file, offset and seq", async () => {
  const files = await killedAfter(3);
  const [wal] = wals(files);
  const bytes = files.get(wal)!;
  // seq 5: an upsert into a collection that was never created (a writer bug or a forged record).
  const bad = frameRecord(5, encodeOp({ type: "upsert", uid: "0000000000000000", records: [] }));
  const withBad = new Uint8Array(bytes.length + bad.length);
  withBad.set(bytes);
  withBad.set(bad, bytes.length);
  await openFails(new Map(files).set(wal, withBad), wal, `offset ${bytes.length}`, "seq 5", "cannot be applied");
});
