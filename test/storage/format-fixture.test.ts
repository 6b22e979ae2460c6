/**
 * The on-disk format across releases: a database written in every earlier format (format 1 by
 * quiverdb 0.1.0, format 2 with columnar segments; the bytes in test/fixtures/format-N, made by
 * scripts/make-format-fixture.mjs) opens, reads, replays its WAL and accepts writes; format-1
 * segments are rewritten in the current layout by the next checkpoint, not at open; a directory
 * whose manifest records a newer format is refused with UNSUPPORTED naming both formats, in every
 * open mode, and left exactly as it was.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { open, QuiverError } from "../../src/index.js";
import { DATABASE_FORMAT, MANIFEST_FILE, decodeManifest } from "../../src/storage/manifest.js";
import { decodeCheckedJson, encodeCheckedJson } from "../../src/storage/checked-json.js";
import { SEGMENT_VERSION } from "../../src/storage/segment.js";

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "test", "fixtures");

/** A writable copy of a fixture, removed after `body`. */
async function withCopy(format: number, body: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), `quiver-format-${format}-`));
  try {
    cpSync(join(FIXTURES, `format-${format}`), dir, { recursive: true });
    await body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const vector = (i: number) => [Math.cos(i), Math.sin(i), Math.cos(2 * i), Math.sin(3 * i)];

for (const format of [1, 2]) {
  test(`a database written in format ${format} opens with its checkpoint and WAL tail, and takes writes`, async () => {
    await withCopy(format, async (dir) => {
      let db = await open(dir);
      assert.deepEqual(db.recovery.damage, []);
      // Format 2's index file holds the full-text postings; format 1's only the graph (postings rebuilt).
      assert.equal(db.recovery.textIndexesRestored, format === 1 ? 0 : 1);
      // Neither format's index file holds payload indexes (version 3 does): rebuilt from the records.
      assert.equal(db.recovery.payloadIndexesRestored, 0);
      assert.equal(db.recovery.graphsRestored, 1);
      let books = await db.collection("books");
      // Six records at the checkpoint; the WAL replaced b1, added b6 and deleted b5.
      assert.equal(await books.count(), 6);
      const [b1] = await books.get(["b1"], { withPayload: true });
      assert.deepEqual(b1.payload, { title: "Crash recovery", lang: "en", year: 2025 });
      assert.deepEqual(await books.get(["b5"]), []);
      const nearest = await books.query({ vector: vector(6), limit: 1 });
      assert.equal(nearest.hits[0].id, "b6");
      const recent = await books.query({ vector: vector(0), filter: { year: { $gte: 2025 } }, limit: 10 });
      assert.deepEqual(recent.hits.map((h) => h.id).sort(), ["b1", "b6"]);
      // "engines" is stemmed by the english analyzer of the stored schema: both titles match.
      const text = await books.query({ text: "engine", limit: 10 });
      assert.deepEqual(text.hits.map((h) => h.id).sort(), ["b0", "b6"]);

      await books.upsert([
        { id: "b7", vectors: { v: vector(7) }, payload: { title: "Formats", lang: "en", year: 2027 } },
      ]);
      await db.close();
      db = await open(dir);
      assert.equal(db.recovery.payloadIndexesRestored, 1);
      books = await db.collection("books");
      assert.equal(await books.count(), 7);
      assert.deepEqual(
        (await books.query({ vector: vector(0), filter: { year: { $gte: 2025 } }, limit: 10 })).hits
          .map((h) => h.id)
          .sort(),
        ["b1", "b6", "b7"],
      );
      await db.close();
      assert.equal(decodeManifest(readFileSync(join(dir, MANIFEST_FILE))).format, DATABASE_FORMAT);
    });
  });

  test(`format ${format} opens read-only too`, async () => {
    await withCopy(format, async (dir) => {
      const reader = await open(dir, { readOnly: true });
      assert.equal(await (await reader.collection("books")).count(), 6);
      await reader.close();
    });
  });
}

/** The segment format version of every segment the manifest names. */
function segmentVersions(dir: string): number[] {
  const manifest = decodeManifest(readFileSync(join(dir, MANIFEST_FILE)));
  return manifest.collections.flatMap((c) => c.segments.map((s) => readFileSync(join(dir, s)).readUInt32LE(4)));
}

test("format-1 segments are read as they are at open and rewritten in the current layout by the next checkpoint", async () => {
  await withCopy(1, async (dir) => {
    const before = readdirSync(dir).filter((f) => f.endsWith(".qseg"));
    const db = await open(dir);
    // Open rewrites nothing: the old segment is still the one named.
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.endsWith(".qseg")),
      before,
    );
    assert.deepEqual(segmentVersions(dir), [1]);
    await db.checkpoint();
    // One compacted segment in the current layout replaces the old one (not a delta beside it).
    assert.deepEqual(segmentVersions(dir), [SEGMENT_VERSION]);
    assert.ok(!readdirSync(dir).some((f) => before.includes(f)), "the format-1 segment is removed");
    const books = await db.collection("books");
    assert.equal(await books.count(), 6);
    await db.close();
    const again = await open(dir);
    const [b1] = await (await again.collection("books")).get(["b1"], { withPayload: true });
    assert.deepEqual(b1.payload, { title: "Crash recovery", lang: "en", year: 2025 });
    assert.equal(await (await again.collection("books")).count(), 6);
    await again.close();
  });
});

/** Every file's bytes except the LOCK, which a refused open may have taken and released. */
function snapshot(dir: string): Map<string, string> {
  const files = readdirSync(dir).filter((f) => f !== "LOCK");
  return new Map(files.map((f) => [f, readFileSync(join(dir, f)).toString("base64")]));
}

/** Rewrites the fixture's manifest with another `format` and a valid checksum. */
function setFormat(dir: string, format: unknown): void {
  const manifest = decodeCheckedJson(readFileSync(join(dir, MANIFEST_FILE)), MANIFEST_FILE) as object;
  writeFileSync(join(dir, MANIFEST_FILE), encodeCheckedJson({ ...manifest, format }, 1));
}

test("a newer format is refused with UNSUPPORTED naming both formats, in every open mode, changing nothing", async () => {
  await withCopy(1, async (dir) => {
    const newer = DATABASE_FORMAT + 1;
    setFormat(dir, newer);
    // A newer release's scratch cache, which an open of a known format would delete.
    writeFileSync(join(dir, "originals-x.qscratch"), "scratch");
    const before = snapshot(dir);
    for (const options of [{}, { readOnly: true }, { ifCorrupt: "readOnly" as const }]) {
      await assert.rejects(open(dir, options), (e: unknown) => {
        assert.ok(e instanceof QuiverError, String(e));
        assert.equal(e.code, "UNSUPPORTED", `${JSON.stringify(options)}: ${e.message}`);
        assert.match(e.message, new RegExp(`format ${newer}\\b.*newer release.*formats 1 to ${DATABASE_FORMAT}\\b`));
        return true;
      });
    }
    assert.deepEqual(snapshot(dir), before);
    // The refused opens released the lock: with the format restored, the database opens again.
    setFormat(dir, DATABASE_FORMAT);
    const db = await open(dir);
    assert.equal(await (await db.collection("books")).count(), 6);
    await db.close();
  });
});

test("a manifest whose format is not a positive integer is damage (CORRUPT), not a version", async () => {
  await withCopy(1, async (dir) => {
    for (const format of [0, 1.5, "1", null]) {
      setFormat(dir, format);
      await assert.rejects(open(dir), (e: unknown) => {
        assert.ok(e instanceof QuiverError && e.code === "CORRUPT", String(e));
        assert.match(e.message, /MANIFEST: invalid database format/);
        return true;
      });
    }
  });
});
