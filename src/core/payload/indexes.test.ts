/**
 * Tests for payload indexes: per-type lookups, arrays and nested paths, wrong-typed values left out,
 * removal with the old payload, lazy re-sorting for ranges, and declaration validation.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { isQuiverError } from "../errors/errors.js";
import { PayloadIndexSet, validateIndexDecls } from "./indexes.js";

const sorted = (s: ReadonlySet<number> | null) => (s === null ? null : [...s].sort((a, b) => a - b));

function build(): PayloadIndexSet {
  const ix = new PayloadIndexSet([
    { field: "lang", type: "keyword" },
    { field: "year", type: "number" },
    { field: "draft", type: "boolean" },
    { field: "authors.name", type: "keyword" },
  ]);
  ix.add(0, { lang: "en", year: 2001, draft: true, authors: [{ name: "Ada" }, { name: "Alan" }] });
  ix.add(1, { lang: ["en", "fr"], year: [1999, 2001], draft: false });
  ix.add(2, { lang: 7, year: "2001", draft: "yes", authors: { name: "Ada" } });
  ix.add(3, { lang: null, year: 2010.5 });
  ix.add(4, {});
  return ix;
}

test("keyword, number and boolean equality", () => {
  const ix = build();
  assert.deepEqual(sorted(ix.lookupEq("lang", "en")), [0, 1]);
  assert.deepEqual(sorted(ix.lookupEq("lang", "de")), []);
  assert.deepEqual(sorted(ix.lookupEq("year", 2001)), [0, 1]);
  assert.deepEqual(sorted(ix.lookupEq("draft", true)), [0]);
  assert.deepEqual(sorted(ix.lookupEq("draft", false)), [1]);
  assert.deepEqual(sorted(ix.lookupEq("authors.name", "Ada")), [0, 2]);
  assert.deepEqual([...ix.keyword("lang")!.keys()].sort(), ["en", "fr"]);
});

test("the index cannot answer for other types, null, or unindexed fields", () => {
  const ix = build();
  assert.equal(ix.lookupEq("lang", 7), null);
  assert.equal(ix.lookupEq("year", "2001"), null);
  assert.equal(ix.lookupEq("lang", null), null);
  assert.equal(ix.lookupEq("nope", "x"), null);
  assert.equal(ix.lookupRange("year", { gte: "2000" }), null);
  assert.equal(ix.lookupRange("draft", { gte: 0 }), null);
  assert.equal(ix.keyword("year"), undefined);
  assert.equal(ix.has("year"), true);
  assert.equal(ix.has("authors"), false);
  assert.equal(ix.typeOf("draft"), "boolean");
});

test("number ranges use every bound and count an upper bound", () => {
  const ix = build();
  assert.deepEqual(sorted(ix.lookupRange("year", { gte: 2001 })), [0, 1, 3]);
  assert.deepEqual(sorted(ix.lookupRange("year", { gt: 2001 })), [3]);
  assert.deepEqual(sorted(ix.lookupRange("year", { lt: 2001 })), [1]);
  assert.deepEqual(sorted(ix.lookupRange("year", { lte: 2001, gt: 1999 })), [0, 1]);
  assert.deepEqual(sorted(ix.lookupRange("year", { gt: 2020 })), []);
  assert.deepEqual(sorted(ix.lookupRange("year", { gt: 2005, lt: 2000 })), []);
  assert.equal(ix.countRange("year", { gte: 1999 }), 4); // slot 1 counted twice: an upper bound
  assert.equal(ix.countRange("year", { gt: 2001, lte: 2010.5 }), 1);
});

test("keyword indexes answer string ranges", () => {
  const ix = build();
  assert.deepEqual(sorted(ix.lookupRange("lang", { gte: "e", lt: "f" })), [0, 1]);
  assert.deepEqual(sorted(ix.lookupRange("lang", { gt: "en" })), [1]);
  assert.equal(ix.lookupRange("lang", { gt: 1 }), null);
});

test("present tracks existence, including null and wrongly typed values", () => {
  const ix = build();
  assert.deepEqual(sorted(ix.present("lang")), [0, 1, 2, 3]);
  assert.deepEqual(sorted(ix.present("draft")), [0, 1, 2]);
  assert.deepEqual(sorted(ix.present("authors.name")), [0, 2]);
  assert.equal(ix.present("nope"), null);
});

test("remove with the old payload, then ranges re-sort lazily", () => {
  const ix = build();
  assert.deepEqual(sorted(ix.lookupRange("year", { gte: 2000 })), [0, 1, 3]);
  ix.remove(1, { lang: ["en", "fr"], year: [1999, 2001], draft: false });
  assert.deepEqual(sorted(ix.lookupEq("lang", "en")), [0]);
  assert.deepEqual([...ix.keyword("lang")!.keys()], ["en"]); // empty value sets are dropped
  assert.deepEqual(sorted(ix.lookupRange("year", { gte: 1000 })), [0, 3]);
  assert.equal(ix.countRange("year", { gte: 1000 }), 2);
  ix.add(1, { year: 1500 });
  assert.deepEqual(sorted(ix.lookupRange("year", { lt: 2001 })), [1]);
  assert.deepEqual(sorted(ix.present("lang")), [0, 2, 3]);
  ix.clear();
  assert.deepEqual(sorted(ix.lookupEq("lang", "en")), []);
  assert.equal(ix.countRange("year", { gte: -1e9 }), 0);
  assert.deepEqual(sorted(ix.present("lang")), []);
});

test("a slot with a repeated value is indexed once and removed cleanly", () => {
  const ix = new PayloadIndexSet([{ field: "t", type: "number" }]);
  ix.add(9, { t: [3, 3, -0] });
  assert.equal(ix.countRange("t", { gte: 0 }), 2);
  assert.deepEqual(sorted(ix.lookupEq("t", 0)), [9]);
  ix.remove(9, { t: [3, 3, 0] });
  assert.equal(ix.countRange("t", { lt: 1e9 }), 0);
});

test("declarations are validated, every problem reported", () => {
  assert.throws(
    () =>
      validateIndexDecls([
        { field: "a", type: "keyword" },
        { field: "a", type: "number" },
        { field: "b..c", type: "text" },
        5,
      ]),
    (e) =>
      isQuiverError(e, "INVALID_ARGUMENT") &&
      e.problems.map((p) => p.path).join() ===
        "indexes[1].field,indexes[2].field,indexes[2].type,indexes[3].field,indexes[3].type",
  );
  assert.throws(
    () => new PayloadIndexSet("x" as never),
    (e) => isQuiverError(e, "INVALID_ARGUMENT"),
  );
  assert.deepEqual(new PayloadIndexSet([]).declarations, []);
});
