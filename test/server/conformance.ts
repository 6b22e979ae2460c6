/**
 * One conformance suite for every implementation of the Database interface (src/api/types.ts):
 * the embedded database and the HTTP client against a real server run the very same tests, so
 * results, errors (code and path) and guarantees cannot drift apart.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { DatabaseApi } from "../../src/api/types.js";
import { QuiverError } from "../../src/core/errors/errors.js";
import { bruteTopK, randomVector, rng, similarity } from "../support/brute.js";

export interface Subject {
  db: DatabaseApi;
  teardown(): Promise<void>;
}

async function rejectsWith(p: Promise<unknown>, code: string, path?: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof QuiverError, `expected a QuiverError, got ${String(e)}`);
    assert.equal(e.code, code, `code (message: ${e.message})`);
    if (path !== undefined) assert.equal(e.problems[0]?.path, path, `path (message: ${e.message})`);
    return true;
  });
}

/** Runs the suite; `label` names the implementation in test titles. */
export function conformance(label: string, setup: () => Promise<Subject>): void {
  const t = (name: string, fn: (db: DatabaseApi) => Promise<void>) =>
    test(`[${label}] ${name}`, async () => {
      const s = await setup();
      try {
        await fn(s.db);
      } finally {
        await s.teardown();
      }
    });

  t("collections: create, list, get, drop, and their errors", async (db) => {
    const c = await db.createCollection("docs", {
      vectors: { text: { dim: 4, metric: "cosine" } },
      indexes: { lang: "keyword" },
    });
    assert.equal(c.name, "docs");
    assert.deepEqual(c.schema, { vectors: { text: { dim: 4, metric: "cosine" } }, indexes: { lang: "keyword" } });
    await rejectsWith(
      db.createCollection("docs", { vectors: { text: { dim: 4, metric: "cosine" } } }),
      "ALREADY_EXISTS",
    );
    const again = await db.createCollection(
      "docs",
      { vectors: { text: { dim: 4, metric: "cosine" } } },
      { ifNotExists: true },
    );
    assert.equal(again.name, "docs");
    await db.createCollection("alpha", { vectors: { v: { dim: 2, metric: "l2" } } });
    assert.deepEqual(
      (await db.listCollections()).map((x) => [x.name, x.count]),
      [
        ["alpha", 0],
        ["docs", 0],
      ],
    );
    assert.equal((await db.collection("docs")).schema.vectors.text.dim, 4);
    await rejectsWith(db.collection("missing"), "NOT_FOUND");
    await rejectsWith(
      db.createCollection("bad name!", { vectors: { v: { dim: 2, metric: "l2" } } }),
      "INVALID_ARGUMENT",
      "name",
    );
    await rejectsWith(
      db.createCollection("ok", { vectors: { v: { dim: 0, metric: "l2" } } }),
      "INVALID_ARGUMENT",
      "schema.vectors.v.dim",
    );
    await rejectsWith(
      db.createCollection("ok", { vectors: { v: { dim: 2, metric: "hamming" as never } } }),
      "INVALID_ARGUMENT",
      "schema.vectors.v.metric",
    );
    assert.equal(await db.dropCollection("alpha"), true);
    assert.equal(await db.dropCollection("alpha"), false);
    assert.deepEqual(
      (await db.listCollections()).map((x) => x.name),
      ["docs"],
    );
    const stats = await db.stats();
    assert.deepEqual(
      stats.collections.map((x) => x.name),
      ["docs"],
    );
    await db.checkpoint();
  });

  t("upsert and get: order, missing ids, payloads, vectors, whole-record replace, typed arrays", async (db) => {
    const c = await db.createCollection("items", { vectors: { v: { dim: 3, metric: "l2" } } });
    assert.deepEqual(
      await c.upsert([
        { id: "a", vector: [1, 2, 3], payload: { n: 1, tags: ["x"], nested: { deep: [1, { k: null }] } } },
        { id: "b", vectors: { v: new Float32Array([0.5, -0.25, 4]) }, payload: { n: 2 } },
        { id: "é✓", vector: [0, 0, 1] },
      ]),
      { upserted: 3 },
    );
    assert.deepEqual(await c.get(["b", "zzz", "a"]), [
      { id: "b", payload: { n: 2 } },
      { id: "a", payload: { n: 1, tags: ["x"], nested: { deep: [1, { k: null }] } } },
    ]);
    assert.deepEqual(await c.get(["b"], { withPayload: false, withVectors: true }), [
      { id: "b", vectors: { v: [0.5, -0.25, 4] } },
    ]);
    assert.deepEqual(await c.get(["é✓"]), [{ id: "é✓", payload: {} }]);
    await c.upsert([{ id: "a", vector: [3, 2, 1] }]);
    assert.deepEqual(await c.get(["a"], { withVectors: true }), [{ id: "a", payload: {}, vectors: { v: [3, 2, 1] } }]);
    assert.equal(await c.count(), 3);
    assert.deepEqual(await c.upsert([]), { upserted: 0 });
  });

  t("cosine vectors are stored normalised and returned that way", async (db) => {
    const c = await db.createCollection("cos", { vectors: { v: { dim: 2, metric: "cosine" } } });
    await c.upsert([{ id: "x", vector: [3, 4] }]);
    const [r] = await c.get(["x"], { withVectors: true });
    const v = r.vectors!.v as number[];
    assert.ok(Math.abs(v[0] - 0.6) < 1e-6 && Math.abs(v[1] - 0.8) < 1e-6);
  });

  t("query is exact: equals brute force, with filters, offset paging and plans", async (db) => {
    const dim = 7;
    const c = await db.createCollection("q", {
      vectors: { v: { dim, metric: "l2" } },
      indexes: { lang: "keyword", year: "number" },
    });
    const r = rng(42);
    const records = Array.from({ length: 300 }, (_, i) => ({
      id: `r${String(i).padStart(3, "0")}`,
      vector: randomVector(r, dim),
      payload: { lang: ["en", "fr", "de"][i % 3], year: 2000 + (i % 20) },
    }));
    await c.upsert(records);
    for (let qi = 0; qi < 5; qi++) {
      const q = randomVector(r, dim);
      const { hits, plan } = await c.query({ vector: q, limit: 10 });
      const truth = bruteTopK("l2", records, q, 10);
      assert.deepEqual(
        hits.map((h) => h.id),
        truth.map((x) => x.id),
      );
      for (let i = 0; i < hits.length; i++) assert.ok(Math.abs(hits[i].score - truth[i].score) < 1e-4);
      assert.equal(plan.strategy, "exact-scan");
      const keep = records.filter((x) => x.payload.lang === "fr" && x.payload.year >= 2010);
      const filtered = await c.query({
        vector: q,
        limit: 5,
        filter: { lang: "fr", year: { $gte: 2010 } },
        withPayload: false,
      });
      assert.deepEqual(
        filtered.hits.map((h) => h.id),
        bruteTopK("l2", keep, q, 5).map((x) => x.id),
      );
      assert.equal(filtered.hits[0].payload, undefined);
      assert.equal(filtered.plan.strategy, "exact-filtered");
      const page2 = await c.query({ vector: q, limit: 5, offset: 5 });
      assert.deepEqual(
        page2.hits.map((h) => h.id),
        truth.slice(5, 10).map((x) => x.id),
      );
    }
    const withVectors = await c.query({ vector: new Float32Array(records[0].vector), limit: 1, withVectors: true });
    assert.equal(withVectors.hits[0].id, records[0].id);
    assert.ok(Math.abs((withVectors.hits[0].vectors!.v as number[])[0] - records[0].vector[0]) < 1e-6);
  });

  t("several named vectors: query by name, records may omit some", async (db) => {
    const c = await db.createCollection("multi", {
      vectors: { a: { dim: 2, metric: "dot" }, b: { dim: 3, metric: "cosine" } },
    });
    await c.upsert([
      { id: "1", vectors: { a: [1, 0], b: [0, 1, 0] } },
      { id: "2", vectors: { a: [0, 1] } },
    ]);
    const ha = await c.query({ vector: { a: [0, 2] }, limit: 5 });
    assert.deepEqual(
      ha.hits.map((h) => [h.id, h.score]),
      [
        ["2", 2],
        ["1", 0],
      ],
    );
    const hb = await c.query({ vector: { b: [0, 1, 0] }, limit: 5 });
    assert.deepEqual(
      hb.hits.map((h) => h.id),
      ["1"],
    );
    assert.ok(Math.abs(hb.hits[0].score - similarity("cosine", [0, 1, 0], [0, 1, 0])) < 1e-6);
    await rejectsWith(c.query({ vector: [1, 0], limit: 1 }), "INVALID_ARGUMENT", "vector");
    await rejectsWith(c.query({ vector: { c: [1, 0] }, limit: 1 }), "INVALID_ARGUMENT", "vector.c");
  });

  t("validation errors name the same code and path", async (db) => {
    const c = await db.createCollection("v", { vectors: { text: { dim: 3, metric: "cosine" } } });
    await rejectsWith(
      c.upsert([
        { id: "ok", vector: [1, 2, 3] },
        { id: "short", vector: [1, 2] },
      ]),
      "DIMENSION_MISMATCH",
      "records[1].vector",
    );
    await rejectsWith(
      c.upsert([
        { id: "d", vector: [1, 2, 3] },
        { id: "d", vector: [1, 2, 3] },
      ]),
      "DUPLICATE_ID",
      "records[1].id",
    );
    await rejectsWith(c.upsert([{ id: "", vector: [1, 2, 3] }]), "INVALID_ARGUMENT", "records[0].id");
    await rejectsWith(c.upsert([{ id: "z", vector: [0, 0, 0] }]), "INVALID_ARGUMENT", "records[0].vector");
    await rejectsWith(
      c.upsert([{ id: "u", vector: [1, 2, 3], extra: 1 } as never]),
      "INVALID_ARGUMENT",
      "records[0].extra",
    );
    await rejectsWith(c.upsert("nope" as never), "INVALID_ARGUMENT", "records");
    await rejectsWith(c.query({ vector: [1, 2, 3], limit: 0 }), "INVALID_ARGUMENT", "limit");
    await rejectsWith(c.query({ vector: [1, 2], limit: 1 }), "DIMENSION_MISMATCH", "vector");
    await rejectsWith(c.query({ vector: [1, 2, 3], filter: { year: { $near: 1 } } }), "INVALID_FILTER");
    await rejectsWith(c.get("a" as never), "INVALID_ARGUMENT", "ids");
    await rejectsWith(c.delete([7 as never]), "INVALID_ARGUMENT", "ids[0]");
    await rejectsWith(c.scroll({ limit: -1 }), "INVALID_ARGUMENT", "limit");
    assert.equal(await c.count(), 0, "nothing invalid was stored");
  });

  t("limits: batch size and payload size", async (db) => {
    const c = await db.createCollection("lim", { vectors: { v: { dim: 1, metric: "dot" } } });
    const many = Array.from({ length: 10_001 }, (_, i) => ({ id: `i${i}`, vector: [1] }));
    await rejectsWith(c.upsert(many), "PAYLOAD_TOO_LARGE", "records");
    await rejectsWith(
      c.upsert([{ id: "big", vector: [1], payload: { s: "x".repeat((1 << 20) + 1) } }]),
      "PAYLOAD_TOO_LARGE",
      "records[0].payload",
    );
  });

  t("delete, deleteByFilter, count and scroll", async (db) => {
    const c = await db.createCollection("s", { vectors: { v: { dim: 2, metric: "l2" } }, indexes: { g: "number" } });
    await c.upsert(
      Array.from({ length: 250 }, (_, i) => ({
        id: `k${String(i).padStart(3, "0")}`,
        vector: [i, -i],
        payload: { g: i % 5 },
      })),
    );
    assert.equal(await c.count({ g: 0 }), 50);
    assert.deepEqual(await c.delete(["k000", "k001", "nope"]), { deleted: 2 });
    assert.deepEqual(await c.deleteByFilter({ g: 4 }), { deleted: 50 });
    assert.equal(await c.count(), 198);
    const seen: string[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await c.scroll({ cursor, limit: 64, withPayload: false });
      seen.push(...page.records.map((r) => r.id));
      if (page.nextCursor === null) break;
      cursor = page.nextCursor;
    }
    assert.equal(seen.length, 198);
    assert.deepEqual(seen, [...seen].sort());
    const filtered = await c.scroll({ filter: { g: 1 }, limit: 1000 });
    assert.equal(filtered.records.length, 49, "g = 1 minus the deleted k001");
    assert.equal(filtered.nextCursor, null);
    await rejectsWith(c.deleteByFilter({ g: { $bad: 1 } }), "INVALID_FILTER");
  });

  t("a dropped collection's handle answers NOT_FOUND", async (db) => {
    const c = await db.createCollection("gone", { vectors: { v: { dim: 2, metric: "l2" } } });
    await db.dropCollection("gone");
    await rejectsWith(c.upsert([{ id: "a", vector: [1, 2] }]), "NOT_FOUND");
    await rejectsWith(c.query({ vector: [1, 2] }), "NOT_FOUND");
  });

  t("after close, calls fail with CLOSED", async (db) => {
    await db.close();
    await rejectsWith(db.listCollections(), "CLOSED");
  });
}
