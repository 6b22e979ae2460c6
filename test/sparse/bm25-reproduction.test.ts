/**
 * Sparse vectors holding Quiver's own BM25 term weights reproduce Quiver's BM25 ranking on a shared
 * IR collection (CISI: 1,460 documents, 112 queries): for every query the same top 10 with the
 * same scores within float tolerance (the weights are stored as float32). The other collections
 * (Cranfield, SciFact) are checked by `npm run bench -- sparse`.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { irDatabase, loadIrCollection } from "../../src/cli/ir.js";
import { defaultTextPlugins } from "../../src/index.js";
import { DEFAULT_BM25 } from "../../src/core/index/bm25/text-index.js";
import { bm25AsSparse, rankingDifference } from "../support/bm25-sparse.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
// The shared IR collections sit beside the project (../shared/data/ir, as test/eval/ir.test.ts
// expects); QUIVER_IR_DATA points elsewhere, e.g. from a worktree.
const DATA = join(process.env.QUIVER_IR_DATA ?? join(ROOT, "..", "shared", "data", "ir"), "cisi");
const skip = existsSync(join(DATA, "corpus.jsonl"))
  ? false
  : `IR data not found at ${DATA} (set QUIVER_IR_DATA): the BM25 reproduction is NOT checked`;

test("sparse BM25 weights reproduce the BM25 ranking on CISI (top 10, scores within 1e-5)", { skip }, async () => {
  const data = loadIrCollection(DATA);
  const plugins = defaultTextPlugins;
  const spec = {};
  const db = await irDatabase();
  try {
    const text = await db.createCollection("bm25", { vectors: {}, text: { text: spec } });
    const sparse = await db.createCollection("sparse", { vectors: { bm25: { kind: "sparse" } } });
    const encoded = bm25AsSparse(
      data.docs.map((d) => d.text),
      "text",
      spec,
      DEFAULT_BM25,
      plugins,
    );
    await text.upsert(data.docs.map((d) => ({ id: d.id, payload: { text: d.text } })));
    await sparse.upsert(data.docs.map((d, i) => ({ id: d.id, vectors: { bm25: encoded.docs[i] } })));
    let compared = 0;
    for (const q of data.queries) {
      const want = await text.query({ text: q.text, limit: 10, withPayload: false });
      const got = await sparse.query({ vector: { bm25: encoded.query(q.text) }, limit: 10, withPayload: false });
      const diff = rankingDifference(want.hits, got.hits, 1e-5);
      assert.equal(diff, null, `query ${q.id}: ${diff}`);
      compared += want.hits.length;
    }
    assert.equal(data.queries.length, 112);
    assert.ok(compared > 1000, `compared ${compared} hits`);
  } finally {
    await db.close();
  }
});
