/**
 * Named sparse vectors through the embedded API: both input forms, validation before the WAL
 * (every problem with its path, nothing written), exact top k against brute force with filters,
 * replacements and deletes, hybrid queries (sparse with dense, sparse with BM25) with every fusion
 * method and `explain`, and durability through WAL replay, checkpoints and compaction.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { open, QuiverError, type Collection } from "../../src/index.js";
import { rng } from "../support/brute.js";

const SCHEMA = {
  vectors: { dense: { dim: 4, metric: "dot" as const }, terms: { kind: "sparse" as const } },
  indexes: { group: "number" as const },
  text: { body: {} },
};

interface Model {
  terms: Map<number, number>;
  group: number;
}

function randomTerms(r: () => number): Map<number, number> {
  const m = new Map<number, number>();
  const n = 1 + Math.floor(r() * 8);
  // Squared draws: low indices are common, high ones rare, as with real vocabularies.
  for (let i = 0; i < n; i++) m.set(Math.floor(r() * r() * 50), Math.fround(0.05 + r() * 3));
  return m;
}

function toInput(m: Map<number, number>, asMap: boolean) {
  if (asMap) return Object.fromEntries([...m].map(([i, v]) => [String(i), v]));
  return { indices: [...m.keys()], values: [...m.values()] };
}

/** Brute force over the model: dot products in ascending index order (as the index computes them). */
function brute(model: Map<string, Model>, query: Map<number, number>, k: number, accept?: (m: Model) => boolean) {
  const q = [...query].sort((a, b) => a[0] - b[0]);
  return [...model]
    .filter(([, m]) => (!accept || accept(m)) && q.some(([i, w]) => w !== 0 && m.terms.has(i)))
    .map(([id, m]) => {
      let s = 0;
      for (const [i, w] of q) if (m.terms.has(i)) s += Math.fround(w) * m.terms.get(i)!;
      return { id, score: s };
    })
    .sort((a, b) => b.score - a.score || 0)
    .slice(0, k);
}

async function same(c: Collection, model: Map<string, Model>, query: Map<number, number>, k: number, group?: number) {
  const res = await c.query({
    vector: { terms: toInput(query, false) },
    limit: k,
    filter: group === undefined ? undefined : { group },
  });
  const want = brute(model, query, k, group === undefined ? undefined : (m) => m.group === group);
  assert.equal(res.plan.strategy, "sparse");
  assert.deepEqual(
    res.hits.map((h) => h.score),
    want.map((h) => h.score),
  );
  // Ids must match wherever the score does not tie with a neighbour.
  res.hits.forEach((h, i) => {
    if (want.filter((w) => w.score === h.score).length === 1) assert.equal(h.id, want[i].id);
  });
}

test("sparse search returns the exact top k under upserts, replacements, deletes and filters", async () => {
  const db = await open();
  const c = await db.createCollection("docs", SCHEMA);
  const r = rng(7);
  const model = new Map<string, Model>();
  for (let round = 0; round < 8; round++) {
    const batch = Array.from({ length: 60 }, (_, j) => {
      const id = `d${Math.floor(r() * 300)}`;
      return { id, terms: randomTerms(r), group: j % 3, asMap: r() < 0.5 };
    });
    const unique = [...new Map(batch.map((b) => [b.id, b])).values()];
    await c.upsert(
      unique.map((b) => ({
        id: b.id,
        vectors: { terms: toInput(b.terms, b.asMap) },
        payload: { group: b.group },
      })),
    );
    for (const b of unique) model.set(b.id, { terms: b.terms, group: b.group });
    const gone = [...model.keys()].filter(() => r() < 0.1);
    await c.delete(gone);
    for (const id of gone) model.delete(id);
    for (let q = 0; q < 5; q++) {
      const query = randomTerms(r);
      await same(c, model, query, 1 + Math.floor(r() * 12));
      await same(c, model, query, 5, q % 3);
    }
  }
  // A record upserted without its sparse vector leaves the index.
  const someone = [...model.keys()][0];
  await c.upsert([{ id: someone, vectors: { dense: [1, 0, 0, 0] }, payload: { group: 0 } }]);
  model.delete(someone);
  await same(
    c,
    model,
    new Map([
      [0, 1],
      [1, 1],
      [2, 1],
    ]),
    50,
  );
  // Stored sorted, returned as { indices, values }.
  await c.upsert([{ id: "x", vectors: { terms: { indices: [9, 2], values: [0.5, 1.5] } } }]);
  const [x] = await c.get(["x"], { withVectors: true });
  assert.deepEqual(x.vectors, { terms: { indices: [2, 9], values: [1.5, 0.5] } });
  const stats = (await db.stats()).collections[0].vectors.find((v) => v.name === "terms")!;
  assert.equal(stats.index, "inverted");
  assert.equal(stats.count, model.size + 1);
  await db.close();
});

test("invalid sparse input is refused before the WAL, every problem with its path", async () => {
  const db = await open();
  const c = await db.createCollection("docs", SCHEMA);
  const err = await c
    .upsert([
      { id: "a", vectors: { terms: { indices: [1, 1], values: [1, 2] } } },
      { id: "b", vectors: { terms: { indices: [-1, 0.5], values: [Number.NaN, 1] } } },
      { id: "c", vectors: { terms: { "3": 1, x: 2 } } },
      { id: "d", vectors: { terms: [1, 2, 3] } },
      { id: "ok", vectors: { terms: { indices: [1], values: [1] } } },
    ])
    .catch((e: QuiverError) => e);
  assert.ok(err instanceof QuiverError);
  assert.equal(err.code, "INVALID_ARGUMENT");
  assert.deepEqual(
    err.problems.map((p) => p.path),
    [
      "records[0].vectors.terms.indices[1]",
      "records[1].vectors.terms.indices[0]",
      "records[1].vectors.terms.indices[1]",
      "records[1].vectors.terms.values[0]",
      "records[2].vectors.terms.x",
      "records[3].vectors.terms",
    ],
  );
  assert.equal(await c.count(), 0, "nothing of the batch was written");
  const big = { indices: Array.from({ length: 17 }, (_, i) => i), values: Array(17).fill(1) };
  const small = await open(undefined, { limits: { maxSparseNonZeros: 16 } });
  const s = await small.createCollection("docs", SCHEMA);
  assert.equal(
    await s.upsert([{ id: "a", vectors: { terms: big } }]).catch((e: QuiverError) => e.code),
    "LIMIT_EXCEEDED",
  );
  assert.equal(await s.query({ vector: { terms: big } }).catch((e: QuiverError) => e.code), "LIMIT_EXCEEDED");
  // Queries: two sparse vectors, an array for a sparse vector, a bad entry.
  const two = await db.createCollection("two", { vectors: { a: { kind: "sparse" }, b: { kind: "sparse" } } });
  const q = await two.query({ vector: { a: { "1": 1 }, b: { "1": 1 } } }).catch((e: QuiverError) => e);
  assert.deepEqual(
    (q as QuiverError).problems.map((p) => p.path),
    ["vector.b"],
  );
  const one = await db.createCollection("one", { vectors: { t: { kind: "sparse" } } });
  assert.match(String(await one.query({ vector: [1, 2] }).catch((e: QuiverError) => e.message)), /sparse vector/);
  const bad = await c.query({ vector: { terms: { indices: [1], values: [Infinity] } } }).catch((e: QuiverError) => e);
  assert.deepEqual(
    (bad as QuiverError).problems.map((p) => p.path),
    ["vector.terms.values[0]"],
  );
  // Schemas: a sparse vector takes no dense options, and kind is dense or sparse.
  const schemaErr = await db
    .createCollection("bad", {
      vectors: { a: { kind: "sparse", dim: 3 }, b: { kind: "other", dim: 2, metric: "dot" } },
    } as never)
    .catch((e: QuiverError) => e);
  assert.deepEqual(
    (schemaErr as QuiverError).problems.map((p) => p.path),
    ["schema.vectors.a.dim", "schema.vectors.b.kind"],
  );
  await small.close();
  await db.close();
});

test("hybrid queries fuse a sparse vector with a dense one or with BM25, with explanations", async () => {
  const db = await open();
  const c = await db.createCollection("docs", SCHEMA);
  const words = ["apple", "pear", "plum", "fig", "kiwi", "lime"];
  await c.upsert(
    Array.from({ length: 40 }, (_, i) => ({
      id: `d${i}`,
      vectors: {
        dense: [Math.cos(i), Math.sin(i), i / 40, 1],
        terms: { indices: [i % 6, 6 + (i % 5)], values: [1 + (i % 4), 0.5] },
      },
      payload: { body: `${words[i % 6]} ${words[(i * 7) % 6]}`, group: i % 2 },
    })),
  );
  const sparse = { indices: [2, 7], values: [1, 2] };
  for (const method of ["zscore", "minmax", "rrf"] as const) {
    const both = await c.query({
      vector: { dense: [1, 0, 0, 0], terms: sparse },
      fusion: { method, weights: { vector: 0.5, sparse: 2 } },
      explain: true,
      limit: 5,
    });
    assert.equal(both.plan.strategy, "hybrid");
    assert.equal(both.plan.vector, "dense");
    assert.equal(both.plan.sparse?.vector, "terms");
    for (const h of both.hits) {
      assert.ok(h.explain!.vector !== undefined && h.explain!.sparse !== undefined && h.explain!.text === undefined);
      assert.ok(h.explain!.vector !== null || h.explain!.sparse !== null);
    }
    // The top hit's own sparse score is the dot product.
    const top = (await c.get([both.hits[0].id], { withVectors: true }))[0].vectors!.terms as {
      indices: number[];
      values: number[];
    };
    const dot = top.indices.reduce((s, ix, i) => s + (ix === 2 ? 1 : ix === 7 ? 2 : 0) * top.values[i], 0);
    if (both.hits[0].explain!.sparse) assert.ok(Math.abs(both.hits[0].explain!.sparse.score - dot) < 1e-6);
  }
  const withText = await c.query({
    vector: { terms: sparse },
    text: "plum",
    explain: true,
    filter: { group: 0 },
    limit: 40,
  });
  assert.equal(withText.plan.strategy, "hybrid");
  assert.deepEqual(withText.plan.text?.fields, ["body"]);
  assert.ok(withText.hits.length > 0);
  for (const h of withText.hits) {
    assert.equal(Number(h.id.slice(1)) % 2, 0, "the filter applies to every source");
    assert.ok("text" in h.explain! && "sparse" in h.explain! && !("vector" in h.explain!));
  }
  // A zero weight leaves the ranking to the other source.
  const onlySparse = await c.query({
    vector: { terms: sparse },
    text: "plum",
    fusion: { weights: { text: 0 } },
    limit: 3,
  });
  const plain = await c.query({ vector: { terms: sparse }, limit: 3 });
  assert.deepEqual(
    onlySparse.hits.map((h) => h.id),
    plain.hits.map((h) => h.id),
  );
  await db.close();
});

test("sparse vectors survive WAL replay, checkpoints and compaction", async () => {
  const path = await mkdtemp(join(tmpdir(), "quiver-sparse-"));
  try {
    const r = rng(3);
    const model = new Map<string, Model>();
    let db = await open(path, { walMaxBytes: 16 * 1024, maxSegments: 2 });
    let c = await db.createCollection("docs", SCHEMA);
    for (let round = 0; round < 20; round++) {
      const batch = Array.from({ length: 15 }, () => ({ id: `d${Math.floor(r() * 120)}`, terms: randomTerms(r) }));
      const unique = [...new Map(batch.map((b) => [b.id, b])).values()];
      await c.upsert(
        unique.map((b) => ({ id: b.id, vectors: { terms: toInput(b.terms, false) }, payload: { group: 0 } })),
      );
      for (const b of unique) model.set(b.id, { terms: b.terms, group: 0 });
      const gone = `d${Math.floor(r() * 120)}`;
      await c.delete([gone]);
      model.delete(gone);
    }
    // Automatic checkpoints write in the background (off the write path): wait, boundedly, for one to land.
    let segments = 0;
    for (let i = 0; i < 100 && segments === 0; i++) {
      segments = (await db.stats()).collections[0].segments;
      if (segments === 0) await new Promise((done) => setTimeout(done, 50));
    }
    assert.ok(segments > 0, "automatic checkpoints wrote segments");
    const query = new Map([
      [0, 1],
      [1, 0.5],
      [3, 2],
      [10, 1],
    ]);
    await same(c, model, query, 20);
    // Reopen without a final checkpoint too: a copy of the directory would be needed for a kill,
    // so the WAL tail is exercised by the writes after the last automatic checkpoint.
    await db.close();
    db = await open(path);
    c = await db.collection("docs");
    assert.equal(await c.count(), model.size);
    await same(c, model, query, 20);
    await db.close();
  } finally {
    await rm(path, { recursive: true, force: true });
  }
});
