/**
 * Full-text postings persisted in the index file at checkpoints and loaded at open instead of
 * analysing every record again: the loaded index answers exactly as a rebuilt one (after replaced
 * and deleted records, with a WAL tail on top); a damaged index file, postings of another analysis
 * version, or postings that do not match the records are rebuilt, reported in db.recovery, and
 * answer the same. (Graphs restored from the same file: test/database/ann.test.ts.)
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { MemoryDirectory, open, type Collection } from "../../src/index.js";
import { writeFileSynced } from "../../src/storage/directory.js";
import { decodeIndexFile, encodeIndexFile } from "../../src/storage/index-file.js";
import { MANIFEST_FILE, decodeManifest } from "../../src/storage/manifest.js";
import { ANALYSIS_VERSION } from "../../src/core/analysis/analyzer.js";

const WORDS = ["crash", "safe", "storage", "engine", "vector", "graph", "search", "logs", "write", "ahead"];

function text(i: number, salt: number): string {
  return Array.from({ length: 3 + (i % 5) }, (_, j) => WORDS[(i * 7 + j * 3 + salt) % WORDS.length]).join(" ");
}

/**
 * A text collection (no vectors: only the postings make its index file), churned, checkpointed,
 * then written to again: the directory as a process that stops there leaves it.
 */
async function build(): Promise<MemoryDirectory> {
  const dir = new MemoryDirectory();
  const db = await open(dir);
  const c = await db.createCollection("notes", {
    vectors: {},
    text: { title: { analyzer: "english", boost: 2 }, body: {} },
  });
  await c.upsert(
    Array.from({ length: 60 }, (_, i) => ({
      id: `n${i}`,
      payload: i % 4 === 0 ? { title: text(i, 1) } : { title: text(i, 1), body: text(i, 2) },
    })),
  );
  await c.delete(["n3", "n10", "n11"]);
  await c.upsert([{ id: "n5", payload: { body: "storage storage engine" } }]);
  await db.checkpoint();
  // Only in the WAL: replayed on top of the loaded postings.
  await c.upsert([{ id: "n60", payload: { title: "graph search", body: "vector graph" } }]);
  await c.delete(["n7"]);
  const stopped = await copyOf(dir);
  await db.close();
  return stopped;
}

const QUERIES = ["storage engine", "graph", "crash safe logs", "write ahead search vector"];

async function answers(c: Collection): Promise<string[]> {
  const out: string[] = [];
  for (const q of QUERIES) {
    const r = await c.query({ text: q, limit: 100 });
    out.push(r.hits.map((h) => `${h.id}:${h.score.toFixed(9)}`).join(" "));
  }
  return out;
}

/** Answers of a database whose text index was rebuilt from the records (index file removed). */
async function rebuiltAnswers(dir: MemoryDirectory): Promise<string[]> {
  const copy = await copyOf(dir);
  const indexFile = await indexFileName(copy);
  await copy.remove(indexFile);
  const db = await open(copy);
  assert.equal(db.recovery.textIndexesRestored, 0);
  const out = await answers(await db.collection("notes"));
  await db.close();
  return out;
}

async function copyOf(dir: MemoryDirectory): Promise<MemoryDirectory> {
  const copy = new MemoryDirectory();
  for (const f of await dir.list()) if (f !== "LOCK") await writeFileSynced(copy, f, await dir.read(f));
  return copy;
}

async function indexFileName(dir: MemoryDirectory): Promise<string> {
  const manifest = decodeManifest(await dir.read(MANIFEST_FILE));
  const name = manifest.collections[0].indexFile;
  assert.ok(name, "a text collection without vectors gets an index file for its postings");
  return name;
}

test("postings load from the index file and answer exactly as rebuilt ones, under a WAL tail", async () => {
  const dir = await build();
  const want = await rebuiltAnswers(dir);
  assert.ok(want.every((a) => a.length > 0));
  const db = await open(dir);
  assert.equal(db.recovery.textIndexesRestored, 1);
  assert.deepEqual(db.recovery.warnings, []);
  const c = await db.collection("notes");
  assert.deepEqual(await answers(c), want);
  // And they keep following writes.
  await c.upsert([{ id: "n1", payload: { title: "graph graph graph" } }]);
  assert.equal((await c.query({ text: "graph", limit: 1 })).hits[0].id, "n1");
  await db.close();
});

test("a damaged index file, postings of another analysis version, or postings that disagree with the records are rebuilt and reported", async () => {
  const base = await build();
  const want = await rebuiltAnswers(base);
  const name = await indexFileName(base);
  const original = await base.read(name);
  const snapshot = decodeIndexFile(original, name);
  const cases: [string, Uint8Array, RegExp][] = [
    [
      "a flipped byte",
      flip(original, original.length >> 1),
      new RegExp(`${name}: index file checksum mismatch.*rebuilt`),
    ],
    [
      "another analysis version",
      encodeIndexFile({ ...snapshot, analysisVersion: ANALYSIS_VERSION + 1 }),
      /analysis version \d+, this release uses \d+; the full-text index is rebuilt/,
    ],
    [
      "postings missing a field",
      encodeIndexFile({ ...snapshot, text: new Map([...snapshot.text].filter(([f]) => f !== "body")) }),
      /no postings for field "body"; the full-text index is rebuilt/,
    ],
    [
      "postings of other slots",
      encodeIndexFile({ ...snapshot, text: swappedSlots(snapshot.text) }),
      /full-text postings in idx-\d+\.qidx did not match the records and were rebuilt/,
    ],
  ];
  for (const [what, bytes, warning] of cases) {
    const dir = await copyOf(base);
    await dir.remove(name);
    await writeFileSynced(dir, name, bytes);
    const db = await open(dir);
    assert.equal(db.recovery.textIndexesRestored, 0, what);
    assert.ok(
      db.recovery.warnings.some((w) => warning.test(w)),
      `${what}: ${db.recovery.warnings.join(" | ")}`,
    );
    assert.deepEqual(await answers(await db.collection("notes")), want, what);
    await db.close();
  }
});

function flip(bytes: Uint8Array, at: number): Uint8Array {
  const out = bytes.slice();
  out[at] ^= 0x10;
  return out;
}

/** The postings of an index where the records of slots 0 and 1 trade places: consistent, but not these records'. */
function swappedSlots(text: Map<string, Uint8Array>): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const [field, bytes] of text) {
    const copy = bytes.slice();
    const view = new DataView(copy.buffer);
    const nextDoc = view.getUint32(0, true);
    // slotOf starts at byte 16: swap slots 0 and 1 wherever a document holds them.
    for (let d = 0; d < nextDoc; d++) {
      const slot = view.getInt32(16 + d * 4, true);
      if (slot === 0 || slot === 1) view.setInt32(16 + d * 4, 1 - slot, true);
    }
    out.set(field, copy);
  }
  return out;
}
