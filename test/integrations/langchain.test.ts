/**
 * `quiverdb/langchain` with LangChain's own synthetic embeddings, embedded and over HTTP: every
 * VectorStore method, Quiver filters, MMR picking other hits than similarity, hybrid finding a
 * keyword match that vector search misses, deletes by ids and filter, and the retriever.
 */
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Document } from "@langchain/core/documents";
import { SyntheticEmbeddings } from "@langchain/core/utils/testing";
import { QuiverVectorStore } from "../../src/integrations/langchain/index.js";
import { isQuiverError, type DatabaseApi } from "../../src/index.js";
import { TARGETS } from "./targets.js";
import { atCosine, orthogonal, unit } from "./vectors.js";

const embeddings = new SyntheticEmbeddings({ vectorSize: 16 });

const DOCS = [
  new Document({ pageContent: "the quick brown fox jumps over the lazy dog", metadata: { lang: "en", year: 2020 } }),
  new Document({ pageContent: "le renard brun saute par dessus le chien", metadata: { lang: "fr", year: 2021 } }),
  new Document({ pageContent: "vector databases store embeddings for search", metadata: { lang: "en", year: 2023 } }),
  new Document({
    pageContent: "les bases vectorielles stockent des plongements",
    metadata: { lang: "fr", year: 2024 },
  }),
  new Document({ pageContent: "crash safe storage with a write ahead log", metadata: { lang: "en", year: 2025 } }),
];

for (const target of TARGETS) {
  describe(`LangChain QuiverVectorStore (${target.name})`, () => {
    let db: DatabaseApi;
    let teardown: () => Promise<void>;
    before(async () => ({ db, teardown } = await target.start()));
    after(() => teardown());

    test("addDocuments, then similaritySearch(WithScore) finds each text first with its metadata and id", async () => {
      const store = new QuiverVectorStore(embeddings, { db, collectionName: "lc_basic" });
      const ids = await store.addDocuments(DOCS, { ids: DOCS.map((_, i) => `d${i}`) });
      assert.deepEqual(ids, ["d0", "d1", "d2", "d3", "d4"]);
      for (const [i, doc] of DOCS.entries()) {
        const [[best, score]] = await store.similaritySearchWithScore(doc.pageContent, 3);
        assert.equal(best.id, `d${i}`);
        assert.equal(best.pageContent, doc.pageContent);
        assert.deepEqual(best.metadata, doc.metadata);
        assert.ok(Math.abs(score - 1) < 1e-5, `cosine of a text with itself, got ${score}`);
      }
      const plain = await store.similaritySearch(DOCS[2].pageContent, 2);
      assert.equal(plain.length, 2);
      assert.equal(plain[0].id, "d2");
      // The collection was created with the embeddings' dimension and a BM25 text field.
      const schema = (await db.collection("lc_basic")).schema;
      assert.equal(schema.vectors.embedding.dim, 16);
      assert.ok(schema.text && "text" in schema.text);
    });

    test("similaritySearchVectorWithScore applies Quiver filters and ranks by score", async () => {
      const store = await QuiverVectorStore.fromDocuments(DOCS, embeddings, { db, collectionName: "lc_filter" });
      const query = await embeddings.embedQuery("search storage");
      const fr = await store.similaritySearchVectorWithScore(query, 10, { lang: "fr" });
      assert.deepEqual(
        fr.map(([d]) => d.metadata.lang),
        ["fr", "fr"],
      );
      const recent = await store.similaritySearchVectorWithScore(query, 10, { lang: "en", year: { $gte: 2023 } });
      assert.deepEqual(recent.map(([d]) => d.metadata.year).sort(), [2023, 2025]);
      const all = await store.similaritySearchVectorWithScore(query, 10);
      assert.equal(all.length, 5);
      const scores = all.map(([, s]) => s);
      assert.deepEqual(
        scores,
        [...scores].sort((a, b) => b - a),
      );
      // A malformed filter is Quiver's INVALID_FILTER with its path, over HTTP as embedded.
      await assert.rejects(store.similaritySearchVectorWithScore(query, 3, { year: { $regex: "x" } }), (e) =>
        isQuiverError(e, "INVALID_FILTER"),
      );
    });

    test("maxMarginalRelevanceSearch skips a near duplicate that plain similarity returns", async () => {
      const store = new QuiverVectorStore(embeddings, { db, collectionName: "lc_mmr" });
      const q = unit(await embeddings.embedQuery("close"));
      const o1 = orthogonal(q, 0);
      const o2 = orthogonal(q, 1, [o1]);
      // a is the query's direction, a2 nearly a (cosine 0.999), b further (0.6) and as far from a.
      const vectors = [q, atCosine(q, o1, 0.999), atCosine(q, o2, 0.6)];
      const docs = ["a", "a2", "b"].map((id) => new Document({ id, pageContent: `text ${id}`, metadata: {} }));
      await store.addVectors(vectors, docs);
      const similar = await store.similaritySearch("close", 2);
      assert.deepEqual(
        similar.map((d) => d.id),
        ["a", "a2"],
      );
      // lambda 0.25: b scores 0.25*0.6 - 0.75*0.6 = -0.3, a2 0.25*0.999 - 0.75*0.999 = -0.5.
      const diverse = await store.maxMarginalRelevanceSearch("close", { k: 2, fetchK: 3, lambda: 0.25 });
      assert.deepEqual(
        diverse.map((d) => d.id),
        ["a", "b"],
      );
      // lambda 1 is plain similarity order.
      const same = await store.maxMarginalRelevanceSearch("close", { k: 2, fetchK: 3, lambda: 1 });
      assert.deepEqual(
        same.map((d) => d.id),
        ["a", "a2"],
      );
      await assert.rejects(store.maxMarginalRelevanceSearch("close", { k: 3, fetchK: 2 }), (e) =>
        isQuiverError(e, "INVALID_ARGUMENT"),
      );
    });

    test("hybrid finds a keyword match that vector search misses", async () => {
      const query = "zanzibar";
      const q = unit(await embeddings.embedQuery(query));
      const o = orthogonal(q, 0);
      const vectorOnly = new QuiverVectorStore(embeddings, { db, collectionName: "lc_hybrid" });
      // Twenty notes from cosine 0.95 down to 0.3 to the query; the one naming zanzibar at 0.25, last by vector.
      const cosines = Array.from({ length: 20 }, (_, i) => 0.95 - (0.65 * i) / 19);
      const docs = cosines.map(
        (_, i) => new Document({ id: `n${i}`, pageContent: `an ordinary travel note ${i}`, metadata: {} }),
      );
      docs.push(new Document({ id: "kw", pageContent: "a week in zanzibar", metadata: {} }));
      await vectorOnly.addVectors(
        [...cosines, 0.25].map((c) => atCosine(q, o, c)),
        docs,
      );
      const byVector = await vectorOnly.similaritySearch(query, 3);
      assert.deepEqual(
        byVector.map((d) => d.id),
        ["n0", "n1", "n2"],
        "vector search alone misses the keyword document",
      );
      const hybrid = await QuiverVectorStore.fromExistingCollection(embeddings, {
        db,
        collectionName: "lc_hybrid",
        hybrid: true,
      });
      const found = await hybrid.similaritySearch(query, 3);
      assert.ok(
        found.some((d) => d.id === "kw"),
        `hybrid returns it: ${found.map((d) => d.id)}`,
      );
      const rrf = await vectorOnly.hybridSearchWithScore(query, 3, undefined, { method: "rrf" });
      assert.ok(
        rrf.some(([d]) => d.id === "kw"),
        `rrf returns it: ${rrf.map(([d]) => d.id)}`,
      );
      // The filter applies to hybrid queries too.
      assert.deepEqual(await hybrid.similaritySearch(query, 3, { lang: "xx" }), []);
    });

    test("delete by ids and by filter", async () => {
      const store = await QuiverVectorStore.fromTexts(
        ["one", "two", "three", "four"],
        [{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }],
        embeddings,
        { db, collectionName: "lc_delete" },
      );
      const collection = await db.collection("lc_delete");
      assert.equal(await collection.count(), 4);
      const [one] = await store.similaritySearch("one", 1);
      await store.delete({ ids: [one.id as string] });
      assert.equal(await collection.count(), 3);
      await store.delete({ filter: { n: { $gte: 3 } } });
      const left = await collection.scroll({ withPayload: true });
      assert.deepEqual(
        left.records.map((r) => r.payload),
        [{ n: 2, text: "two" }],
      );
      await assert.rejects(store.delete({}), (e) => isQuiverError(e, "INVALID_ARGUMENT"));
    });

    test("fromTexts with one metadata object; fromExistingCollection; a missing collection is NOT_FOUND", async () => {
      await QuiverVectorStore.fromTexts(["alpha", "beta"], { source: "s" }, embeddings, {
        db,
        collectionName: "lc_from",
      });
      const again = await QuiverVectorStore.fromExistingCollection(embeddings, { db, collectionName: "lc_from" });
      const [hit] = await again.similaritySearch("beta", 1);
      assert.deepEqual([hit.pageContent, hit.metadata], ["beta", { source: "s" }]);
      await assert.rejects(
        QuiverVectorStore.fromExistingCollection(embeddings, { db, collectionName: "lc_none" }),
        (e) => isQuiverError(e, "NOT_FOUND"),
      );
      // A read on a store whose collection was never written does not create it.
      const fresh = new QuiverVectorStore(embeddings, { db, collectionName: "lc_never" });
      await assert.rejects(fresh.similaritySearch("x"), (e) => isQuiverError(e, "NOT_FOUND"));
      assert.ok(!(await db.listCollections()).some((c) => c.name === "lc_never"));
    });

    test("a collection made outside the store: its only vector is found, textKey names its text field", async () => {
      const made = await db.createCollection("lc_own", {
        vectors: { v: { dim: 16, metric: "l2" } },
        text: { body: { analyzer: "english" } },
      });
      await made.upsert(
        await Promise.all(
          ["red apples", "green pears", "ripe bananas"].map(async (body, i) => ({
            id: `f${i}`,
            vectors: { v: await embeddings.embedQuery(body) },
            payload: { body, shelf: i },
          })),
        ),
      );
      const store = await QuiverVectorStore.fromExistingCollection(embeddings, { collection: made, textKey: "body" });
      const [[best, score]] = await store.similaritySearchWithScore("green pears", 1);
      assert.deepEqual([best.id, best.pageContent, best.metadata], ["f1", "green pears", { shelf: 1 }]);
      assert.ok(Math.abs(score) < 1e-6, `l2: the score is the negated distance, 0 for the same text, got ${score}`);
      const [[hybrid]] = await store.hybridSearchWithScore("bananas", 1);
      assert.equal(hybrid.id, "f2");
      await assert.rejects(
        QuiverVectorStore.fromExistingCollection(embeddings, { db, collectionName: "lc_own", vectorName: "nope" }),
        (e) => isQuiverError(e, "INVALID_ARGUMENT") && e.problems[0].path === "vectorName",
      );
    });

    test("asRetriever returns the k nearest documents, filtered, and in MMR mode", async () => {
      const store = await QuiverVectorStore.fromDocuments(DOCS, embeddings, { db, collectionName: "lc_retriever" });
      const retriever = store.asRetriever({ k: 2, filter: { lang: "fr" } });
      const docs = await retriever.invoke(DOCS[3].pageContent);
      assert.equal(docs.length, 2);
      assert.equal(docs[0].pageContent, DOCS[3].pageContent);
      assert.ok(docs.every((d) => d.metadata.lang === "fr"));
      const mmr = store.asRetriever({ k: 3, searchType: "mmr", searchKwargs: { fetchK: 5, lambda: 0.3 } });
      assert.equal((await mmr.invoke("storage")).length, 3);
    });

    test("metadata that would overwrite the text field is refused, naming every document, and nothing is written", async () => {
      const store = new QuiverVectorStore(embeddings, { db, collectionName: "lc_reserved" });
      await assert.rejects(
        store.addDocuments([
          new Document({ pageContent: "fine", metadata: {} }),
          new Document({ pageContent: "bad", metadata: { text: "clash" } }),
        ]),
        (e) => isQuiverError(e, "INVALID_ARGUMENT") && e.problems[0].path === "documents[1].metadata.text",
      );
      assert.equal(await (await db.collection("lc_reserved")).count(), 0);
      // An embedding of another dimension is refused the same way, before any batch is written.
      await assert.rejects(
        store.addVectors(
          [new Array(16).fill(0.5), [1, 2]],
          [new Document({ pageContent: "a" }), new Document({ pageContent: "b" })],
        ),
        (e) => isQuiverError(e, "DIMENSION_MISMATCH") && e.problems[0].path === "documents[1].embedding",
      );
      assert.equal(await (await db.collection("lc_reserved")).count(), 0);
      await assert.rejects(
        store.addVectors([[1]], [], { ids: ["x", "y"] }),
        (e) => isQuiverError(e, "INVALID_ARGUMENT") && e.problems.map((p) => p.path).join() === "vectors,ids",
      );
      // With another textKey the same metadata is fine.
      const other = new QuiverVectorStore(embeddings, { db, collectionName: "lc_textkey", textKey: "body" });
      await other.addDocuments([new Document({ pageContent: "body text", metadata: { text: "kept" } })]);
      const [hit] = await other.similaritySearch("body text", 1);
      assert.deepEqual([hit.pageContent, hit.metadata], ["body text", { text: "kept" }]);
    });
  });
}
