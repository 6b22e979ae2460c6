/**
 * Tests for index-only narrowing and match estimates: which filters narrow, which give up (null),
 * and that returned sets belong to the caller.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { PayloadIndexSet } from "../../payload/indexes.js";
import { parseFilter } from "../filter/parse.js";
import { candidateSlots, estimateMatches } from "./candidates.js";

const payloads: Record<string, unknown>[] = [
  /* 0 */ { lang: "en", year: 2001, draft: true, note: "a" },
  /* 1 */ { lang: "fr", year: 1999, draft: false },
  /* 2 */ { lang: "en", year: 2010, tags: ["x"] },
  /* 3 */ { lang: "de", year: "2010" },
  /* 4 */ { year: 2020, draft: true },
];

function setup(): PayloadIndexSet {
  const ix = new PayloadIndexSet([
    { field: "lang", type: "keyword" },
    { field: "year", type: "number" },
    { field: "draft", type: "boolean" },
  ]);
  payloads.forEach((p, slot) => {
    ix.add(slot, p);
  });
  return ix;
}

function cands(filter: unknown, ix = setup()): number[] | null {
  const s = candidateSlots(parseFilter(filter), ix);
  return s === null ? null : [...s].sort((a, b) => a - b);
}

test("leaves on indexed fields narrow", () => {
  assert.deepEqual(cands({ lang: "en" }), [0, 2]);
  assert.deepEqual(cands({ lang: { $in: ["fr", "de", "zz"] } }), [1, 3]);
  assert.deepEqual(cands({ year: { $gte: 2001, $lt: 2020 } }), [0, 2]);
  assert.deepEqual(cands({ draft: true }), [0, 4]);
  assert.deepEqual(cands({ draft: { $exists: true } }), [0, 1, 4]);
  assert.deepEqual(cands({ lang: "none" }), []);
});

test("leaves the index cannot answer give null", () => {
  assert.equal(cands({}), null);
  assert.equal(cands({ note: "a" }), null);
  assert.equal(cands({ year: "2010" }), null); // strings are not in the number index
  assert.equal(cands({ lang: null }), null); // null also matches missing fields
  assert.equal(cands({ lang: { $in: ["en", null] } }), null);
  assert.equal(cands({ lang: { $exists: false } }), null);
  assert.equal(cands({ lang: { $ne: "en" } }), null);
  assert.equal(cands({ $not: { lang: "en" } }), null);
});

test("AND intersects the narrowable children and ignores the rest", () => {
  assert.deepEqual(cands({ lang: "en", year: { $gt: 2005 } }), [2]);
  assert.deepEqual(cands({ lang: "en", note: "zzz" }), [0, 2]);
  assert.deepEqual(cands({ $and: [{ lang: "en" }, { draft: true }, { $not: { year: 1 } }] }), [0]);
  assert.equal(cands({ note: "a", $not: { lang: "en" } }), null);
});

test("OR unions only when every branch narrows", () => {
  assert.deepEqual(cands({ $or: [{ lang: "fr" }, { draft: true }] }), [0, 1, 4]);
  assert.equal(cands({ $or: [{ lang: "fr" }, { note: "a" }] }), null);
  assert.deepEqual(cands({ $or: [{ lang: "fr" }, { note: "a", year: 2020 }] }), [1, 4]);
});

test("returned sets are fresh: mutating them leaves the index intact", () => {
  const ix = setup();
  const s = candidateSlots(parseFilter({ lang: "en" }), ix)!;
  s.clear();
  assert.deepEqual(cands({ lang: "en" }, ix), [0, 2]);
  const p = candidateSlots(parseFilter({ draft: { $exists: true } }), ix)!;
  p.add(99);
  assert.deepEqual(cands({ draft: { $exists: true } }, ix), [0, 1, 4]);
});

test("estimateMatches is an upper bound from index statistics", () => {
  const ix = setup();
  const est = (f: unknown) => estimateMatches(parseFilter(f), ix, payloads.length);
  assert.equal(est({}), 5);
  assert.equal(est({ lang: "en" }), 2);
  assert.equal(est({ note: "a" }), 5);
  assert.equal(est({ lang: { $in: ["en", "fr"] } }), 3);
  assert.equal(est({ year: { $gte: 2010 } }), 2);
  assert.equal(est({ lang: "en", draft: true }), 2);
  assert.equal(est({ $or: [{ lang: "en" }, { lang: "de" }] }), 3);
  assert.equal(est({ $or: [{ lang: "en" }, { note: "x" }] }), 5);
  assert.equal(est({ draft: { $exists: false } }), 2);
  assert.equal(est({ $not: { lang: "en" } }), 5);
  assert.equal(estimateMatches(parseFilter({ lang: { $in: ["en", "x"] } }), ix, 1), 1);
});
