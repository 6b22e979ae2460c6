/**
 * Full-text and hybrid search through the public API: Chinese, Japanese and mixed-language
 * documents found by word; hybrid fusion, explanations and grouping; filters; validation with
 * paths; and the text index rebuilt identically after reopening (from WAL and from segments).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { open, MemoryDirectory, QuiverError, type Collection } from "../../src/index.js";

const DOCS = [
  { id: "zh1", payload: { body: "我们在北京大学学习自然语言处理", lang: "zh", doc: "d1" } },
  { id: "zh2", payload: { body: "上海是一个国际化大都市", lang: "zh", doc: "d1" } },
  { id: "ja1", payload: { body: "東京都に住んでいます。機械学習の研究をしています", lang: "ja", doc: "d2" } },
  { id: "ja2", payload: { body: "京都の寺院はとても美しい", lang: "ja", doc: "d2" } },
  {
    id: "en1",
    payload: { title: "Running databases", body: "Crash-safe storage engines write ahead logs", lang: "en", doc: "d3" },
  },
  { id: "en2", payload: { title: "Cats", body: "The cat's toys are in the garden", lang: "en", doc: "d4" } },
  {
    id: "mix",
    payload: {
      title: "Tokyo notes",
      body: "東京 and Beijing (北京): machine learning meetups, 機械学習",
      lang: "mixed",
      doc: "d5",
    },
  },
];

async function textCollection(dir?: MemoryDirectory) {
  const db = await open(dir);
  const c = await db.createCollection(
    "docs",
    {
      vectors: { v: { dim: 2, metric: "cosine" } },
      text: { title: { analyzer: "english", boost: 2 }, body: {} },
      indexes: { lang: "keyword" },
    },
    { ifNotExists: true },
  );
  return { db, c };
}

async function ids(c: Collection, q: Parameters<Collection["query"]>[0]): Promise<string[]> {
  return (await c.query(q)).hits.map((h) => h.id);
}

const vectorOf = (i: number) => [Math.cos(i), Math.sin(i)];

test("Chinese and Japanese documents are found by word, and mixed-language documents by either", async () => {
  const { db, c } = await textCollection();
  await c.upsert(DOCS.map((d, i) => ({ ...d, vector: vectorOf(i) })));
  assert.deepEqual(new Set(await ids(c, { text: "北京" })), new Set(["zh1", "mix"]));
  assert.deepEqual(await ids(c, { text: "大学" }), ["zh1"]);
  assert.deepEqual(await ids(c, { text: "上海" }), ["zh2"]);
  // 京都 (Kyoto) is a word of its own; it must not match 東京都 (Tokyo Metropolis) by substring.
  assert.deepEqual(await ids(c, { text: "京都" }), ["ja2"]);
  assert.deepEqual(new Set(await ids(c, { text: "東京" })), new Set(["ja1", "mix"]));
  assert.deepEqual(new Set(await ids(c, { text: "機械学習" })), new Set(["ja1", "mix"]));
  assert.deepEqual(await ids(c, { text: "beijing" }), ["mix"]);
  // English stemming on the title field: "run" finds "Running"; the body field is standard.
  assert.deepEqual(await ids(c, { text: "run" }), ["en1"]);
  assert.deepEqual(await ids(c, { text: "storage" }), ["en1"]);
  assert.deepEqual(await ids(c, { text: { query: "tokyo", fields: ["title"] } }), ["mix"]);
  assert.deepEqual(await ids(c, { text: "東京", filter: { lang: "ja" } }), ["ja1"]);
  const r = await c.query({ text: "東京 machine" });
  assert.equal(r.plan.strategy, "text");
  assert.deepEqual(r.plan.text?.terms.body, ["東京", "machine"]);
  await db.close();
});

test("hybrid queries fuse both sources, explain each hit, and group by a payload field", async () => {
  const { db, c } = await textCollection();
  await c.upsert(DOCS.map((d, i) => ({ ...d, vector: vectorOf(i) })));
  const r = await c.query({ text: "北京", vector: vectorOf(1), explain: true, limit: 7 });
  assert.equal(r.plan.strategy, "hybrid");
  assert.equal(r.plan.fusion, "zscore");
  assert.equal(r.hits.length, 7);
  const zh1 = r.hits.find((h) => h.id === "zh1")!;
  assert.equal(zh1.explain?.text?.rank !== undefined, true);
  assert.equal(r.hits.find((h) => h.id === "zh2")!.explain?.text, null, "zh2 has no text match");
  assert.equal(r.hits.find((h) => h.id === "zh2")!.explain?.vector?.rank, 1);
  for (let i = 1; i < r.hits.length; i++) assert.ok(r.hits[i - 1].score >= r.hits[i].score);
  const rrf = await c.query({
    text: "北京",
    vector: vectorOf(1),
    fusion: { method: "rrf", k: 60, weights: { vector: 0 } },
    explain: true,
  });
  assert.equal(rrf.plan.fusion, "rrf(k=60)");
  assert.deepEqual(new Set(rrf.hits.slice(0, 2).map((h) => h.id)), new Set(["zh1", "mix"]));
  const grouped = await c.query({ text: "東京 北京 京都", vector: vectorOf(0), groupBy: "doc", limit: 10 });
  const groups = grouped.hits.map((h) => h.group);
  assert.equal(new Set(groups).size, groups.length, "one hit per group");
  assert.equal(groups.length, 5);
  const vectorOnly = await c.query({ vector: vectorOf(2), limit: 1 });
  assert.equal(vectorOnly.hits[0].id, "ja1");
  assert.equal(vectorOnly.hits[0].explain, undefined);
  await db.close();
});

test("text-only collections, updates and deletes keep the text index consistent", async () => {
  const db = await open();
  const c = await db.createCollection("t", { vectors: {}, text: { body: {} } });
  await c.upsert([
    { id: "a", payload: { body: "red apple" } },
    { id: "b", payload: { body: "green apple" } },
  ]);
  assert.deepEqual(new Set(await ids(c, { text: "apple" })), new Set(["a", "b"]));
  await c.upsert([{ id: "a", payload: { body: "blue sky" } }]);
  assert.deepEqual(await ids(c, { text: "apple" }), ["b"]);
  assert.deepEqual(await ids(c, { text: "sky" }), ["a"]);
  await c.delete(["b"]);
  assert.deepEqual(await ids(c, { text: "apple" }), []);
  await c.upsert([{ id: "c", payload: { body: 42 } }]);
  assert.deepEqual(await ids(c, { text: "42" }), [], "non-string values are not indexed");
  await db.close();
});

test("the text index is rebuilt identically on reopen, from the WAL and from segments", async () => {
  const dir = new MemoryDirectory();
  let { db, c } = await textCollection(dir);
  await c.upsert(DOCS.map((d, i) => ({ ...d, vector: vectorOf(i) })));
  await c.delete(["zh2"]);
  const before = await c.query({ text: "東京 北京 garden", limit: 10 });
  await db.close(); // checkpoints into a segment
  ({ db, c } = await textCollection(dir));
  assert.deepEqual(await c.query({ text: "東京 北京 garden", limit: 10 }), before);
  await c.upsert([{ id: "zh2", vector: vectorOf(9), payload: { body: "北京烤鸭" } }]);
  const after = await c.query({ text: "北京", limit: 10 });
  // Reopen from the WAL: the files are copied before close, so the upsert is only in the log.
  const walOnly = MemoryDirectory.fromFiles(dir.snapshot());
  await db.close();
  for (const d of [walOnly, dir]) {
    ({ db, c } = await textCollection(d));
    assert.deepEqual(await c.query({ text: "北京", limit: 10 }), after);
    await db.close();
  }
});

test("every new query and schema option is validated, with paths", async () => {
  const db = await open();
  await assert.rejects(
    db.createCollection("bad", {
      vectors: {},
      text: { body: { analyzer: "klingon", stem: "yes" } },
      bm25: { k1: -1, b: 2, c: 1 },
    } as never),
    (e: unknown) => {
      assert.ok(e instanceof QuiverError && e.code === "INVALID_ARGUMENT");
      assert.deepEqual(e.problems.map((p) => p.path).sort(), [
        "schema.bm25.b",
        "schema.bm25.c",
        "schema.bm25.k1",
        "schema.text.body.analyzer",
        "schema.text.body.stem",
      ]);
      return true;
    },
  );
  await assert.rejects(db.createCollection("none", { vectors: {} }), /schema.vectors/);
  const { c } = await textCollection();
  await assert.rejects(
    c.query({
      text: { query: 1, fields: ["nope"] },
      fusion: { method: "max", weights: { text: -1, image: 1 }, depth: 0 },
      explain: "yes",
      groupBy: "a..b",
      colour: 1,
    } as never),
    (e: unknown) => {
      assert.ok(e instanceof QuiverError && e.code === "INVALID_ARGUMENT");
      assert.deepEqual(e.problems.map((p) => p.path).sort(), [
        "colour",
        "explain",
        "fusion.depth",
        "fusion.method",
        "fusion.weights.image",
        "fusion.weights.text",
        "groupBy",
        "text.fields[0]",
        "text.query",
      ]);
      return true;
    },
  );
  await assert.rejects(c.query({} as never), /needs a vector, a text, or both/);
  const plain = await db.createCollection("plain", { vectors: { v: { dim: 2, metric: "l2" } } });
  await assert.rejects(plain.query({ text: "x" }), /text: this collection has no text fields/);
  await db.close();
});
