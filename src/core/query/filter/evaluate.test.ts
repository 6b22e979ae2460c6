/**
 * Tests for filter evaluation: every operator, dotted paths, array "contains" semantics, MongoDB's
 * treatment of missing fields under negation, and type mismatches that never match.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { matches } from "./evaluate.js";
import { parseFilter } from "./parse.js";

/** The subset of `records` (by index) that `filter` matches. */
function which(filter: unknown, records: (Record<string, unknown> | undefined)[]): number[] {
  const node = parseFilter(filter);
  return records.flatMap((r, i) => (matches(node, r) ? [i] : []));
}

const docs: (Record<string, unknown> | undefined)[] = [
  /* 0 */ { a: 5, s: "apple", b: true, tags: ["x", "y"], d: "2024-03-01" },
  /* 1 */ { a: "5", s: "banana", b: false, tags: [], d: "2023-12-31T23:00:00Z" },
  /* 2 */ { a: null, tags: "x" },
  /* 3 */ {},
  /* 4 */ { a: [1, 5, 9], s: ["apple", "cherry"], tags: ["z"] },
  /* 5 */ undefined,
];

test("equality is typed: 5, '5' and true are different values", () => {
  assert.deepEqual(which({ a: 5 }, docs), [0, 4]);
  assert.deepEqual(which({ a: "5" }, docs), [1]);
  assert.deepEqual(which({ b: true }, docs), [0]);
  assert.deepEqual(which({ b: 1 }, docs), []);
  assert.deepEqual(which({ a: { $eq: 9 } }, docs), [4]);
});

test("null equality matches null and missing fields", () => {
  assert.deepEqual(which({ a: null }, docs), [2, 3, 5]);
  assert.deepEqual(which({ a: { $ne: null } }, docs), [0, 1, 4]);
  assert.deepEqual(which({ a: { $in: [null, "5"] } }, docs), [1, 2, 3, 5]);
});

test("$ne and $nin follow MongoDB: missing fields match, arrays must not contain the value", () => {
  assert.deepEqual(which({ a: { $ne: 5 } }, docs), [1, 2, 3, 5]);
  assert.deepEqual(which({ tags: { $ne: "x" } }, docs), [1, 3, 4, 5]);
  assert.deepEqual(which({ tags: { $nin: ["x", "z"] } }, docs), [1, 3, 5]);
  assert.deepEqual(which({ tags: { $in: ["x", "z"] } }, docs), [0, 2, 4]);
});

test("arrays: a scalar operand matches any element", () => {
  assert.deepEqual(which({ tags: "y" }, docs), [0]);
  assert.deepEqual(which({ s: "cherry" }, docs), [4]);
  assert.deepEqual(which({ a: { $gt: 8 } }, docs), [4]);
});

test("ranges: numbers numerically, strings lexicographically, other types never", () => {
  assert.deepEqual(which({ a: { $gte: 5 } }, docs), [0, 4]);
  assert.deepEqual(which({ a: { $gt: 5 } }, docs), [4]);
  assert.deepEqual(which({ a: { $lt: 5 } }, docs), [4]);
  assert.deepEqual(which({ a: { $lte: 4.5 } }, docs), [4]);
  assert.deepEqual(which({ a: { $gte: "0" } }, docs), [1]);
  assert.deepEqual(which({ d: { $gte: "2024-01-01" } }, docs), [0]);
  assert.deepEqual(which({ d: { $lt: "2024-01-01" } }, docs), [1]);
  assert.deepEqual(which({ s: { $gt: "b" } }, docs), [1, 4]);
  assert.deepEqual(which({ b: { $gte: 0 } }, docs), []);
  // One element must satisfy every bound: [1, 5, 9] has no element in (5, 9).
  assert.deepEqual(which({ a: { $gt: 5, $lt: 9 } }, docs), []);
  assert.deepEqual(which({ a: { $gt: 4, $lt: 6 } }, docs), [0, 4]);
});

test("$exists", () => {
  assert.deepEqual(which({ a: { $exists: true } }, docs), [0, 1, 2, 4]);
  assert.deepEqual(which({ a: { $exists: false } }, docs), [3, 5]);
  assert.deepEqual(which({ tags: { $exists: true } }, docs), [0, 1, 2, 4]);
});

test("dotted paths through objects and arrays of objects", () => {
  const recs = [
    { meta: { lang: "en", stats: { views: 10 } } },
    { meta: { lang: "fr" } },
    {
      authors: [
        { name: "Ada", born: 1815 },
        { name: "Alan", born: 1912 },
      ],
    },
    { authors: { name: "Grace" } },
    { meta: "en" },
  ];
  assert.deepEqual(which({ "meta.lang": "en" }, recs), [0]);
  assert.deepEqual(which({ "meta.stats.views": { $gte: 10 } }, recs), [0]);
  assert.deepEqual(which({ "authors.name": "Alan" }, recs), [2]);
  assert.deepEqual(which({ "authors.name": { $in: ["Grace", "Ada"] } }, recs), [2, 3]);
  assert.deepEqual(which({ "authors.born": { $lt: 1900 } }, recs), [2]);
  assert.deepEqual(which({ "meta.lang": { $exists: false } }, recs), [2, 3, 4]);
  assert.deepEqual(which({ "authors.name": { $ne: "Ada" } }, recs), [0, 1, 3, 4]);
});

test("$and, $or, $not and field-level $not nest", () => {
  assert.deepEqual(which({ $or: [{ a: 5 }, { b: false }] }, docs), [0, 1, 4]);
  assert.deepEqual(which({ $and: [{ a: 5 }, { tags: "z" }] }, docs), [4]);
  assert.deepEqual(which({ $not: { $or: [{ a: 5 }, { b: false }] } }, docs), [2, 3, 5]);
  assert.deepEqual(which({ a: { $not: { $gte: 5 } } }, docs), [1, 2, 3, 5]);
  assert.deepEqual(
    which({ $or: [{ $and: [{ a: 5 }, { s: "apple" }] }, { $not: { tags: { $exists: true } } }] }, docs),
    [0, 3, 4, 5],
  );
  assert.deepEqual(which({}, docs), [0, 1, 2, 3, 4, 5]);
  assert.deepEqual(which({ $not: {} }, docs), []);
});

test("large $in lists (cached set path) agree with small ones", () => {
  const many = Array.from({ length: 50 }, (_, i) => i * 2);
  const recs = Array.from({ length: 20 }, (_, i) => ({ n: i, arr: [i, i + 100] }));
  assert.deepEqual(which({ n: { $in: many } }, recs), [0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
  assert.deepEqual(which({ arr: { $in: [...many, "x", 101] } }, recs).length, 11);
  const node = parseFilter({ n: { $in: [...many, "5"] } });
  assert.equal(matches(node, { n: 5 }), false);
  assert.equal(matches(node, { n: "5" }), true);
});
