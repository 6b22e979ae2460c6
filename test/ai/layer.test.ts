/**
 * The AI layer with a deterministic fake embedder (fast): text in upsert and query for bound
 * vectors, documents (ingest, replace, delete, group, duplicates), memory (scopes, TTL, merge,
 * recency, forget) and the doctor report on a generated collection with planted problems.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  open,
  isQuiverError,
  documentSchema,
  ingestDocuments,
  deleteDocument,
  searchDocuments,
  MemoryStore,
  doctor,
} from "../../src/index.js";
import { fakeEmbedder } from "./fake-embedder.js";
import { seededRandom as mulberry32 } from "../../src/core/util/prng.js";

test("a bound vector takes text in upsert (given or from its source field) and in query", async () => {
  const fake = fakeEmbedder();
  const db = await open(undefined, { embedders: { fake } });
  const c = await db.createCollection("notes", {
    vectors: { v: { dim: 64, metric: "cosine", embedder: "fake", source: "body" } },
  });
  await c.upsert([
    { id: "a", payload: { body: "red apples and green pears" } },
    { id: "b", vector: "blue ocean waves" },
    { id: "c", vectors: { v: "green pears are sweet" }, payload: { body: "ignored: the vector is given" } },
  ]);
  const { hits } = await c.query({ vector: "blue waves", limit: 1 });
  assert.equal(hits[0].id, "b");
  const r2 = await c.query({ vector: { v: "pears" }, limit: 3 });
  assert.deepEqual(
    r2.hits
      .slice(0, 2)
      .map((h) => h.id)
      .sort(),
    ["a", "c"],
  );
  // Same text again: served from the cache.
  const before = fake.calls.length;
  await c.query({ vector: "blue waves", limit: 1 });
  assert.equal(fake.calls.length, before);
  await db.close();
});

test("text errors are clear: unbound vector, unknown embedder, bad schema", async () => {
  const db = await open(undefined, { embedders: { fake: fakeEmbedder() } });
  const plain = await db.createCollection("plain", { vectors: { v: { dim: 64, metric: "cosine" } } });
  await assert.rejects(plain.upsert([{ id: "x", vector: "text" }]), /not bound to an embedder/);
  await assert.rejects(plain.query({ vector: "text" }), /not bound to an embedder/);
  const other = await db.createCollection("other", { vectors: { v: { dim: 64, metric: "cosine", embedder: "nope" } } });
  await assert.rejects(
    other.query({ vector: "text" }),
    /bound to embedder "nope", which this database was not opened with \(it has fake\)/,
  );
  await assert.rejects(
    db.createCollection("bad", { vectors: { v: { dim: 4, metric: "cosine", source: "t" } } }),
    /needs embedder/,
  );
  await assert.rejects(
    db.createCollection("bad2", { vectors: { v: { dim: 4, metric: "cosine", embedder: "../../model" } } }),
    (e: unknown) => isQuiverError(e, "INVALID_ARGUMENT"),
  );
  await assert.rejects(other.upsert([{ id: "e", vector: "  " }]), /empty text/);
  await db.close();
});

test("the binding survives reopening (stored in the schema)", async () => {
  const { MemoryDirectory } = await import("../../src/storage/memory-directory.js");
  const dir = new MemoryDirectory();
  let db = await open(dir, { embedders: { fake: fakeEmbedder() } });
  await db.createCollection("n", { vectors: { v: { dim: 64, metric: "cosine", embedder: "fake", source: "t" } } });
  await db.close();
  db = await open(dir, { embedders: { fake: fakeEmbedder() } });
  const c = await db.collection("n");
  assert.deepEqual(c.schema.vectors.v, { dim: 64, metric: "cosine", embedder: "fake", source: "t" });
  await c.upsert([{ id: "1", payload: { t: "hello world" } }]);
  assert.equal((await c.query({ vector: "hello" })).hits[0].id, "1");
  await db.close();
});

test("documents: ingest, replace a whole document, delete it, group hits by document", async () => {
  const db = await open(undefined, { embedders: { fake: fakeEmbedder() } });
  const c = await db.createCollection("docs", documentSchema("fake", 64));
  const long = Array.from(
    { length: 6 },
    (_, i) => `## Part ${i}\n\nSection ${i} talks about topic${i} alpha beta gamma delta.`,
  ).join("\n\n");
  const r = await ingestDocuments(
    db,
    c,
    [
      { id: "guide", text: `# Guide\n\n${long}`, source: "guide.md", metadata: { lang: "en" } },
      { id: "faq", text: "<h1>FAQ</h1><p>Install with npm install quiverdb.</p>", format: "html" },
    ],
    { size: 120, overlap: 0 },
  );
  assert.equal(r.documents, 2);
  const guideChunks = await c.count({ documentId: "guide" });
  assert.ok(guideChunks >= 6);
  const [rec] = await c.get(["guide#1"]);
  assert.equal(rec.payload!.source, "guide.md");
  assert.equal(rec.payload!.lang, "en");
  assert.equal(rec.payload!.chunks, guideChunks);
  // The "# Guide" heading opens the first part's chunk rather than standing alone.
  assert.deepEqual(rec.payload!.headings, ["Guide", "Part 1"]);
  // Grouped: one entry per document.
  const groups = await searchDocuments(c, { vector: "topic3 alpha beta", limit: 2, perDocument: 2 });
  assert.equal(groups[0].documentId, "guide");
  assert.ok(groups[0].chunks.length <= 2);
  assert.equal(new Set(groups.map((g) => g.documentId)).size, groups.length);
  // Replace with a shorter version: the leftover chunks go.
  const r2 = await ingestDocuments(db, c, [{ id: "guide", text: "# Guide\n\nNow very short." }]);
  assert.equal(r2.chunks, 1);
  assert.equal(await c.count({ documentId: "guide" }), 1);
  assert.equal(r2.removed, guideChunks - 1);
  assert.deepEqual(await deleteDocument(c, "guide"), { deleted: 1 });
  assert.equal(await c.count(), 1);
  await db.close();
});

test("documents: a question runs hybrid by default and comes back by document with positions to cite", async () => {
  const db = await open(undefined, { embedders: { fake: fakeEmbedder() } });
  const c = await db.createCollection("docs", documentSchema("fake", 64));
  assert.deepEqual(c.schema.text, { text: { analyzer: "english" } });
  await ingestDocuments(
    db,
    c,
    [
      { id: "setup", text: "# Setup\n\n## Proxies\n\nSet the registry proxy with npm config set proxy." },
      { id: "other", text: "# Other\n\nNothing about networking here, only bread and butter." },
    ],
    { size: 200, overlap: 0 },
  );
  const ran: string[] = [];
  const query = c.query.bind(c);
  c.query = async (req) => {
    const result = await query(req);
    ran.push(result.plan.strategy);
    return result;
  };
  const [top] = await searchDocuments(c, { query: "configuring proxies", limit: 1 });
  assert.equal(ran[0], "hybrid");
  assert.equal(top.documentId, "setup");
  const cited = top.chunks[0].payload!;
  assert.deepEqual(cited.headings, ["Setup", "Proxies"]);
  assert.ok(typeof cited.start === "number" && (cited.end as number) > (cited.start as number));
  await searchDocuments(c, { query: "proxies", mode: "text", limit: 1 });
  assert.equal(ran[1], "text", "mode text: BM25 only");
  await searchDocuments(c, { query: "proxies", mode: "vector", limit: 1 });
  assert.equal(ran[2], "exact-scan", "mode vector: vector only");
  // A collection without text fields answers the same question with its vector.
  const plain = await db.createCollection("plain", documentSchema("fake", 64, { analyzer: false }));
  await ingestDocuments(db, plain, [{ id: "setup", text: "Set the registry proxy." }]);
  assert.equal((await searchDocuments(plain, { query: "proxy", limit: 1 }))[0].documentId, "setup");
  await assert.rejects(searchDocuments(plain, { query: "proxy", mode: "text" }), /no text fields/);
  await db.close();
});

test("documents: duplicates across documents are reported, skipped or rejected", async () => {
  const db = await open(undefined, { embedders: { fake: fakeEmbedder() } });
  const c = await db.createCollection("docs", documentSchema("fake", 64));
  const text = "Quiver keeps a write-ahead log with checksums on every record.";
  await ingestDocuments(db, c, [{ id: "a", text }]);
  const kept = await ingestDocuments(db, c, [
    { id: "b", text: text.toUpperCase() },
    { id: "c", text: "Totally different words here about cooking pasta." },
  ]);
  assert.equal(kept.quality.exactDuplicates.count, 1);
  assert.equal(kept.quality.exactDuplicates.examples[0].of, "a#0");
  await assert.rejects(
    ingestDocuments(db, c, [{ id: "d", text: `${text} ` }], { duplicates: "reject" }),
    /duplicates a#0 \(nothing was written/,
  );
  assert.equal(await c.count({ documentId: "d" }), 0);
  const skipped = await ingestDocuments(
    db,
    c,
    [{ id: "e", text: `Quiver keeps a write-ahead log with checksums on every single record.` }],
    { duplicates: "skip", nearDuplicateThreshold: 0.9 },
  );
  assert.deepEqual(skipped.skipped, ["e#0"]);
  assert.equal(await c.count({ documentId: "e" }), 0);
  await db.close();
});

test("memory: scopes, merge of near-duplicates, TTL at read time and purge, recency, forget", async () => {
  let now = 1_000_000;
  const db = await open(undefined, { embedders: { local: fakeEmbedder() } });
  const mem = await MemoryStore.open(db, { dim: 64, now: () => now, purgeIntervalMs: 0 });
  const a = await mem.remember({ session: "s1", text: "The user prefers metric units" });
  const b = await mem.remember({ session: "s1", text: "the user prefers METRIC units", metadata: { k: 1 } });
  assert.equal(b.merged, true);
  assert.equal(b.id, a.id);
  const other = await mem.remember({ session: "s2", text: "The user prefers metric units" });
  assert.equal(other.merged, false, "other scopes are never merged into");
  await mem.remember({ session: "s1", text: "Their dog is called Rex", ttlMs: 1000 });
  let hits = await mem.recall("dog name", { session: "s1" });
  assert.equal(hits[0].text, "Their dog is called Rex");
  assert.equal((await mem.recall("metric", { session: "s1" }))[0].mentions, 2);
  now += 1001;
  hits = await mem.recall("dog name", { session: "s1" });
  assert.ok(
    hits.every((h) => h.text !== "Their dog is called Rex"),
    "expired memories are not recalled",
  );
  assert.equal(await mem.collection.count(), 3, "still stored until purged");
  assert.deepEqual(await mem.purgeExpired(), { deleted: 1 });
  // Recency: two equally relevant memories; the recent one wins with a decay.
  await mem.remember({ session: "s3", text: "meeting moved to room alpha", id: "old" });
  now += 10 * 86_400_000;
  await mem.remember({ session: "s3", text: "meeting moved to room beta", id: "new" });
  const byRelevance = await mem.recall("meeting moved to room alpha", { session: "s3" });
  assert.equal(byRelevance[0].id, "old");
  const byRecency = await mem.recall("meeting moved to room", {
    session: "s3",
    halfLifeMs: 86_400_000,
    recencyWeight: 0.5,
  });
  assert.equal(byRecency[0].id, "new");
  assert.deepEqual(await mem.forget({ session: "s3" }), { deleted: 2 });
  assert.deepEqual(await mem.forget({ id: other.id, session: "s1" }), { deleted: 0 }, "id outside the scope is kept");
  assert.deepEqual(await mem.forget({ id: other.id }), { deleted: 1 });
  await assert.rejects(mem.forget({}), /give id, ids, or a scope/);
  await db.close();
});

test("doctor finds planted duplicates, near-duplicates, short texts, abnormal norms and outliers", async () => {
  const rand = mulberry32(7);
  const dim = 32;
  const centers = Array.from({ length: 4 }, () => Array.from({ length: dim }, () => rand() * 2 - 1));
  const db = await open();
  const c = await db.createCollection("gen", { vectors: { v: { dim, metric: "dot" } } });
  const records = [];
  for (let i = 0; i < 200; i++) {
    const center = centers[i % 4];
    records.push({
      id: `r${i}`,
      vector: center.map((x) => x + (rand() - 0.5) * 0.6),
      payload: { text: `record number ${i} with some ordinary text` },
    });
  }
  // Planted: an exact duplicate text, a near-duplicate vector, a very short and an empty text, a huge norm, two outliers.
  records.push({
    id: "dup",
    vector: records[3].vector.map((x) => x + (rand() - 0.5) * 0.6),
    payload: { text: "Record number 3 with some  ordinary text" },
  });
  records.push({
    id: "near",
    vector: records[10].vector.map((x) => x * 1.0001),
    payload: { text: "a rephrased version of record ten" },
  });
  records.push({ id: "short", vector: centers[1].map((x) => x + (rand() - 0.5) * 0.6), payload: { text: "ok" } });
  records.push({ id: "empty", vector: centers[2].map((x) => x + (rand() - 0.5) * 0.6), payload: { text: " " } });
  records.push({
    id: "huge",
    vector: centers[0].map((x) => x * 40),
    payload: { text: "a vector with an enormous norm in it" },
  });
  for (const id of ["out1", "out2"]) {
    const v = new Array(dim).fill(0);
    v[id === "out1" ? 0 : 1] = -3;
    records.push({
      id,
      vector: v.map((x, i) => x + (i > 1 ? (rand() - 0.5) * 0.01 : 0)),
      payload: { text: `an unrelated vector called ${id}` },
    });
  }
  await c.upsert(records);
  const report = await doctor(c, { nearDuplicateThreshold: 0.999 });
  assert.equal(report.records, 207);
  assert.deepEqual(
    report.exactDuplicates.examples.map((e) => [e.id, e.of!].sort()),
    [["dup", "r3"]],
  );
  assert.ok(
    report.nearDuplicates.examples.some(
      (e) => (e.id === "near" && e.of === "r10") || (e.id === "r10" && e.of === "near"),
    ),
    JSON.stringify(report.nearDuplicates),
  );
  assert.equal(report.nearDuplicates.count, 1);
  assert.deepEqual(
    report.shortTexts.examples.map((e) => e.id),
    ["short"],
  );
  assert.deepEqual(
    report.emptyTexts.examples.map((e) => e.id),
    ["empty"],
  );
  assert.ok(report.abnormalNorms.examples.some((e) => e.id === "huge"));
  const outliers = report.outliers.examples.map((e) => e.id);
  assert.ok(outliers.includes("out1") && outliers.includes("out2"), JSON.stringify(report.outliers));
  assert.ok(report.outliers.count <= 4, `few false outliers: ${JSON.stringify(report.outliers)}`);
  await db.close();
});
