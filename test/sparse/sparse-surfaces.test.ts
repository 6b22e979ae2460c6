/**
 * Sparse vectors over every surface: HTTP (the body schemas let them through, the database's
 * validation answers with paths, /openapi.json documents them), the client (`quiverdb/client`)
 * with typed arrays, and the MCP search tool (a sparse query alone or fused with BM25).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { startTestServer } from "../server/helpers.js";
import { QuiverTools } from "../../src/mcp/tools.js";

const SCHEMA = {
  vectors: { terms: { kind: "sparse" as const }, dense: { dim: 2, metric: "cosine" as const } },
  text: { body: {} },
};

test("HTTP and the client store, return and search sparse vectors; bad ones answer with paths", async () => {
  const s = await startTestServer();
  try {
    const docs = await s.admin.createCollection("docs", SCHEMA);
    await docs.upsert([
      {
        id: "a",
        vectors: { terms: { indices: Uint32Array.from([7, 3]), values: Float32Array.from([1, 2]) }, dense: [1, 0] },
        payload: { body: "red apple" },
      },
      { id: "b", vectors: { terms: { "3": 0.5, "9": 4 }, dense: [0, 1] }, payload: { body: "green pear" } },
    ]);
    const [a] = await docs.get(["a"], { withVectors: true });
    assert.deepEqual(a.vectors?.terms, { indices: [3, 7], values: [2, 1] });
    const sparse = await docs.query({ vector: { terms: { indices: [3, 9], values: [1, 1] } }, explain: true });
    assert.deepEqual(
      sparse.hits.map((h) => [h.id, h.score]),
      [
        ["b", 4.5],
        ["a", 2],
      ],
    );
    assert.equal(sparse.plan.strategy, "sparse");
    assert.deepEqual(sparse.plan.sparse, { vector: "terms", terms: 2, postings: 3, read: 3, scored: 2 });
    const hybrid = await docs.query({
      vector: { terms: { "7": 1 }, dense: [0, 1] },
      text: "pear",
      fusion: { method: "rrf", weights: { sparse: 2 } },
      explain: true,
    });
    assert.equal(hybrid.plan.strategy, "hybrid");
    assert.deepEqual(Object.keys(hybrid.hits[0].explain!).sort(), ["fusion", "sparse", "text", "vector"]);

    const bad = await s.call("POST", "/v1/collections/docs/upsert", {
      body: { records: [{ id: "c", vectors: { terms: { indices: [1, 1], values: [1, "x"] } } }] },
    });
    assert.equal(bad.status, 400, bad.text);
    assert.deepEqual(
      bad.json.problems.map((p: { path: string }) => p.path),
      ["records[0].vectors.terms.indices[1]", "records[0].vectors.terms.values[1]"],
    );
    const badQuery = await s.call("POST", "/v1/collections/docs/query", {
      body: { vector: { terms: { indices: [-4], values: [1] } } },
    });
    assert.equal(badQuery.status, 400, badQuery.text);
    assert.equal(badQuery.json.problems[0].path, "vector.terms.indices[0]");
    assert.equal(await docs.count(), 2);

    const openapi = await s.call("GET", "/openapi.json");
    const text = JSON.stringify(openapi.json);
    assert.match(text, /"sparse"/);
    assert.match(text, /A sparse vector: \{ indices, values \}/);
  } finally {
    await s.close();
  }
});

test("the MCP search tool takes a sparse query, alone or beside words", async () => {
  const s = await startTestServer();
  try {
    const docs = await s.db.createCollection("docs", SCHEMA);
    await docs.upsert([
      { id: "a", vectors: { terms: { "1": 1 } }, payload: { body: "tea leaves" } },
      { id: "b", vectors: { terms: { "1": 3, "2": 1 } }, payload: { body: "coffee beans" } },
    ]);
    const tools = new QuiverTools(s.db);
    const call = async (args: Record<string, unknown>) => {
      const r = await tools.call("search", args);
      const text = (r.content[0] as { text: string }).text;
      return { error: r.isError === true, body: r.isError ? text : JSON.parse(text) };
    };
    const alone = await call({ collection: "docs", sparse: { indices: [1], values: [1] } });
    assert.equal(alone.body.mode, "sparse");
    assert.deepEqual(
      alone.body.hits.map((h: { id: string }) => h.id),
      ["b", "a"],
    );
    const fused = await call({ collection: "docs", query: "tea", sparse: { "2": 1 } });
    // Words beside a sparse vector fuse BM25 with the sparse search: the mode is read off the plan.
    assert.equal(fused.body.mode, "hybrid");
    assert.deepEqual(fused.body.hits.map((h: { id: string }) => h.id).sort(), ["a", "b"]);
    const wrong = await call({ collection: "docs", sparse: { indices: [1], values: [1] }, sparseUsing: "dense" });
    assert.equal(wrong.error, true);
    assert.match(wrong.body, /^INVALID_ARGUMENT: .*sparseUsing/);
  } finally {
    await s.close();
  }
});
