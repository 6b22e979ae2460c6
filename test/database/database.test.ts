/**
 * The embedded database end to end on a memory directory: collections, record operations, exact
 * query against a brute-force oracle (with and without filters, every metric), and validation.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { open, type QuiverError, type Collection, type Database } from "../../src/index.js";
import { bruteTopK, randomVector, rng, similarity, type Metric } from "../support/brute.js";

function assertTopK(
  hits: { id: string; score: number }[],
  expected: { id: string; score: number }[],
  truth: Map<string, number[]>,
  metric: Metric,
  q: number[],
): void {
  assert.equal(hits.length, expected.length, "number of hits");
  for (let i = 0; i < hits.length; i++) {
    // Float32 storage vs float64 oracle: compare scores, and check each hit's score is its own.
    assert.ok(
      Math.abs(hits[i].score - expected[i].score) < 1e-4 * Math.max(1, Math.abs(expected[i].score)),
      `rank ${i}: ${hits[i].score} vs ${expected[i].score}`,
    );
    const own = similarity(metric, truth.get(hits[i].id)!, q);
    assert.ok(
      Math.abs(own - hits[i].score) < 1e-4 * Math.max(1, Math.abs(own)),
      `hit ${hits[i].id} reports ${hits[i].score}, true ${own}`,
    );
  }
}

async function fill(
  db: Database,
  metric: Metric,
  n: number,
  dim: number,
  seed: number,
): Promise<{ c: Collection; truth: Map<string, number[]>; payloads: Map<string, Record<string, unknown>> }> {
  const c = await db.createCollection(`c_${metric}`, {
    vectors: { v: { dim, metric } },
    indexes: { lang: "keyword", year: "number" },
  });
  const r = rng(seed);
  const truth = new Map<string, number[]>();
  const payloads = new Map<string, Record<string, unknown>>();
  const batch = [];
  for (let i = 0; i < n; i++) {
    const id = `r${i}`;
    const vector = randomVector(r, dim);
    const payload = {
      lang: ["en", "fr", "de", "ja"][i % 4],
      year: 2000 + (i % 25),
      tags: i % 3 === 0 ? ["x", "y"] : ["z"],
      meta: { rank: i },
    };
    truth.set(id, vector);
    payloads.set(id, payload);
    batch.push({ id, vector, payload });
  }
  await c.upsert(batch);
  return { c, truth, payloads };
}

for (const metric of ["cosine", "dot", "l2"] as const) {
  test(`exact query equals brute force (${metric}, odd dimension)`, async () => {
    const db = await open();
    const dim = 37;
    const { c, truth } = await fill(db, metric, 1500, dim, 7);
    const r = rng(99);
    for (let t = 0; t < 20; t++) {
      const q = randomVector(r, dim);
      const { hits, plan } = await c.query({ vector: q, limit: 10 });
      assert.equal(plan.strategy, "exact-scan");
      const expected = bruteTopK(
        metric,
        [...truth].map(([id, vector]) => ({ id, vector })),
        q,
        10,
      );
      assertTopK(hits, expected, truth, metric, q);
    }
    await db.close();
  });
}

test("filtered exact query returns exactly the top-k among matching records", async () => {
  const db = await open();
  const { c, truth, payloads } = await fill(db, "l2", 2000, 16, 3);
  const r = rng(5);
  const filters: [Record<string, unknown>, (p: Record<string, unknown>) => boolean][] = [
    [{ lang: "en" }, (p) => p.lang === "en"],
    [{ lang: "en", year: { $gte: 2020 } }, (p) => p.lang === "en" && (p.year as number) >= 2020],
    [{ tags: "x" }, (p) => (p.tags as string[]).includes("x")],
    [
      { $or: [{ lang: "ja" }, { "meta.rank": { $lt: 10 } }] },
      (p) => p.lang === "ja" || (p.meta as { rank: number }).rank < 10,
    ],
    [{ year: 2003, lang: { $ne: "fr" } }, (p) => p.year === 2003 && p.lang !== "fr"],
    [{ "meta.rank": { $in: [1, 2, 3, 1999] } }, (p) => [1, 2, 3, 1999].includes((p.meta as { rank: number }).rank)],
  ];
  for (const [filter, pred] of filters) {
    const q = randomVector(r, 16);
    const { hits, plan } = await c.query({ vector: q, filter, limit: 25 });
    const matching = [...truth].filter(([id]) => pred(payloads.get(id)!)).map(([id, vector]) => ({ id, vector }));
    assert.equal(plan.candidates, matching.length, `candidates for ${JSON.stringify(filter)}`);
    assertTopK(hits, bruteTopK("l2", matching, q, 25), truth, "l2", q);
    for (const h of hits) assert.ok(pred(h.payload!), `hit ${h.id} must match ${JSON.stringify(filter)}`);
    assert.equal(await c.count(filter), matching.length);
  }
  const { plan } = await c.query({ vector: randomVector(r, 16), filter: { lang: "en" } });
  assert.equal(plan.usedIndexes, true, "a keyword index narrows an equality filter");
  await db.close();
});

test("limit and offset page through the exact ranking", async () => {
  const db = await open();
  const { c } = await fill(db, "cosine", 300, 8, 11);
  const q = randomVector(rng(1), 8);
  const all = (await c.query({ vector: q, limit: 30 })).hits.map((h) => h.id);
  const page2 = (await c.query({ vector: q, limit: 10, offset: 10 })).hits.map((h) => h.id);
  assert.deepEqual(page2, all.slice(10, 20));
  await db.close();
});

test("upsert replaces whole records; get, delete, count, deleteByFilter", async () => {
  const db = await open();
  const c = await db.createCollection("docs", {
    vectors: { text: { dim: 3, metric: "cosine" }, image: { dim: 2, metric: "l2" } },
  });
  await c.upsert([
    { id: "a", vectors: { text: [1, 0, 0], image: [0, 1] }, payload: { k: 1 } },
    { id: "b", vectors: { text: [0, 1, 0] }, payload: { k: 2 } },
  ]);
  assert.equal(await c.count(), 2);
  await c.upsert([{ id: "a", vectors: { text: [0, 0, 2] }, payload: { k: 3 } }]);
  const [a] = await c.get(["a"], { withVectors: true });
  assert.deepEqual(a, { id: "a", payload: { k: 3 }, vectors: { text: [0, 0, 1] } });
  // "a" no longer has an image vector, so it cannot be an image hit.
  const img = await c.query({ vector: { image: [0, 1] } });
  assert.deepEqual(img.hits, []);
  assert.deepEqual(
    (await c.get(["zzz", "b"])).map((r) => r.id),
    ["b"],
  );
  assert.deepEqual(await c.delete(["b", "nope"]), { deleted: 1 });
  assert.equal(await c.count(), 1);
  await c.upsert([
    { id: "c", vectors: { text: [1, 1, 0] }, payload: { k: 9 } },
    { id: "d", vectors: { text: [1, 2, 0] }, payload: { k: 9 } },
  ]);
  assert.deepEqual(await c.deleteByFilter({ k: 9 }), { deleted: 2 });
  assert.deepEqual(
    (await c.scroll()).records.map((r) => r.id),
    ["a"],
  );
  await db.close();
});

test("returned payloads are copies: mutating them changes nothing stored", async () => {
  const db = await open();
  const c = await db.createCollection("p", { vectors: { v: { dim: 2, metric: "dot" } } });
  const payload = { nested: { x: 1 } };
  await c.upsert([{ id: "a", vector: [1, 2], payload }]);
  payload.nested.x = 2;
  const [got] = await c.get(["a"]);
  assert.deepEqual(got.payload, { nested: { x: 1 } });
  (got.payload!.nested as { x: number }).x = 3;
  assert.deepEqual((await c.get(["a"]))[0].payload, { nested: { x: 1 } });
  await db.close();
});

test("scroll visits every record once, in id order, across pages and concurrent writes", async () => {
  const db = await open();
  const c = await db.createCollection("s", { vectors: { v: { dim: 2, metric: "l2" } } });
  const ids = Array.from({ length: 250 }, (_, i) => `id-${String(i).padStart(4, "0")}`);
  await c.upsert(ids.map((id, i) => ({ id, vector: [i, 1], payload: { even: i % 2 === 0 } })));
  const seen: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await c.scroll({ cursor, limit: 40 });
    seen.push(...page.records.map((r) => r.id));
    cursor = page.nextCursor ?? undefined;
    if (pages++ === 1) await c.delete([ids[0]]); // already visited: must not disturb the rest
  } while (cursor);
  assert.deepEqual(seen, ids);
  const evens = [];
  cursor = undefined;
  do {
    const page = await c.scroll({ cursor, limit: 7, filter: { even: true } });
    evens.push(...page.records.map((r) => r.id));
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  assert.deepEqual(
    evens,
    ids.filter((_, i) => i % 2 === 0 && i !== 0),
  );
  await db.close();
});

test("collections: create, list, get, drop, and errors for misuse", async () => {
  const db = await open();
  await db.createCollection("one", { vectors: { v: { dim: 4, metric: "dot" } } });
  await assert.rejects(
    db.createCollection("one", { vectors: { v: { dim: 4, metric: "dot" } } }),
    (e: QuiverError) => e.code === "ALREADY_EXISTS",
  );
  const again = await db.createCollection("one", { vectors: { v: { dim: 4, metric: "dot" } } }, { ifNotExists: true });
  assert.equal(again.name, "one");
  await db.createCollection("two", { vectors: { v: { dim: 2, metric: "l2" } } });
  assert.deepEqual(
    (await db.listCollections()).map((c) => c.name),
    ["one", "two"],
  );
  const handle = await db.collection("two");
  assert.equal(await db.dropCollection("two"), true);
  assert.equal(await db.dropCollection("two"), false);
  await assert.rejects(handle.count(), (e: QuiverError) => e.code === "NOT_FOUND");
  await assert.rejects(db.collection("two"), (e: QuiverError) => e.code === "NOT_FOUND");
  await db.close();
  await assert.rejects(db.listCollections(), (e: QuiverError) => e.code === "CLOSED");
});

test("bad input is rejected with every problem and its path, and nothing is written", async () => {
  const db = await open();
  const c = await db.createCollection("v", { vectors: { text: { dim: 3, metric: "cosine" } } });
  const bad = async (records: unknown, code: string, ...paths: string[]) => {
    await assert.rejects(c.upsert(records as never), (e: QuiverError) => {
      assert.equal(e.code, code, e.message);
      for (const p of paths)
        assert.ok(
          e.problems.some((q) => q.path === p),
          `expected a problem at ${p}: ${e.message}`,
        );
      return true;
    });
  };
  await bad([{ id: "a", vector: [1, 2] }], "DIMENSION_MISMATCH", "records[0].vector");
  await bad([{ id: "a", vector: [1, NaN, 2] }], "INVALID_ARGUMENT", "records[0].vector[1]");
  await bad([{ id: "a", vector: [1, Infinity, 2] }], "INVALID_ARGUMENT", "records[0].vector[1]");
  await bad([{ id: "a", vector: [1e39, 0, 0] }], "INVALID_ARGUMENT", "records[0].vector[0]");
  await bad([{ id: "a", vector: [0, 0, 0] }], "INVALID_ARGUMENT", "records[0].vector");
  await bad([{ id: "a", vector: [] }], "DIMENSION_MISMATCH", "records[0].vector");
  await bad(
    [
      { id: "", vector: [1, 2, 3] },
      { id: 5, vector: [1, 2, 3] },
    ],
    "INVALID_ARGUMENT",
    "records[0].id",
    "records[1].id",
  );
  await bad([{ id: "a", vectors: { nope: [1, 2, 3] } }], "INVALID_ARGUMENT", "records[0].vectors.nope");
  await bad([{ id: "a", vector: [1, 2, 3], payload: { x: NaN } }], "INVALID_ARGUMENT", "records[0].payload.x");
  await bad([{ id: "a", vector: [1, 2, 3], payload: { f: () => 1 } }], "INVALID_ARGUMENT", "records[0].payload.f");
  await bad(
    [{ id: "a", vector: [1, 2, 3], payload: { big: "x".repeat(2 << 20) } }],
    "PAYLOAD_TOO_LARGE",
    "records[0].payload",
  );
  await bad(
    [
      { id: "a", vector: [1, 2, 3] },
      { id: "a", vector: [3, 2, 1] },
    ],
    "DUPLICATE_ID",
    "records[1].id",
  );
  await bad([{ id: "a", vector: [1, 2, 3], extra: 1 }], "INVALID_ARGUMENT", "records[0].extra");
  await bad("nope", "INVALID_ARGUMENT", "records");
  assert.equal(await c.count(), 0, "nothing invalid was stored");
  await assert.rejects(c.query({ vector: [1, 2] }), (e: QuiverError) => e.code === "DIMENSION_MISMATCH");
  await assert.rejects(c.query({ vector: [1, 2, 3], limit: 0 }), (e: QuiverError) => e.problems[0].path === "limit");
  await assert.rejects(
    c.query({ vector: [1, 2, 3], filter: { x: { $bogus: 1 }, y: { $in: [] } } }),
    (e: QuiverError) => e.code === "INVALID_FILTER" && e.problems.length >= 2,
  );
  await assert.rejects(
    db.createCollection("bad name!", { vectors: { v: { dim: 2, metric: "l2" } } }),
    (e: QuiverError) => e.problems[0].path === "name",
  );
  await assert.rejects(
    db.createCollection("x", { vectors: { v: { dim: 0, metric: "hamming" } } } as never),
    (e: QuiverError) => e.problems.length === 2,
  );
  await db.close();
});
