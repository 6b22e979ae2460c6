/**
 * Tests for filter validation: the AST built for each operator, and invalid filters reporting every
 * problem at once with its path.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { isQuiverError, type Problem } from "../../errors/errors.js";
import { parseFilter } from "./parse.js";

function problemsOf(input: unknown, opts?: Parameters<typeof parseFilter>[1]): Problem[] {
  try {
    parseFilter(input, opts);
  } catch (e) {
    assert.ok(isQuiverError(e, "INVALID_FILTER"), String(e));
    return e.problems;
  }
  assert.fail("expected INVALID_FILTER");
}

const paths = (ps: Problem[]) => ps.map((p) => p.path);

test("empty filter matches all", () => {
  assert.deepEqual(parseFilter({}), { kind: "all" });
  assert.deepEqual(parseFilter({ $and: [{}, {}] }), { kind: "all" });
  assert.deepEqual(parseFilter({ $or: [{ a: 1 }, {}] }), { kind: "all" });
});

test("scalars and $eq/$ne", () => {
  assert.deepEqual(parseFilter({ a: "x" }), { kind: "eq", path: ["a"], value: "x" });
  assert.deepEqual(parseFilter({ "a.b": { $eq: null } }), { kind: "eq", path: ["a", "b"], value: null });
  assert.deepEqual(parseFilter({ a: { $ne: false } }), {
    kind: "not",
    child: { kind: "eq", path: ["a"], value: false },
  });
});

test("$in/$nin, $exists", () => {
  assert.deepEqual(parseFilter({ a: { $in: [1, "1", null] } }), { kind: "in", path: ["a"], values: [1, "1", null] });
  assert.deepEqual(parseFilter({ a: { $nin: [true] } }), {
    kind: "not",
    child: { kind: "in", path: ["a"], values: [true] },
  });
  assert.deepEqual(parseFilter({ a: { $exists: false } }), { kind: "exists", path: ["a"], value: false });
});

test("range bounds on one field make one range node", () => {
  assert.deepEqual(parseFilter({ y: { $gte: 2000, $lt: 2010 } }), { kind: "range", path: ["y"], gte: 2000, lt: 2010 });
  assert.deepEqual(parseFilter({ d: { $gt: "2024-01-01" } }), { kind: "range", path: ["d"], gt: "2024-01-01" });
  assert.deepEqual(parseFilter({ y: { $lte: 5, $ne: 3 } }), {
    kind: "and",
    children: [
      { kind: "not", child: { kind: "eq", path: ["y"], value: 3 } },
      { kind: "range", path: ["y"], lte: 5 },
    ],
  });
});

test("logical operators nest; several keys are AND-ed", () => {
  const ast = parseFilter({ a: 1, $or: [{ b: 2 }, { $not: { c: 3 } }], d: { $not: { $gt: 4 } } });
  assert.deepEqual(ast, {
    kind: "and",
    children: [
      { kind: "eq", path: ["a"], value: 1 },
      {
        kind: "or",
        children: [
          { kind: "eq", path: ["b"], value: 2 },
          { kind: "not", child: { kind: "eq", path: ["c"], value: 3 } },
        ],
      },
      { kind: "not", child: { kind: "range", path: ["d"], gt: 4 } },
    ],
  });
  assert.deepEqual(parseFilter({ $and: [{ a: 1 }] }), { kind: "eq", path: ["a"], value: 1 });
});

test("reports every problem at once with its path", () => {
  const ps = problemsOf({
    $and: [{ ok: 1 }, { year: { $gte: "2000", $lt: 2010 } }],
    $or: [],
    $foo: 1,
    tags: { $in: [] },
    lang: { $nin: ["en", { x: 1 }] },
    n: { $eq: Infinity },
    m: { $regex: "a.*" },
    "a..b": 1,
    "": 2,
    e: { $exists: "yes" },
    arr: [1, 2],
    nested: { sub: 1 },
    mixed: { $gt: 1, sub: 2 },
    $not: 5,
    f: { $not: 3 },
    g: { $gt: null, $lt: NaN },
    h: {},
  });
  assert.deepEqual(paths(ps).sort(), [
    "filter.",
    "filter.$and[1].year.$lt",
    "filter.$foo",
    "filter.$not",
    "filter.$or",
    "filter.a..b",
    "filter.arr",
    "filter.e.$exists",
    "filter.f.$not",
    "filter.g.$gt",
    "filter.g.$lt",
    "filter.h",
    "filter.lang.$nin[1]",
    "filter.m.$regex",
    "filter.mixed.sub",
    "filter.n.$eq",
    "filter.nested",
    "filter.tags.$in",
  ]);
  const byPath = new Map(ps.map((p) => [p.path, p.message]));
  assert.match(byPath.get("filter.$and[1].year.$lt")!, /number but \$gte is a string/);
  assert.match(byPath.get("filter.$foo")!, /unknown operator "\$foo"/);
  assert.match(byPath.get("filter.m.$regex")!, /unknown operator "\$regex"/);
  assert.match(byPath.get("filter.a..b")!, /empty segment/);
  assert.match(byPath.get("filter.")!, /field name is empty/);
  assert.match(byPath.get("filter.nested")!, /dotted path such as "nested.sub"/);
  assert.match(byPath.get("filter.n.$eq")!, /finite/);
});

test("the error message lists the problems and the code is INVALID_FILTER", () => {
  try {
    parseFilter({ a: { $in: 1 }, b: { $bad: 1 } }, { path: "query.filter" });
    assert.fail("expected throw");
  } catch (e) {
    assert.ok(isQuiverError(e, "INVALID_FILTER"));
    assert.equal(e.problems.length, 2);
    assert.match(e.message, /query\.filter\.a\.\$in: .*; query\.filter\.b\.\$bad: /);
    assert.equal(e.httpStatus, 400);
  }
});

test("the root must be a plain object", () => {
  for (const bad of [null, undefined, 3, "x", [], [{}], new Date(0)]) {
    assert.deepEqual(paths(problemsOf(bad)), ["filter"]);
  }
  assert.deepEqual(parseFilter(Object.create(null) as object), { kind: "all" });
  assert.deepEqual(paths(problemsOf({ $and: [1, { a: 1 }, []] })), ["filter.$and[0]", "filter.$and[2]"]);
  assert.deepEqual(paths(problemsOf({ "a.$b": 1, "x.": 2 })), ["filter.a.$b", "filter.x."]);
});

test("depth limit", () => {
  let f: Record<string, unknown> = { a: 1 };
  for (let i = 0; i < 15; i++) f = { $not: f };
  assert.doesNotThrow(() => parseFilter(f)); // 16 levels
  const deeper = { $and: [f] };
  assert.deepEqual(paths(problemsOf(deeper)), [`filter.$and[0]${".$not".repeat(15)}`]);
  assert.deepEqual(paths(problemsOf({ $or: [{ a: 1 }] }, { maxDepth: 1 })), ["filter.$or[0]"]);
  assert.deepEqual(paths(problemsOf({ a: { $not: { $gt: 1 } } }, { maxDepth: 1 })), ["filter.a.$not"]);
  // A hostile, very deep input is rejected without exhausting the stack.
  let huge: Record<string, unknown> = {};
  for (let i = 0; i < 100_000; i++) huge = { $not: huge };
  assert.equal(problemsOf(huge).length, 1);
  assert.throws(
    () => parseFilter({}, { maxDepth: 0 }),
    (e) => isQuiverError(e, "INVALID_ARGUMENT"),
  );
});

test("the error example in docs/filters.md is exact", () => {
  try {
    parseFilter({ $and: [{ ok: 1 }, { year: { $gte: "2000", $lt: 2010 } }], tags: { $in: [] }, m: { $regex: "a" } });
    assert.fail("expected throw");
  } catch (e) {
    assert.ok(isQuiverError(e, "INVALID_FILTER"));
    assert.equal(
      e.message,
      "filter.$and[1].year.$lt: $lt is a number but $gte is a string; range bounds must share one type; " +
        "filter.tags.$in: $in must be a non-empty array of strings, numbers, booleans or null, got an empty array; " +
        'filter.m.$regex: unknown operator "$regex"; expected one of $eq, $ne, $in, $nin, $gt, $gte, $lt, $lte, $exists, $not',
    );
  }
});
