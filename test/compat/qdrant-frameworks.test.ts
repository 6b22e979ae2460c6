/**
 * The framework stores built on Qdrant's client, `@langchain/qdrant` and `@llamaindex/qdrant`,
 * unchanged against the Qdrant-compatible API of a server on 127.0.0.1, with each framework's own
 * offline embeddings (LangChain's SyntheticEmbeddings) or fixed vectors on the nodes (LlamaIndex):
 * adding, similarity search checked against brute force, filters, MMR, deletes by id and filter.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { QdrantClient } from "@qdrant/js-client-rest";
import { QdrantVectorStore as LangChainQdrant } from "@langchain/qdrant";
import { SyntheticEmbeddings } from "@langchain/core/utils/testing";
import { Document } from "@langchain/core/documents";
import { QdrantVectorStore as LlamaQdrant } from "@llamaindex/qdrant";
import { MetadataMode, TextNode } from "@llamaindex/core/schema";
import { BaseEmbedding } from "@llamaindex/core/embeddings";
import { FilterCondition, FilterOperator, VectorStoreQueryMode } from "@llamaindex/core/vector-store";
import { ADMIN_KEY, startTestServer, type TestServer } from "../server/helpers.js";

let s: TestServer;
let client: QdrantClient;

before(async () => {
  s = await startTestServer();
  const warn = console.warn;
  // The client warns that a key travels over plain http: expected on loopback.
  console.warn = () => {};
  client = new QdrantClient({ url: s.url, apiKey: ADMIN_KEY, checkCompatibility: false });
  console.warn = warn;
});

after(async () => {
  await s.close();
});

function cosine(a: number[], b: number[]): number {
  let d = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    d += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return d / Math.sqrt(na * nb);
}

const TEXTS = [
  "the quiver holds arrows for the archer",
  "vector databases answer nearest neighbour queries",
  "a crash-safe write ahead log survives power loss",
  "hybrid search fuses bm25 and vector rankings",
  "webassembly simd kernels compute distances quickly",
  "arrows fly from the bow of the archer",
  "payload filters narrow the candidates of a query",
  "the archer keeps spare arrows in a quiver",
];
const SOURCES = ["a", "b", "a", "b", "a", "b", "a", "b"];

test("LangChain's QdrantVectorStore: fromTexts, similarity search with scores, filters, MMR, delete by ids and filter", async () => {
  const embeddings = new SyntheticEmbeddings({ vectorSize: 8 });
  const vectors = await embeddings.embedDocuments(TEXTS);
  for (const v of vectors)
    assert.ok(
      v.some((x) => x !== 0),
      "every synthetic embedding is non-zero",
    );
  const store = await LangChainQdrant.fromTexts(
    TEXTS,
    SOURCES.map((source, i) => ({ source, i })),
    embeddings,
    { client, collectionName: "lc" },
  );
  assert.deepEqual(await client.count("lc"), { count: TEXTS.length });

  const query = "archer arrows";
  const q = await embeddings.embedQuery(query);
  const brute = TEXTS.map((t, i) => ({ t, i, score: cosine(q, vectors[i]) })).sort((a, b) => b.score - a.score);
  const hits = await store.similaritySearchWithScore(query, 3);
  assert.deepEqual(
    hits.map(([d]) => d.pageContent),
    brute.slice(0, 3).map((b) => b.t),
  );
  for (const [i, [d, score]] of hits.entries()) {
    assert.ok(Math.abs(score - brute[i].score) < 1e-5);
    assert.deepEqual(d.metadata, { source: SOURCES[brute[i].i], i: brute[i].i });
    assert.match(String(d.id), /^[0-9a-f-]{36}$/, "LangChain's UUID ids come back as written");
  }

  const onlyB = await store.similaritySearch(query, 2, { must: [{ key: "metadata.source", match: { value: "b" } }] });
  assert.deepEqual(
    onlyB.map((d) => d.pageContent),
    brute
      .filter((b) => SOURCES[b.i] === "b")
      .slice(0, 2)
      .map((b) => b.t),
  );

  // MMR with diversity 0 is plain relevance; with diversity 1 the second pick is the candidate least
  // like the first (LangChain passes its `lambda` as Qdrant's `diversity`).
  const plain = await store.maxMarginalRelevanceSearch(query, { k: 3, fetchK: 8, lambda: 0 });
  assert.deepEqual(
    plain.map((d) => d.pageContent),
    brute.slice(0, 3).map((b) => b.t),
  );
  const diverse = await store.maxMarginalRelevanceSearch(query, { k: 2, fetchK: 8, lambda: 1 });
  const first = brute[0].i;
  const leastLike = brute
    .filter((b) => b.i !== first)
    .sort((a, b) => cosine(vectors[a.i], vectors[first]) - cosine(vectors[b.i], vectors[first]))[0];
  assert.deepEqual(
    diverse.map((d) => d.pageContent),
    [TEXTS[first], leastLike.t],
  );

  const ids = hits.map(([d]) => String(d.id));
  await store.delete({ ids: ids.slice(0, 1) });
  assert.deepEqual(await client.count("lc"), { count: TEXTS.length - 1 });
  await store.delete({ filter: { must: [{ key: "metadata.source", match: { value: "a" } }] } });
  const left = await client.scroll("lc", { limit: 100 });
  assert.ok(left.points.every((p) => (p.payload?.metadata as { source?: string } | undefined)?.source === "b"));
  assert.equal(left.points.length, SOURCES.filter((x) => x === "b").length - (SOURCES[brute[0].i] === "b" ? 1 : 0));

  const added = new Document({
    id: "6a1d2f4e-0c4b-4e8e-9c1a-3f0d8b2a7e55",
    pageContent: "a new arrow",
    metadata: { source: "c" },
  });
  await store.addDocuments([added]);
  const back = await store.similaritySearch("a new arrow", 1, {
    must: [{ key: "metadata.source", match: { value: "c" } }],
  });
  assert.deepEqual([back[0].id, back[0].pageContent], [added.id, added.pageContent]);
});

/**
 * The nodes below carry their vectors; the store still wants a model, which is never asked here.
 * (The constructor is restated because BaseEmbedding's is protected.)
 */
class NoEmbedding extends BaseEmbedding {
  // biome-ignore lint/complexity/noUselessConstructor: makes the protected base constructor public
  constructor() {
    super();
  }

  async getTextEmbedding(): Promise<number[]> {
    throw new Error("the test nodes carry their embeddings");
  }
}

function node(id: string, text: string, embedding: number[], metadata: Record<string, unknown>, doc: string): TextNode {
  const n = new TextNode({ id_: id, text, embedding, metadata });
  n.relationships = { SOURCE: { nodeId: doc, metadata: {} } } as TextNode["relationships"];
  return n;
}

test("LlamaIndex's QdrantVectorStore: add, query with metadata filters (eq, gt, in, nin, is_empty, or), delete by document", async () => {
  const store = new LlamaQdrant({ client, collectionName: "llama", embedModel: new NoEmbedding() });
  const nodes = [
    node("2b1c9a3e-1111-4aaa-8bbb-000000000001", "one", [1, 0, 0], { year: 2020, lang: "en", tags: ["x"] }, "doc-1"),
    node("2b1c9a3e-1111-4aaa-8bbb-000000000002", "two", [0.9, 0.1, 0], { year: 2021, lang: "fr", tags: [] }, "doc-1"),
    node("2b1c9a3e-1111-4aaa-8bbb-000000000003", "three", [0, 1, 0], { year: 2022, lang: "en", tags: ["y"] }, "doc-2"),
    node(
      "2b1c9a3e-1111-4aaa-8bbb-000000000004",
      "four",
      [0, 0, 1],
      { year: 2023, lang: "de", tags: ["x", "y"] },
      "doc-2",
    ),
  ];
  const ids = await store.add(nodes);
  assert.deepEqual(
    ids,
    nodes.map((n) => n.id_),
  );
  const ask = async (filters?: Parameters<LlamaQdrant["query"]>[0]["filters"]) =>
    (await store.query({ queryEmbedding: [1, 0, 0], similarityTopK: 4, mode: VectorStoreQueryMode.DEFAULT, filters }))
      .ids;
  const all = await store.query({ queryEmbedding: [1, 0, 0], similarityTopK: 2, mode: VectorStoreQueryMode.DEFAULT });
  assert.deepEqual(all.ids, [nodes[0].id_, nodes[1].id_]);
  assert.ok(Math.abs((all.similarities[0] ?? 0) - 1) < 1e-5);
  assert.equal(all.nodes?.[0].getContent(MetadataMode.NONE), "one");
  const eq = await ask({ filters: [{ key: "lang", value: "en", operator: FilterOperator.EQ }] });
  assert.deepEqual(eq, [nodes[0].id_, nodes[2].id_]);
  const gt = await ask({ filters: [{ key: "year", value: 2021, operator: FilterOperator.GT }] });
  assert.deepEqual(new Set(gt), new Set([nodes[2].id_, nodes[3].id_]));
  const inList = await ask({ filters: [{ key: "lang", value: ["fr", "de"], operator: FilterOperator.IN }] });
  assert.deepEqual(new Set(inList), new Set([nodes[1].id_, nodes[3].id_]));
  const nin = await ask({ filters: [{ key: "lang", value: ["fr", "de"], operator: FilterOperator.NIN }] });
  assert.deepEqual(new Set(nin), new Set([nodes[0].id_, nodes[2].id_]));
  const empty = await ask({ filters: [{ key: "tags", value: "", operator: FilterOperator.IS_EMPTY }] });
  assert.deepEqual(empty, [nodes[1].id_]);
  const either = await ask({
    filters: [
      { key: "year", value: 2020, operator: FilterOperator.EQ },
      { key: "lang", value: "de", operator: FilterOperator.EQ },
    ],
    condition: FilterCondition.OR,
  });
  assert.deepEqual(new Set(either), new Set([nodes[0].id_, nodes[3].id_]));
  await store.delete("doc-1");
  assert.deepEqual(new Set(await ask(undefined)), new Set([nodes[2].id_, nodes[3].id_]));
});
