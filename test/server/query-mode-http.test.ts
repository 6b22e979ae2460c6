/**
 * Hybrid by default over HTTP: POST /v1/collections/{name}/query with `text` on a document
 * collection runs hybrid (the server's embedder embeds the text) unless `mode` chooses, the
 * OpenAPI document declares `mode`, and a text embedded as the vector is billed for it.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { documentSchema, ingestDocuments, type CollectionApi, type QueryPlan } from "../../src/index.js";
import { queryCost } from "../../src/server/costs.js";
import { fakeEmbedder } from "../ai/fake-embedder.js";
import { startTestServer } from "./helpers.js";

test("HTTP query: text on a document collection runs hybrid; mode chooses; a bad mode is a 400 naming it", async () => {
  const t = await startTestServer({ dbOptions: { embedders: { fake: fakeEmbedder() } } });
  try {
    const docs = await t.db.createCollection("docs", documentSchema("fake", 64));
    await ingestDocuments(t.db, docs, [
      { id: "setup", text: "# Setup\n\n## Proxies\n\nSet the registry proxy with npm config set proxy." },
      { id: "bread", text: "# Bread\n\nKnead the dough and let it rise before baking." },
    ]);
    const query = (body: unknown) => t.call("POST", "/v1/collections/docs/query", { body });
    const hybrid = await query({ text: "registry proxy", limit: 1 });
    assert.equal(hybrid.status, 200, hybrid.text);
    assert.equal(hybrid.json.plan.strategy, "hybrid");
    const hit = hybrid.json.hits[0];
    assert.equal(hit.payload.documentId, "setup");
    assert.deepEqual(hit.payload.headings, ["Setup", "Proxies"]);
    assert.ok(hit.payload.end > hit.payload.start);
    assert.equal((await query({ text: "registry proxy", mode: "text" })).json.plan.strategy, "text");
    assert.equal((await query({ text: "registry proxy", mode: "vector" })).json.plan.strategy, "exact-scan");
    const bad = await query({ text: "proxy", mode: "semantic" });
    assert.equal(bad.status, 400);
    assert.match(bad.text, /mode/);
    const spec = await t.call("GET", "/openapi.json");
    const body = spec.json.paths["/v1/collections/{name}/query"].post.requestBody.content["application/json"].schema;
    assert.deepEqual(body.properties.mode.enum, ["vector", "text", "hybrid"]);
  } finally {
    await t.close();
  }
});

test("a text embedded as the vector is billed as analysed and embedded; a vector sent is not", () => {
  const coll = { schema: documentSchema("fake", 4) } as unknown as CollectionApi;
  const plan = (strategy: QueryPlan["strategy"], vector: string, text: boolean): QueryPlan => ({
    strategy,
    vector,
    candidates: 0,
    usedIndexes: false,
    payloadsChecked: 0,
    ...(text ? { text: { fields: ["text"], terms: {}, matched: 0 } } : {}),
  });
  const work = (req: Record<string, unknown>, p: QueryPlan) => queryCost(coll, req, p).work;
  assert.equal(work({ text: "abcd" }, plan("text", "", true)), 400, "BM25 only: analysed once");
  assert.equal(work({ text: "abcd" }, plan("hybrid", "embedding", true)), 800, "hybrid by default: and embedded");
  assert.equal(work({ text: "abcd", mode: "vector" }, plan("exact-scan", "embedding", false)), 400, "embedded only");
  assert.equal(work({ text: "abcd", vector: [1, 0, 0, 0] }, plan("hybrid", "embedding", true)), 400);
});
