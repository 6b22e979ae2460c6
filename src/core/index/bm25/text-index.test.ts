// BM25: scores equal the formula computed by brute force, and the index stays exact under
// replacements and deletes (including slot reuse, compaction and renumbering): after any churn it
// scores exactly like an index built fresh from the surviving documents.
import { test } from "node:test";
import assert from "node:assert/strict";
import { TextIndex } from "./text-index.js";
import { seededRandom as rng } from "../../util/prng.js";
import { bitmapOf } from "../slot-bitmap.js";
import { sumTermStats } from "./term-stats.js";

const WORDS = ["alpha", "beta", "gamma", "delta", "eps", "zeta", "eta", "theta", "iota", "kappa"];

function randomText(r: () => number): string {
  const n = 1 + Math.floor(r() * 12);
  return Array.from({ length: n }, () => WORDS[Math.floor(r() * r() * WORDS.length)]).join(" ");
}

function bruteBm25(docs: Map<number, string>, query: string, k1: number, b: number): Map<number, number> {
  const toks = new Map([...docs].map(([s, t]) => [s, t.split(" ")]));
  const n = toks.size;
  const avgdl = [...toks.values()].reduce((a, t) => a + t.length, 0) / n;
  const out = new Map<number, number>();
  for (const [slot, t] of toks) {
    let score = 0;
    for (const q of query.split(" ")) {
      const df = [...toks.values()].filter((d) => d.includes(q)).length;
      const tf = t.filter((x) => x === q).length;
      if (tf === 0) continue;
      score += (Math.log(1 + (n - df + 0.5) / (df + 0.5)) * tf) / (tf + k1 * (1 - b + (b * t.length) / avgdl));
    }
    if (score > 0) out.set(slot, score);
  }
  return out;
}

function check(ix: TextIndex, docs: Map<number, string>, query: string, highWater: number): void {
  const want = bruteBm25(docs, query, ix.params.k1, ix.params.b);
  const got = ix.search(query, 1000, { highWater });
  assert.equal(got.slots.length, want.size, `hits for "${query}"`);
  got.slots.forEach((slot, i) => {
    assert.ok(Math.abs(got.scores[i] - want.get(slot)!) < 1e-9, `slot ${slot}: ${got.scores[i]} vs ${want.get(slot)}`);
  });
  for (let i = 1; i < got.scores.length; i++)
    assert.ok(
      got.scores[i - 1] > got.scores[i] || (got.scores[i - 1] === got.scores[i] && got.slots[i - 1] < got.slots[i]),
    );
}

test("BM25 scores equal the formula (Lucene idf, query terms with multiplicity)", () => {
  const r = rng(7);
  const ix = new TextIndex({ body: {} }, { k1: 0.9, b: 0.4 }, {});
  const docs = new Map<number, string>();
  for (let s = 0; s < 200; s++) {
    const t = randomText(r);
    docs.set(s, t);
    ix.add(s, { body: t });
  }
  for (const q of ["alpha", "kappa iota", "beta beta gamma", "nothing"]) check(ix, docs, q, 200);
});

test("updates, deletes, slot reuse, compaction and renumbering keep scores exact", () => {
  const r = rng(11);
  const ix = new TextIndex({ body: {} }, { k1: 1.2, b: 0.75 }, {});
  const docs = new Map<number, string>();
  const slots = 300;
  for (let round = 0; round < 4000; round++) {
    const slot = Math.floor(r() * slots);
    if (docs.has(slot)) ix.remove(slot);
    if (r() < 0.3) {
      docs.delete(slot);
    } else {
      const t = randomText(r);
      docs.set(slot, t);
      ix.add(slot, { body: t });
    }
    if (round % 500 === 499) for (const q of ["alpha", "theta iota", "kappa eta eta"]) check(ix, docs, q, slots);
  }
  const f = ix.fields[0].index;
  assert.equal(f.docCount, docs.size);
  assert.ok(f.nextDoc < 4000, "document numbers were reassigned");
});

test("several fields add up with their boosts; a filter mask and a field list restrict the search", () => {
  const ix = new TextIndex({ title: { boost: 2 }, body: {} }, { k1: 1.2, b: 0.75 }, {});
  ix.add(0, { title: "storage", body: "about logs" });
  ix.add(1, { title: "logs", body: "storage storage" });
  ix.add(2, { body: ["crash", "safe storage"] });
  const all = ix.search("storage", 10, { highWater: 3 });
  assert.equal(all.slots.length, 3);
  const bodyOnly = ix.search("storage", 10, { highWater: 3, fields: ["body"] });
  assert.deepEqual(new Set(bodyOnly.slots), new Set([1, 2]));
  const masked = ix.search("storage", 10, { highWater: 3, accept: bitmapOf([1], 3) });
  assert.deepEqual(masked.slots, [1]);
});

test("postings saved as bytes and restored score exactly, and stay exact under more churn; damaged bytes are refused", () => {
  const r = rng(23);
  const fresh = () => new TextIndex({ body: {}, title: {} }, { k1: 1.2, b: 0.75 }, {});
  const ix = fresh();
  const docs = new Map<number, string>();
  const slots = 200;
  const churn = (index: TextIndex, rounds: number): void => {
    for (let round = 0; round < rounds; round++) {
      const slot = Math.floor(r() * slots);
      if (docs.has(slot)) index.remove(slot);
      if (r() < 0.3) docs.delete(slot);
      else {
        const t = randomText(r);
        docs.set(slot, t);
        index.add(slot, { body: t });
      }
    }
  };
  // Dead entries and removed documents are in the index when it is saved.
  churn(ix, 1500);
  const restored = fresh();
  assert.equal(restored.restore(ix.toBytes()), null);
  for (const q of ["alpha", "theta iota", "kappa eta eta"]) check(restored, docs, q, slots);
  for (let slot = 0; slot < slots; slot++) {
    const payload = docs.has(slot) ? { body: docs.get(slot) } : undefined;
    assert.equal(restored.documentsMatching(slot, payload), docs.has(slot) ? 1 : 0, `slot ${slot}`);
  }
  assert.equal(restored.documents, docs.size);
  // A payload whose text the postings lack, or a record the postings do not know, is a mismatch.
  const someSlot = [...docs.keys()][0];
  assert.equal(restored.documentsMatching(someSlot, undefined), -1);
  assert.equal(restored.documentsMatching(someSlot, { body: "x", title: "y" }), -1);
  churn(restored, 1500);
  for (const q of ["alpha", "beta gamma", "zeta"]) check(restored, docs, q, slots);

  const bytes = restored.toBytes();
  const body = bytes.get("body")!;
  const fields = (b: Uint8Array) => new Map([...bytes].map(([k, v]) => [k, k === "body" ? b : v]));
  for (const cut of [0, 8, body.length >> 1, body.length - 1]) {
    const other = fresh();
    assert.match(other.restore(fields(body.subarray(0, cut))) ?? "", /postings of field "body" are damaged/);
    assert.equal(other.documents, 0, "a refused restore leaves the index as it was");
  }
  assert.match(fresh().restore(new Map([["title", bytes.get("title")!]])) ?? "", /no postings for field "body"/);
});

test("split in parts scored with the summed term statistics, each part scores as the whole index", () => {
  const r = rng(23);
  const whole = new TextIndex({ body: {} }, { k1: 1.2, b: 0.75 }, {});
  const parts = [0, 1, 2].map(() => new TextIndex({ body: {} }, { k1: 1.2, b: 0.75 }, {}));
  for (let s = 0; s < 240; s++) {
    const t = randomText(r);
    whole.add(s, { body: t });
    parts[s % 3].add(s, { body: t });
  }
  for (const q of ["alpha", "kappa iota iota", "beta gamma nothing"]) {
    const want = whole.search(q, 1000, { highWater: 240 });
    const stats = sumTermStats(parts.map((p) => p.termStatistics(q)));
    assert.deepEqual(stats, whole.termStatistics(q), "the sum of the parts' statistics is the whole's");
    const got = parts.map((p) => p.search(q, 1000, { highWater: 240, stats }));
    const scoreOf = new Map(got.flatMap((g) => g.slots.map((slot, i) => [slot, g.scores[i]] as const)));
    assert.equal(scoreOf.size, want.slots.length);
    for (const [i, slot] of want.slots.entries())
      assert.equal(scoreOf.get(slot), want.scores[i], `slot ${slot} "${q}"`);
    // Without them a part scores with its own statistics, which differ from the whole's.
    const own = parts[0].search(q, 1000, { highWater: 240 });
    assert.ok(
      own.slots.some((slot, i) => own.scores[i] !== scoreOf.get(slot)),
      `"${q}" scores differ per part`,
    );
  }
  // Statistics that cannot be of a collection holding this part are refused, not scored with.
  const q = "alpha beta";
  const partial = parts[0].termStatistics(q);
  partial.body.df = partial.body.df.map(([t, df]) => [t, t === "beta" ? df - 1 : df]);
  assert.throws(() => parts[0].search(q, 10, { highWater: 240, stats: partial }), /text statistics of body undercount/);
});
