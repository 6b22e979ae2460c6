// Regenerates test/fixtures/format-<N>/: a small database directory written by this release, so that
// later releases are tested against the exact bytes it wrote (test/storage/format-fixture.test.ts).
// Run once per format, when DATABASE_FORMAT (src/storage/manifest.ts) is raised, and commit the
// folder; never regenerate an existing format's fixture, or the test would stop testing old bytes.
//   npm run build && node scripts/make-format-fixture.mjs
// The content: one collection with an HNSW vector, keyword and number indexes and an English text
// field; a checkpoint (segment, index file, manifest), then writes left only in the WAL (an upsert
// that replaces a record, a new record, a delete), as when a process stops before its next checkpoint.
import { cpSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const { open } = await import(join(ROOT, "dist", "src", "index.js"));
const { DATABASE_FORMAT } = await import(join(ROOT, "dist", "src", "storage", "manifest.js"));

const vector = (i) => [Math.cos(i), Math.sin(i), Math.cos(2 * i), Math.sin(3 * i)];
const work = mkdtempSync(join(tmpdir(), "quiverdb-fixture-"));
const db = await open(work);
const c = await db.createCollection("books", {
  vectors: { v: { dim: 4, metric: "cosine", index: { type: "hnsw" } } },
  indexes: { lang: "keyword", year: "number" },
  text: { title: { analyzer: "english" } },
});
const titles = ["Storage engines", "Crash safety", "Vector search", "Full text", "Write-ahead logs", "Graphs"];
await c.upsert(
  titles.map((title, i) => ({
    id: `b${i}`,
    vectors: { v: vector(i) },
    payload: { title, lang: i % 2 ? "fr" : "en", year: 2018 + i },
  })),
);
await db.checkpoint();
// Only in the WAL: the process stops before another checkpoint (no close(), which would write one).
await c.upsert([
  { id: "b1", vectors: { v: vector(10) }, payload: { title: "Crash recovery", lang: "en", year: 2025 } },
]);
await c.upsert([{ id: "b6", vectors: { v: vector(6) }, payload: { title: "Search engines", lang: "en", year: 2026 } }]);
await c.delete(["b5"]);

const target = join(ROOT, "test", "fixtures", `format-${DATABASE_FORMAT}`);
rmSync(target, { recursive: true, force: true });
// Every acknowledged write is already fsynced; the LOCK names this process and is left out.
for (const name of readdirSync(work)) if (name !== "LOCK") cpSync(join(work, name), join(target, name));
console.log(`wrote ${target}: ${readdirSync(target).join(", ")}`);
rmSync(work, { recursive: true, force: true });
process.exit(0);
