/**
 * Approximate search through the database: HNSW-backed vectors answer with high recall against
 * the exact scan, switch on automatically past the size threshold, stay correct under deletes and
 * replacements, and filtered queries return k hits whenever k records match.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { open, type Collection } from "../../src/index.js";
import { rng } from "../support/brute.js";

/** Clustered data, like real embeddings: 40 centroids, points scattered around them. */
function clustered(seed: number, n: number, dim: number): number[][] {
  const r = rng(seed);
  const centroids = Array.from({ length: 40 }, () => Array.from({ length: dim }, () => r() * 2 - 1));
  return Array.from({ length: n }, () => {
    const c = centroids[Math.floor(r() * centroids.length)];
    return c.map((x) => x + (r() - 0.5) * 0.3);
  });
}

async function recallAt10(
  c: Collection,
  queries: number[][],
  filter?: Record<string, unknown>,
): Promise<{ recall: number; minHits: number }> {
  let found = 0;
  let total = 0;
  let minHits = Infinity;
  for (const q of queries) {
    const approx = (await c.query({ vector: q, limit: 10, filter, withPayload: false })).hits.map((h) => h.id);
    const exact = new Set(
      (await c.query({ vector: q, limit: 10, filter, withPayload: false, exact: true })).hits.map((h) => h.id),
    );
    found += approx.filter((id) => exact.has(id)).length;
    total += exact.size;
    minHits = Math.min(minHits, approx.length);
  }
  return { recall: found / total, minHits };
}

test("an hnsw vector: recall@10 >= 0.95 against exact, k hits at every selectivity, correct after deletes", async () => {
  const db = await open();
  const dim = 24;
  const c = await db.createCollection("ann", {
    vectors: { v: { dim, metric: "l2", index: { type: "hnsw", m: 16, efConstruction: 100 } } },
    indexes: { bucket: "number" },
  });
  // Records, replacements and queries all come from one distribution, as real embeddings do.
  const all = clustered(1, 8040, dim);
  const data = all.slice(0, 6000);
  for (let i = 0; i < data.length; i += 1000) {
    await c.upsert(
      data.slice(i, i + 1000).map((vector, j) => ({ id: `p${i + j}`, vector, payload: { bucket: (i + j) % 1000 } })),
    );
  }
  const queries = all.slice(8000);
  const { hits, plan } = await c.query({ vector: queries[0], limit: 10 });
  assert.equal(plan.strategy, "hnsw");
  assert.ok(
    plan.ann && plan.ann.visited > 0 && plan.ann.visited < 6000,
    `a graph search scores a fraction of the records (${plan.ann?.visited})`,
  );
  assert.equal(hits.length, 10);
  const plain = await recallAt10(c, queries);
  assert.ok(plain.recall >= 0.95, `recall@10 ${plain.recall}`);

  // Selectivity 50%, 10%, 1%, 0.1% (bucket values are spread evenly over 1000).
  for (const below of [500, 100, 10, 1]) {
    const filter = { bucket: { $lt: below } };
    const r = await recallAt10(c, queries.slice(0, 15), filter);
    assert.ok(r.recall >= 0.95, `selectivity ${below / 1000}: recall ${r.recall}`);
    assert.equal(r.minHits, Math.min(10, below * 6), `selectivity ${below / 1000}: k hits whenever k match`);
  }

  // Delete a third and replace another third: no deleted id comes back, recall holds.
  const deleted = new Set<string>();
  for (let i = 0; i < 6000; i += 3) deleted.add(`p${i}`);
  await c.delete([...deleted].slice(0, 1000));
  await c.delete([...deleted].slice(1000));
  const moved = all.slice(6000, 8000);
  await c.upsert(moved.map((vector, j) => ({ id: `p${3 * j + 1}`, vector, payload: { bucket: (3 * j + 1) % 1000 } })));
  for (const q of queries.slice(0, 10)) {
    const ids = (await c.query({ vector: q, limit: 20 })).hits.map((h) => h.id);
    assert.ok(
      ids.every((id) => typeof id === "string" && !deleted.has(id)),
      `deleted ids never come back: ${ids.join(" ")}`,
    );
  }
  const after = await recallAt10(c, queries);
  assert.ok(after.recall >= 0.95, `recall@10 after deletes and replacements ${after.recall}`);
  await db.close();
});

test("auto: exact below 10,000 records, a graph once the collection grows past it", async () => {
  const db = await open();
  const c = await db.createCollection("grow", {
    vectors: { v: { dim: 8, metric: "l2", index: { m: 16, efConstruction: 100 } } },
  });
  const data = clustered(4, 10_520, 8);
  await c.upsert(data.slice(0, 9000).map((vector, i) => ({ id: String(i), vector })));
  assert.equal((await c.query({ vector: data[0] })).plan.strategy, "exact-scan");
  await c.upsert(data.slice(9000, 10_500).map((vector, i) => ({ id: String(9000 + i), vector })));
  const { plan } = await c.query({ vector: data[0] });
  assert.equal(plan.strategy, "hnsw");
  assert.equal(
    (await c.query({ vector: data[0], exact: true })).plan.strategy,
    "exact-scan",
    "exact: true forces the scan",
  );
  const r = await recallAt10(c, data.slice(10_500));
  assert.ok(r.recall >= 0.9, `recall@10 ${r.recall}`);
  await db.close();
});

test("flat forces exact search at any size; bad index options are rejected with paths", async () => {
  const db = await open();
  const c = await db.createCollection("flat", { vectors: { v: { dim: 4, metric: "dot", index: { type: "flat" } } } });
  await c.upsert([{ id: "a", vector: [1, 2, 3, 4] }]);
  assert.equal((await c.query({ vector: [1, 0, 0, 0] })).plan.strategy, "exact-scan");
  await assert.rejects(
    db.createCollection("bad", {
      vectors: { v: { dim: 4, metric: "dot", index: { type: "ivf", m: 1, quantization: "pq" } } },
    } as never),
    (e: { problems: { path: string }[] }) =>
      ["schema.vectors.v.index.type", "schema.vectors.v.index.m", "schema.vectors.v.index.quantization"].every((p) =>
        e.problems.some((q) => q.path === p),
      ),
  );
  await assert.rejects(
    c.query({ vector: [1, 0, 0, 0], ef: 0 }),
    (e: { problems: { path: string }[] }) => e.problems[0].path === "ef",
  );
  await db.close();
});

test("graphs persist: reopening restores them from the index file (no rebuild), with identical results", async () => {
  const { mkdtemp, rm, readdir } = await import("node:fs/promises");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const path = await mkdtemp(join(tmpdir(), "quiver-ann-"));
  const all = clustered(6, 3040, 16);
  let db = await open(path, { walMaxBytes: 64 * 1024 });
  let c = await db.createCollection("g", {
    vectors: { v: { dim: 16, metric: "l2", index: { type: "hnsw", efConstruction: 80 } } },
  });
  for (let i = 0; i < 3000; i += 500)
    await c.upsert(all.slice(i, i + 500).map((vector, j) => ({ id: `r${i + j}`, vector })));
  await c.delete(Array.from({ length: 300 }, (_, i) => `r${i * 7}`));
  // A checkpoint repairs the graph around the deletions (as serializing requires), so the graph
  // measured below is the one written.
  await db.checkpoint();
  const queries = all.slice(3000);
  const before = [];
  for (const q of queries)
    before.push((await c.query({ vector: q, limit: 10, ef: 16 })).hits.map((h) => `${h.id}:${h.score}`));
  await db.close();
  assert.ok(
    (await readdir(path)).some((f) => f.endsWith(".qidx")),
    "an index file was written",
  );

  db = await open(path);
  assert.equal(db.recovery.graphsRestored, 1);
  assert.deepEqual(db.recovery.warnings, []);
  c = await db.collection("g");
  const after = [];
  for (const q of queries)
    after.push((await c.query({ vector: q, limit: 10, ef: 16 })).hits.map((h) => `${h.id}:${h.score}`));
  assert.deepEqual(
    after,
    before,
    "the same graph answers the same (a low ef makes any difference in the graph visible)",
  );
  // And it keeps working: writes after reopening are searchable.
  await c.upsert([{ id: "new", vector: queries[0] }]);
  assert.equal((await c.query({ vector: queries[0], limit: 1 })).hits[0].id, "new");
  await db.close();
  await rm(path, { recursive: true, force: true });
});

test("a damaged index file is reported and the graph rebuilt from the records; nothing is lost", async () => {
  const { mkdtemp, rm, readdir, readFile, writeFile } = await import("node:fs/promises");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const path = await mkdtemp(join(tmpdir(), "quiver-ann-bad-"));
  const all = clustered(7, 1010, 8);
  let db = await open(path);
  let c = await db.createCollection("g", {
    vectors: { v: { dim: 8, metric: "l2", index: { type: "hnsw", efConstruction: 40 } } },
  });
  await c.upsert(all.slice(0, 1000).map((vector, i) => ({ id: `r${i}`, vector })));
  await db.close();
  const idx = (await readdir(path)).find((f) => f.endsWith(".qidx"))!;
  const bytes = await readFile(join(path, idx));
  bytes[bytes.length >> 1] ^= 0xff; // flip a byte in the middle: the checksum must catch it
  await writeFile(join(path, idx), bytes);

  const warnings: string[] = [];
  db = await open(path, { onWarning: (w) => warnings.push(w) });
  assert.equal(db.recovery.graphsRestored, 0);
  assert.ok(
    warnings.some((w) => w.includes(idx) && /checksum/.test(w)),
    warnings.join("\n"),
  );
  c = await db.collection("g");
  assert.equal(await c.count(), 1000);
  const r = await recallAt10(c, all.slice(1000));
  assert.ok(r.recall >= 0.95, `the rebuilt graph answers (recall ${r.recall})`);
  assert.equal((await c.query({ vector: all[1000] })).plan.strategy, "hnsw");
  await db.close();
  await rm(path, { recursive: true, force: true });
});
