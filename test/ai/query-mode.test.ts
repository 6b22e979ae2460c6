/**
 * Hybrid by default on document collections, through the embedded API: `collection.query` given a
 * text alone runs hybrid where the collection can embed it (text fields and a bound vector with a
 * registered embedder), BM25 where it cannot, its vector where it has no text fields; `mode` chooses,
 * and a mode the collection cannot serve is refused naming why.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { documentSchema, ingestDocuments, isQuiverError, open } from "../../src/index.js";
import { fakeEmbedder } from "./fake-embedder.js";

const DOCS = [
  { id: "setup", text: "# Setup\n\n## Proxies\n\nSet the registry proxy with npm config set proxy." },
  { id: "bread", text: "# Bread\n\nKnead the dough and let it rise before baking." },
];

async function documents() {
  const fake = fakeEmbedder();
  const db = await open(undefined, { embedders: { fake } });
  const docs = await db.createCollection("docs", documentSchema("fake", 64));
  await ingestDocuments(db, docs, DOCS);
  return { db, docs, fake };
}

test("collection.query: a text alone on a document collection runs hybrid, embedding the text", async () => {
  const { db, docs, fake } = await documents();
  const before = fake.calls.length;
  const { hits, plan } = await docs.query({ text: "registry proxy", limit: 1, explain: true });
  assert.equal(plan.strategy, "hybrid");
  assert.equal(hits[0].payload?.documentId, "setup");
  assert.ok(hits[0].explain?.text && hits[0].explain?.vector, "both sources ranked the hit");
  assert.deepEqual(fake.calls.slice(before), [["registry proxy"]]);
  // { query, fields } is embedded by its query.
  assert.equal((await docs.query({ text: { query: "dough", fields: ["text"] } })).plan.strategy, "hybrid");
  await db.close();
});

test("collection.query: mode chooses the sources; a vector the mode needs is embedded from the text", async () => {
  const { db, docs } = await documents();
  const text = await docs.query({ text: "proxy", mode: "text" });
  assert.equal(text.plan.strategy, "text");
  const vector = await docs.query({ text: "proxy", mode: "vector", limit: 1 });
  assert.equal(vector.plan.strategy, "exact-scan");
  assert.equal(vector.plan.text, undefined);
  assert.equal(vector.hits[0].payload?.documentId, "setup");
  assert.equal((await docs.query({ text: "proxy", mode: "hybrid" })).plan.strategy, "hybrid");
  // A raw vector with mode text is not searched.
  const raw = new Array(64).fill(0.1);
  assert.equal((await docs.query({ text: "proxy", vector: raw, mode: "text" })).plan.strategy, "text");
  assert.equal((await docs.query({ text: "proxy", vector: raw, mode: "vector" })).plan.text, undefined);
  await db.close();
});

test("collection.query: where the text cannot be embedded, the default is BM25 and a mode that needs it is refused", async () => {
  const dir = await open(undefined, { embedders: { fake: fakeEmbedder() } });
  await dir.close();
  // The same collection in a database opened without its embedder.
  const db = await open(undefined);
  const docs = await db.createCollection("docs", documentSchema("fake", 64));
  await docs.upsert([{ id: "a", vector: new Array(64).fill(0.1), payload: { text: "registry proxy settings" } }]);
  const r = await docs.query({ text: "proxy" });
  assert.equal(r.plan.strategy, "text");
  assert.equal(r.hits[0].id, "a");
  await assert.rejects(docs.query({ text: "proxy", mode: "hybrid" }), (e) => {
    assert.ok(isQuiverError(e) && e.code === "INVALID_ARGUMENT");
    assert.match(e.message, /embedder "fake", which this database was not opened with/);
    return true;
  });
  await db.close();
});

test("collection.query: modes are checked, with every problem and its path", async () => {
  const { db, docs } = await documents();
  await assert.rejects(
    docs.query({ text: "proxy", mode: "fuzzy" as never }),
    /mode.*must be one of vector, text, hybrid/,
  );
  await assert.rejects(docs.query({ vector: new Array(64).fill(0.1), mode: "hybrid" }), /text.*give a text/);
  // No text fields: a text alone runs on the bound vector; mode text is refused by the schema.
  const plain = await db.createCollection("plain", documentSchema("fake", 64, { analyzer: false }));
  await ingestDocuments(db, plain, DOCS);
  const r = await plain.query({ text: "proxy", limit: 1 });
  assert.equal(r.plan.strategy, "exact-scan");
  assert.equal(r.hits[0].payload?.documentId, "setup");
  await assert.rejects(plain.query({ text: "proxy", mode: "text" }), /no text fields/);
  // A text collection with no vector bound to an embedder stays BM25; hybrid needs a vector.
  const notes = await db.createCollection("notes", {
    vectors: { v: { dim: 64, metric: "cosine" } },
    text: { body: {} },
  });
  await notes.upsert([{ id: "n", vector: new Array(64).fill(0.1), payload: { body: "proxy" } }]);
  assert.equal((await notes.query({ text: "proxy" })).plan.strategy, "text");
  await assert.rejects(notes.query({ text: "proxy", mode: "hybrid" }), /no single vector bound to an embedder/);
  // A blank text has nothing to embed: it stays a text query (no hits), not an embedding error.
  assert.equal((await docs.query({ text: "  " })).plan.strategy, "text");
  await db.close();
});
