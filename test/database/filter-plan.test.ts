/**
 * Filtered vector queries planned by estimate: a broad filter on an unindexed field is tested lazily on
 * the graph's candidates (no match set: far fewer payloads read than records), with recall against the
 * exact answer and only matching hits; a selective one is still answered exactly; an indexed one is
 * narrowed by its index; and a lazy plan whose estimate misleads it (the matches lie away from the
 * query) widens, then builds the match set, and still returns k matching hits.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { open, type Collection } from "../../src/index.js";
import { rng } from "../support/brute.js";

const N = 6000;
const DIM = 16;

/** Two far-apart regions: `side` 0 (half the records, and every query) and `side` 1 (the other half). */
async function setup() {
  const db = await open();
  const c = await db.createCollection("f", {
    vectors: { v: { dim: DIM, metric: "l2", index: { type: "hnsw", m: 12, efConstruction: 80 } } },
    indexes: { w: "number" },
  });
  const r = rng(9);
  const centres = Array.from({ length: 20 }, () => Array.from({ length: DIM }, () => r() * 2 - 1));
  const point = (side: number) => {
    const c0 = centres[Math.floor(r() * centres.length)];
    return c0.map((x, i) => x + (r() - 0.5) * 0.4 + (i === 0 ? side * 40 : 0));
  };
  const records = Array.from({ length: N }, (_, i) => {
    const u = r();
    const side = i >= N / 2 ? 1 : 0;
    // u unindexed and w indexed hold the same value, so one selectivity reads both ways.
    return { id: `r${i}`, vector: point(side), payload: { u, w: u, side } };
  });
  for (let i = 0; i < N; i += 2000) await c.upsert(records.slice(i, i + 2000));
  const queries = Array.from({ length: 20 }, () => point(0));
  return { db, c, queries };
}

type Payload = Record<string, unknown> | undefined;

async function compare(
  c: Collection,
  queries: number[][],
  filter: Record<string, unknown>,
  accept: (p: Payload) => boolean,
) {
  let found = 0;
  let total = 0;
  const strategies = new Set<string>();
  let checked = 0;
  for (const q of queries) {
    const r = await c.query({ vector: q, limit: 10, filter, withPayload: true });
    strategies.add(r.plan.strategy);
    checked = Math.max(checked, r.plan.payloadsChecked);
    const exact = await c.query({ vector: q, limit: 10, filter, exact: true });
    assert.equal(r.hits.length, exact.hits.length, `${JSON.stringify(filter)}: k hits whenever k match`);
    const want = new Set(exact.hits.map((h) => h.id));
    found += r.hits.filter((h) => want.has(h.id)).length;
    total += want.size;
    for (const h of r.hits) assert.ok(accept(h.payload), `hit ${h.id} matches the filter`);
  }
  return { recall: found / total, strategies: [...strategies], checked };
}

test("a broad unindexed filter is tested lazily on the graph's candidates, with recall", async () => {
  const { db, c, queries } = await setup();
  const r = await compare(c, queries, { u: { $lt: 0.5 } }, (p) => (p?.u as number) < 0.5);
  assert.deepEqual(r.strategies, ["hnsw-lazy"]);
  assert.ok(r.recall >= 0.95, `recall ${r.recall}`);
  // The sample (256) plus the candidates tested: far from the 6,000 a match set would read.
  assert.ok(r.checked < N / 4, `${r.checked} payloads read`);
  await db.close();
});

test("a selective unindexed filter is answered exactly; an indexed one through its index", async () => {
  const { db, c, queries } = await setup();
  const rare = await c.query({ vector: queries[0], limit: 10, filter: { u: { $lt: 0.002 } } });
  assert.equal(rare.plan.strategy, "exact-filtered");
  assert.equal(rare.plan.usedIndexes, false);
  const exact = await c.query({ vector: queries[0], limit: 10, filter: { u: { $lt: 0.002 } }, exact: true });
  assert.deepEqual(
    rare.hits.map((h) => h.id),
    exact.hits.map((h) => h.id),
  );
  const indexed = await c.query({ vector: queries[0], limit: 10, filter: { w: { $lt: 0.1 } } });
  assert.equal(indexed.plan.usedIndexes, true);
  assert.ok(indexed.plan.strategy.startsWith("hnsw") || indexed.plan.strategy === "exact-filtered");
  const r = await compare(c, queries, { w: { $lt: 0.1 } }, (p) => (p?.w as number) < 0.1);
  assert.ok(r.recall >= 0.95, `recall ${r.recall}`);
  await db.close();
});

test("a lazy plan misled by its estimate widens, then builds the match set, and returns k matching hits", async () => {
  const { db, c, queries } = await setup();
  // Half the records match, all of them far from every query: the beam never reaches them.
  const filter = { side: { $eq: 1 } };
  for (const q of queries.slice(0, 5)) {
    const r = await c.query({ vector: q, limit: 10, filter, withPayload: true });
    assert.equal(r.hits.length, 10);
    for (const h of r.hits) assert.equal(h.payload?.side, 1);
    assert.ok((r.plan.ann?.widenings ?? 0) > 0, "the lazy search widened before giving up");
    assert.ok(r.plan.payloadsChecked >= N, "the match set was built");
    const exact = await c.query({ vector: q, limit: 10, filter, exact: true });
    assert.deepEqual(
      r.hits.map((h) => h.id),
      exact.hits.map((h) => h.id),
    );
  }
  await db.close();
});
