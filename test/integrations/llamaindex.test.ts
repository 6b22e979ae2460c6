/**
 * `quiverdb/llamaindex` with a deterministic LlamaIndex embedding, embedded and over HTTP: add and
 * query with nodes rebuilt whole, every metadata filter operator and condition (against the expected
 * ids), default, hybrid, sparse and MMR modes, delete(refDocId), docIds, and the errors.
 */
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { MetadataMode, NodeRelationship, TextNode, type Metadata } from "@llamaindex/core/schema";
import {
  VectorStoreQueryMode,
  type MetadataFilter,
  type MetadataFilters,
  type VectorStoreQuery,
} from "@llamaindex/core/vector-store";
import { QuiverVectorStore } from "../../src/integrations/llamaindex/index.js";
import { isQuiverError, type DatabaseApi } from "../../src/index.js";
import { TARGETS } from "./targets.js";
import { atCosine, orthogonal, unit } from "./vectors.js";
import { LetterEmbedding } from "./letter-embedding.js";

const embedModel = new LetterEmbedding();

function node(id: string, text: string, metadata: Metadata, doc: string, embedding?: number[]): TextNode {
  const n = new TextNode({
    id_: id,
    text,
    metadata,
    relationships: { [NodeRelationship.SOURCE]: { nodeId: doc, metadata: {} } },
  });
  if (embedding) n.embedding = embedding;
  return n;
}

async function embedded(nodes: TextNode[]): Promise<TextNode[]> {
  for (const n of nodes) n.embedding = await embedModel.getTextEmbedding(n.getContent(MetadataMode.NONE));
  return nodes;
}

const BOOKS: [string, Metadata][] = [
  ["Dune Messiah", { genre: "sf", year: 1990, tags: ["space", "robots"] }],
  ["The Magic Lake", { genre: "fantasy", year: 2001, tags: ["magic"] }],
  ["Space Station", { genre: "sf", year: 2015, tags: [] }],
  ["Home", { genre: "drama", year: 2020, tags: ["family", "space"] }],
  ["Robots of Dawn", { genre: "sf", year: 1975, tags: null }],
  ["Untitled", { year: 2022, title_note: "no genre, no tags" }],
];

const one = (key: string, operator: MetadataFilter["operator"], value?: MetadataFilter["value"]): MetadataFilters => ({
  filters: [{ key, operator, value } as MetadataFilter],
});

/** Each filter and the books it must return (b<i> is BOOKS[i]). */
const FILTER_CASES: [string, MetadataFilters, string[]][] = [
  ["==", one("genre", "==", "sf"), ["b0", "b2", "b4"]],
  ["!= (also matches nodes without the key)", one("genre", "!=", "sf"), ["b1", "b3", "b5"]],
  [">", one("year", ">", 2001), ["b2", "b3", "b5"]],
  [">=", one("year", ">=", 2001), ["b1", "b2", "b3", "b5"]],
  ["<", one("year", "<", 1990), ["b4"]],
  ["<=", one("year", "<=", 1990), ["b0", "b4"]],
  ["in", one("genre", "in", ["sf", "drama"]), ["b0", "b2", "b3", "b4"]],
  ["nin", one("genre", "nin", ["sf"]), ["b1", "b3", "b5"]],
  ["any", one("tags", "any", ["robots", "magic"]), ["b0", "b1"]],
  ["all", one("tags", "all", ["space", "robots"]), ["b0"]],
  ["contains", one("tags", "contains", "space"), ["b0", "b3"]],
  ["text_match (substring, case-sensitive)", one("text", "text_match", "Robot"), ["b4"]],
  ["is_empty (missing, null or [])", one("tags", "is_empty"), ["b2", "b4", "b5"]],
  [
    "and",
    {
      filters: [
        { key: "genre", operator: "==", value: "sf" },
        { key: "year", operator: ">", value: 1980 },
      ],
      condition: "and",
    },
    ["b0", "b2"],
  ],
  [
    "or",
    {
      filters: [
        { key: "genre", operator: "==", value: "fantasy" },
        { key: "year", operator: "<", value: 1980 },
      ],
      condition: "or",
    },
    ["b1", "b4"],
  ],
  [
    "or with text_match and is_empty",
    {
      filters: [
        { key: "text", operator: "text_match", value: "Home" },
        { key: "tags", operator: "is_empty" },
      ],
      condition: "or",
    },
    ["b2", "b3", "b4", "b5"],
  ],
  [
    "a nested group",
    {
      filters: [
        {
          filters: [
            { key: "genre", operator: "==", value: "sf" },
            { key: "year", operator: "<", value: 1980 },
          ],
          condition: "and",
        } as unknown as MetadataFilter,
        { key: "genre", operator: "==", value: "fantasy" },
      ],
      condition: "or",
    },
    ["b1", "b4"],
  ],
  [
    "and with text_match",
    {
      filters: [
        { key: "text", operator: "text_match", value: "a" },
        { key: "genre", operator: "==", value: "sf" },
      ],
    },
    ["b0", "b2", "b4"],
  ],
];

for (const target of TARGETS) {
  describe(`LlamaIndex QuiverVectorStore (${target.name})`, () => {
    let db: DatabaseApi;
    let teardown: () => Promise<void>;
    before(async () => ({ db, teardown } = await target.start()));
    after(() => teardown());

    const query = (store: QuiverVectorStore, q: Partial<VectorStoreQuery>) =>
      store.query({ similarityTopK: 10, mode: VectorStoreQueryMode.DEFAULT, ...q });

    test("add, then a default query returns each node first, rebuilt with its text, metadata and source", async () => {
      const store = new QuiverVectorStore({ db, collectionName: "li_basic", embedModel });
      const nodes = await embedded(BOOKS.map(([text, metadata], i) => node(`b${i}`, text, metadata, `doc-${i % 2}`)));
      assert.deepEqual(await store.add(nodes), ["b0", "b1", "b2", "b3", "b4", "b5"]);
      for (const n of nodes) {
        const result = await query(store, { queryEmbedding: n.embedding, similarityTopK: 2 });
        assert.equal(result.ids[0], n.id_);
        assert.ok(Math.abs(result.similarities[0] - 1) < 1e-5);
        const found = result.nodes?.[0] as TextNode;
        assert.equal(found.id_, n.id_);
        assert.equal(found.getContent(MetadataMode.NONE), n.getContent(MetadataMode.NONE));
        assert.deepEqual(found.metadata, n.metadata);
        assert.equal(found.sourceNode?.nodeId, n.sourceNode?.nodeId);
      }
      assert.equal(store.client(), db);
    });

    test("every metadata filter operator and condition returns exactly the matching nodes", async () => {
      const store = new QuiverVectorStore({ db, collectionName: "li_filters", embedModel });
      await store.add(await embedded(BOOKS.map(([text, metadata], i) => node(`b${i}`, text, metadata, "doc"))));
      const q = await embedModel.getTextEmbedding("space");
      for (const [name, filters, expected] of FILTER_CASES) {
        const result = await query(store, { queryEmbedding: q, similarityTopK: 100, filters });
        assert.deepEqual([...result.ids].sort(), expected, name);
        // With fewer hits asked than match, the best of them come back (paging through a residual check).
        const top = await query(store, { queryEmbedding: q, similarityTopK: 1, filters });
        assert.ok(top.ids.length === 1 && expected.includes(top.ids[0]), `${name}: top 1`);
      }
    });

    test("unsupported operators, conditions, values and modes are errors naming every problem", async () => {
      const store = new QuiverVectorStore({ db, collectionName: "li_errors", embedModel });
      await store.add(await embedded([node("x", "x", {}, "d")]));
      const q = await embedModel.getTextEmbedding("x");
      const bad = {
        filters: [
          { key: "a", operator: "regex", value: "x" },
          { key: "b", operator: ">", value: ["1"] },
          { key: "c", operator: "in", value: [] },
        ],
      } as unknown as MetadataFilters;
      await assert.rejects(query(store, { queryEmbedding: q, filters: bad }), (e) => {
        assert.ok(isQuiverError(e, "INVALID_FILTER"));
        assert.deepEqual(
          e.problems.map((p) => p.path),
          ["filters.filters[0].operator", "filters.filters[1].value", "filters.filters[2].value"],
        );
        return true;
      });
      const notCondition = {
        filters: [{ key: "a", operator: "==", value: 1 }],
        condition: "not",
      } as unknown as MetadataFilters;
      await assert.rejects(query(store, { queryEmbedding: q, filters: notCondition }), (e) =>
        isQuiverError(e, "INVALID_FILTER"),
      );
      await assert.rejects(query(store, { queryEmbedding: q, mode: VectorStoreQueryMode.SVM }), (e) =>
        isQuiverError(e, "INVALID_ARGUMENT"),
      );
      await assert.rejects(query(store, { queryStr: "x" }), (e) => isQuiverError(e, "INVALID_ARGUMENT"));
      await assert.rejects(
        store.add([node("y", "y", {}, "d")]),
        (e) => isQuiverError(e, "INVALID_ARGUMENT") && e.problems[0].path === "nodes[0].embedding",
      );
    });

    test("hybrid and sparse find a keyword match that the default (vector) query misses; alpha weighs them", async () => {
      const store = new QuiverVectorStore({ db, collectionName: "li_hybrid", embedModel });
      const q = unit(await embedModel.getTextEmbedding("zanzibar"));
      const o = orthogonal(q, 0);
      // Twenty notes from cosine 0.95 down to 0.3 to the query; the one naming zanzibar at 0.25.
      const cosines = Array.from({ length: 20 }, (_, i) => 0.95 - (0.65 * i) / 19);
      const nodes = cosines.map((c, i) => node(`n${i}`, `an ordinary travel note ${i}`, {}, "d", atCosine(q, o, c)));
      nodes.push(node("kw", "a week in zanzibar", {}, "d", atCosine(q, o, 0.25)));
      await store.add(nodes);
      const ask = { queryEmbedding: q, queryStr: "zanzibar", similarityTopK: 3 };
      assert.deepEqual((await query(store, ask)).ids, ["n0", "n1", "n2"]);
      const hybrid = await query(store, { ...ask, mode: VectorStoreQueryMode.HYBRID });
      assert.ok(hybrid.ids.includes("kw"), `hybrid: ${hybrid.ids}`);
      assert.deepEqual((await query(store, { ...ask, mode: VectorStoreQueryMode.SPARSE })).ids, ["kw"]);
      // alpha 1 weighs the vector only, alpha 0 the text only (LlamaIndex's convention).
      assert.deepEqual((await query(store, { ...ask, mode: VectorStoreQueryMode.HYBRID, alpha: 1 })).ids, [
        "n0",
        "n1",
        "n2",
      ]);
      assert.equal((await query(store, { ...ask, mode: VectorStoreQueryMode.HYBRID, alpha: 0 })).ids[0], "kw");
    });

    test("MMR skips a near duplicate that the default query returns", async () => {
      const store = new QuiverVectorStore({ db, collectionName: "li_mmr", embedModel });
      const q = unit(await embedModel.getTextEmbedding("close"));
      const o1 = orthogonal(q, 0);
      const o2 = orthogonal(q, 1, [o1]);
      await store.add([
        node("a", "a", {}, "d", q),
        node("a2", "a2", {}, "d", atCosine(q, o1, 0.999)),
        node("b", "b", {}, "d", atCosine(q, o2, 0.6)),
      ]);
      assert.deepEqual((await query(store, { queryEmbedding: q, similarityTopK: 2 })).ids, ["a", "a2"]);
      const mmr = await query(store, {
        queryEmbedding: q,
        similarityTopK: 2,
        mode: VectorStoreQueryMode.MMR,
        mmrThreshold: 0.25,
      });
      assert.deepEqual(mmr.ids, ["a", "b"]);
    });

    test("delete(refDocId) removes that document's nodes only; docIds restricts a query", async () => {
      const store = new QuiverVectorStore({ db, collectionName: "li_delete", embedModel });
      await store.add(
        await embedded(BOOKS.map(([text, metadata], i) => node(`b${i}`, text, metadata, `doc-${i % 3}`))),
      );
      const q = await embedModel.getTextEmbedding("space");
      const only1 = await query(store, { queryEmbedding: q, docIds: ["doc-1"] });
      assert.deepEqual([...only1.ids].sort(), ["b1", "b4"]);
      await store.delete("doc-0");
      const left = await query(store, { queryEmbedding: q });
      assert.deepEqual([...left.ids].sort(), ["b1", "b2", "b4", "b5"]);
      // A store can also be built on a collection handle, embedded or remote alike.
      const handle = new QuiverVectorStore({ collection: await db.collection("li_delete"), embedModel });
      await handle.delete("doc-2");
      assert.deepEqual([...(await query(handle, { queryEmbedding: q })).ids].sort(), ["b1", "b4"]);
    });
  });
}
