/**
 * Property test (fast-check) of filtered vector queries over a graph: for random filters (indexed and
 * unindexed fields, selectivities from 0.1% to 100%, conjunctions, negations) and beam widths, every
 * hit matches, min(k, matches) hits come back, a plan that says exact returns exactly the brute-force
 * filtered top k, and the approximate plans keep their recall. Each plan the estimate can lead to
 * (lazy, one exact pass, match set) must be reached, or the test says it was not.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { open } from "../../src/index.js";
import { bruteTopK, randomVector, rng } from "../support/brute.js";

const N = 3000;
const DIM = 8;
const K = 10;

type Payload = { u: number; w: number; kind: string; tags?: string[] };

test("filtered queries: exact plans equal brute force, approximate ones keep recall, every plan reached", async () => {
  const db = await open();
  const c = await db.createCollection("p", {
    vectors: { v: { dim: DIM, metric: "l2", index: { type: "hnsw", m: 8, efConstruction: 60 } } },
    indexes: { w: "number", kind: "keyword" },
  });
  const r = rng(21);
  const records = Array.from({ length: N }, (_, i) => {
    const u = r();
    const x = r();
    const kind = x < 0.6 ? "a" : x < 0.9 ? "b" : x < 0.99 ? "c" : "d";
    const payload: Payload = { u, w: u, kind };
    if (r() < 0.3) payload.tags = [kind, r() < 0.5 ? "t" : "s"];
    return { id: `r${i}`, vector: randomVector(r, DIM), payload };
  });
  await c.upsert(records);

  const plans = new Map<string, number>();
  let exactChecked = 0;
  let approxFound = 0;
  let approxWanted = 0;
  const filterArb = fc.record({
    // Selectivity 10^-3 .. 1 on u (unindexed) or w (indexed).
    exponent: fc.double({ min: -3, max: 0, noNaN: true }),
    field: fc.constantFrom("u", "w"),
    extra: fc.constantFrom("none", "kind", "not-kind", "or-tag"),
    ef: fc.constantFrom(8, 16, 64, 400),
    seed: fc.integer({ min: 1, max: 1_000_000 }),
  });
  await fc.assert(
    fc.asyncProperty(filterArb, async ({ exponent, field, extra, ef, seed }) => {
      const sel = 10 ** exponent;
      const range = { [field]: { $lt: sel } };
      const filter =
        extra === "none"
          ? range
          : extra === "kind"
            ? { ...range, kind: "b" }
            : extra === "not-kind"
              ? { ...range, kind: { $ne: "a" } }
              : { $or: [range, { tags: "t", kind: "d" }] };
      const accept = (p: Payload): boolean => {
        const inRange = p[field as "u" | "w"] < sel;
        if (extra === "kind") return inRange && p.kind === "b";
        if (extra === "not-kind") return inRange && p.kind !== "a";
        if (extra === "or-tag") return inRange || (p.kind === "d" && (p.tags ?? []).includes("t"));
        return inRange;
      };
      const q = randomVector(rng(seed), DIM);
      const res = await c.query({ vector: q, limit: K, ef, filter, withPayload: true });
      const matching = records.filter((rec) => accept(rec.payload));
      const label = `${JSON.stringify(filter)} ef ${ef}: ${res.plan.strategy}/${res.plan.filter?.plan}`;
      plans.set(res.plan.filter?.plan ?? "none", (plans.get(res.plan.filter?.plan ?? "none") ?? 0) + 1);
      assert.equal(res.hits.length, Math.min(K, matching.length), `${label}: k hits whenever k match`);
      for (const h of res.hits) assert.ok(accept(h.payload as Payload), `${label}: hit ${h.id} matches`);
      const want = bruteTopK("l2", matching, q, K);
      if (res.plan.strategy === "exact-filtered") {
        exactChecked++;
        assert.deepEqual(
          res.hits.map((h) => h.id),
          want.map((w) => w.id),
          label,
        );
        if (res.plan.filter?.plan === "scan") assert.equal(res.plan.candidates, matching.length, `${label}: counted`);
      } else {
        const ids = new Set(want.map((w) => w.id));
        approxFound += res.hits.filter((h) => ids.has(h.id)).length;
        approxWanted += want.length;
      }
    }),
    { numRuns: 150, seed: 7 },
  );
  for (const p of ["lazy", "scan", "match-set"])
    assert.ok((plans.get(p) ?? 0) > 0, `plan ${p} never reached: ${[...plans]}`);
  assert.ok(exactChecked >= 30, `${exactChecked} exact answers checked`);
  assert.ok(approxWanted > 0 && approxFound / approxWanted >= 0.95, `recall ${approxFound}/${approxWanted}`);
  await db.close();
});
