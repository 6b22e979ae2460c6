/**
 * Incremental, streaming ingest with a fake embedder that counts what it is asked to embed: an
 * unchanged folder re-ingested embeds and writes nothing (after a reopen, so no in-memory cache
 * helps); a changed document embeds only its changed chunks and loses its stale ones; an ingest
 * aborted mid-way keeps what it wrote and a rerun embeds only the rest.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { open, documentSchema, ingestDocuments, type DocumentInput } from "../../src/index.js";
import { MemoryDirectory } from "../../src/storage/memory-directory.js";
import { fakeEmbedder } from "./fake-embedder.js";

const section = (doc: number, i: number, word = "alpha") =>
  `## Part ${i}\n\nDocument ${doc} section ${i} covers topic${doc}x${i} ${word} beta gamma delta.`;
const documentText = (doc: number, sections: number, changed = -1) =>
  `# Doc ${doc}\n\n${Array.from({ length: sections }, (_, i) => section(doc, i, i === changed ? "omega" : "alpha")).join("\n\n")}`;
const folder = (n: number): DocumentInput[] =>
  Array.from({ length: n }, (_, d) => ({ id: `doc${d}.md`, text: documentText(d, 5), source: `doc${d}.md` }));
const options = { size: 80, overlap: 0, batch: 8 };
const embeddedTexts = (fake: ReturnType<typeof fakeEmbedder>) => fake.calls.flat();

/** A database on `dir` opened with a fresh fake embedder (and so an empty embedding cache). */
async function reopen(dir: MemoryDirectory) {
  const fake = fakeEmbedder();
  const db = await open(dir, { embedders: { fake } });
  const coll = await db.createCollection("docs", documentSchema("fake", 64), { ifNotExists: true });
  return { db, coll, fake };
}

test("ingest: an unchanged folder re-ingested embeds and writes nothing; a changed document embeds only its changed chunks", async () => {
  const dir = new MemoryDirectory();
  let { db, coll, fake } = await reopen(dir);
  const first = await ingestDocuments(db, coll, folder(4), options);
  assert.ok(first.chunks >= 20, `expected several chunks per document, got ${first.chunks}`);
  assert.equal(first.embedded, first.chunks);
  assert.equal(embeddedTexts(fake).length, first.chunks);
  await db.close();

  ({ db, coll, fake } = await reopen(dir));
  const again = await ingestDocuments(db, coll, folder(4), options);
  assert.equal(fake.calls.length, 0, "re-ingesting unchanged documents must not embed");
  assert.deepEqual(
    { upserted: again.upserted, unchanged: again.unchanged, embedded: again.embedded, removed: again.removed },
    { upserted: 0, unchanged: first.chunks, embedded: 0, removed: 0 },
  );

  // doc1: one section reworded and the last one dropped; the others untouched.
  const changed = folder(4);
  changed[1] = { ...changed[1], text: documentText(1, 4, 2) };
  const before = await coll.count({ documentId: "doc1.md" });
  const r = await ingestDocuments(db, coll, changed, options);
  const texts = embeddedTexts(fake);
  assert.ok(texts.length >= 1 && texts.every((t) => t.includes("omega")), `embedded: ${JSON.stringify(texts)}`);
  assert.equal(r.embedded, texts.length);
  const after = await coll.scroll({ filter: { documentId: "doc1.md" }, limit: 100 });
  assert.equal(after.records.length, r.chunks - 3 * (first.chunks / 4));
  assert.ok(after.records.length < before);
  assert.equal(r.removed, before - after.records.length);
  assert.ok(after.records.some((rec) => String(rec.payload?.text).includes("omega")));
  assert.ok(!after.records.some((rec) => String(rec.payload?.text).includes("topic1x4")), "stale chunk left");
  assert.equal(await coll.count(), r.chunks);
  await db.close();
});

test("ingest: writes batch by batch with progress over chunks and documents; an abort keeps what was written and a rerun embeds only the rest", async () => {
  const dir = new MemoryDirectory();
  let { db, coll, fake } = await reopen(dir);
  const docs = folder(6);
  const controller = new AbortController();
  const progress: number[][] = [];
  await assert.rejects(
    ingestDocuments(db, coll, docs, {
      ...options,
      signal: controller.signal,
      onProgress: (...p) => {
        progress.push(p);
        if (p[2] >= 2) controller.abort();
      },
    }),
    (e: Error) => e.name === "AbortError" || /abort/i.test(String(e)),
  );
  const written = await coll.count();
  const total = progress[0][1];
  assert.ok(written > 0 && written < total, `written ${written} of ${total}`);
  assert.ok(embeddedTexts(fake).length < total, "embedded everything before writing");
  assert.deepEqual(progress.at(-1)?.slice(1), [total, progress.at(-1)?.[2], docs.length]);
  assert.equal(progress.at(-1)?.[0], written);
  await db.close();

  ({ db, coll, fake } = await reopen(dir));
  const rest = await ingestDocuments(db, coll, docs, options);
  assert.equal(embeddedTexts(fake).length, total - written);
  assert.equal(rest.unchanged, written);
  assert.equal(await coll.count(), total);
  await db.close();
});

test("ingest with duplicates: reject streams, and never writes a duplicate: exact ones refused before any embedding, near ones before their batch", async () => {
  const { db, coll, fake } = await reopen(new MemoryDirectory());
  const docs = folder(6);
  // A copy of doc0 under another id: every chunk an exact duplicate, found without embedding anything.
  await assert.rejects(
    ingestDocuments(db, coll, [...docs, { id: "copy.md", text: documentText(0, 5) }], {
      ...options,
      duplicates: "reject",
    }),
    /chunks\.copy\.md#0: duplicates doc0\.md#0 \(nothing was written/,
  );
  assert.equal(fake.calls.length, 0, "nothing embedded");
  assert.equal(await coll.count(), 0, "nothing written");

  // A near copy (other punctuation: another hash, the same words to the fake model) after six
  // documents: batches before it are embedded and written as they come, and its own batch is
  // refused before it is written.
  const near = { id: "near.md", text: documentText(0, 5).replace(/\./g, "!") };
  let embeddedAtFirstWrite = -1;
  const upsert = coll.upsert.bind(coll);
  coll.upsert = (records) => {
    if (embeddedAtFirstWrite < 0) embeddedAtFirstWrite = embeddedTexts(fake).length;
    return upsert(records);
  };
  await assert.rejects(
    ingestDocuments(db, coll, [...docs, near], { ...options, duplicates: "reject" }),
    /chunks\.near\.md#\d+: duplicates doc0\.md#\d+ \(the \d+ chunks of earlier documents written before it are kept/,
  );
  const total = embeddedTexts(fake).length;
  assert.ok(
    embeddedAtFirstWrite > 0 && embeddedAtFirstWrite < total,
    `first write after ${embeddedAtFirstWrite} of ${total} embedded`,
  );
  assert.equal(await coll.count({ documentId: "near.md" }), 0, "the duplicate was not written");
  const written = await coll.count();
  assert.ok(written > 0, "the documents before it were kept");
  // A rerun without it continues: what was written is unchanged.
  const rerun = await ingestDocuments(db, coll, docs, { ...options, duplicates: "reject" });
  assert.equal(rerun.unchanged, written);
  await db.close();
});
