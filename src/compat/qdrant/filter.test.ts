/**
 * Qdrant filter translation: each construct's Quiver filter, checked by evaluating it on payloads
 * with Quiver's own evaluator (so a wrong translation fails on data, not on the shape of its
 * output), and the constructs refused as unsupported or reported as invalid with their paths.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { matches } from "../../core/query/filter/evaluate.js";
import { parseFilter } from "../../core/query/filter/parse.js";
import { QuiverError } from "../../core/errors/errors.js";
import { Checker } from "../shape.js";
import { translateFilter } from "./filter.js";

const PAYLOADS: Record<string, Record<string, unknown>> = {
  a: { n: 1, tags: ["x", "y"], c: "red", nul: null, o: { k: "v" } },
  b: { n: 5, tags: [], c: "blue" },
  c: { n: 9, tags: ["y"], nul: 3 },
  d: {},
};

/** Ids of the payloads a Qdrant filter keeps, through the translation and Quiver's evaluator. */
function kept(filter: unknown): string[] {
  const check = new Checker();
  const t = translateFilter(filter, "filter", check);
  check.done();
  const node = t.filter ? parseFilter(t.filter) : undefined;
  return Object.keys(PAYLOADS).filter((id) => !node || matches(node, PAYLOADS[id]));
}

test("each condition keeps the payloads Qdrant's semantics keep", () => {
  assert.deepEqual(kept({ must: [{ key: "c", match: { value: "red" } }] }), ["a"]);
  assert.deepEqual(
    kept({
      should: [
        { key: "n", range: { lt: 2 } },
        { key: "n", range: { gt: 8 } },
      ],
    }),
    ["a", "c"],
  );
  assert.deepEqual(kept({ must_not: [{ key: "tags", match: { any: ["y"] } }] }), ["b", "d"]);
  assert.deepEqual(kept({ must: [{ is_empty: { key: "tags" } }] }), ["b", "d"]);
  assert.deepEqual(kept({ must: [{ is_null: { key: "nul" } }] }), ["a"]);
  assert.deepEqual(kept({ must: [{ key: "o.k", match: { value: "v" } }] }), ["a"]);
  assert.deepEqual(kept({ must: [{ key: "tags[]", match: { value: "x" } }] }), ["a"]);
  assert.deepEqual(kept({ must: [{ key: "tags", match: { any: [] } }] }), [], "an empty any matches nothing");
  assert.deepEqual(kept({ must: [] }), ["a", "b", "c", "d"]);
  assert.deepEqual(
    kept({
      min_should: {
        conditions: [
          { key: "n", range: { gte: 5 } },
          { key: "tags", match: { value: "y" } },
          { key: "c", match: { value: "red" } },
        ],
        min_count: 2,
      },
    }),
    ["a", "c"],
  );
  assert.deepEqual(kept({ min_should: { conditions: [{ key: "n", range: { gte: 0 } }], min_count: 2 } }), []);
});

test("has_id in the top-level must is returned as ids; anywhere else it is unsupported", () => {
  const check = new Checker();
  const t = translateFilter(
    { must: [{ has_id: [3, "5C56C793-69F3-4FBF-87E6-C4BF54C28C26"] }, { key: "n", range: { gt: 1 } }] },
    "filter",
    check,
  );
  assert.deepEqual(t.ids, ["3", "5c56c793-69f3-4fbf-87e6-c4bf54c28c26"]);
  assert.deepEqual(t.filter, { n: { $gt: 1 } });
  assert.throws(
    () => translateFilter({ should: [{ has_id: [1] }] }, "filter", new Checker()),
    (e: unknown) => e instanceof QuiverError && e.code === "UNSUPPORTED" && /has_id/.test(e.message),
  );
});

test("unsupported constructs answer UNSUPPORTED naming them; malformed ones every problem with its path", () => {
  for (const [filter, name] of [
    [{ must: [{ key: "t", match: { text: "a" } }] }, "match.text"],
    [{ must: [{ key: "g", geo_radius: { center: { lat: 0, lon: 0 }, radius: 1 } }] }, "geo_radius"],
    [{ must: [{ nested: { key: "a", filter: {} } }] }, "nested"],
    [{ must: [{ key: "d", range: { gte: "2024-01-01" } }] }, "datetime"],
    [{ must: [{ key: "a[0]", match: { value: 1 } }] }, "array indexes"],
  ] as const) {
    assert.throws(
      () => translateFilter(filter, "filter", new Checker()),
      (e: unknown) => e instanceof QuiverError && e.code === "UNSUPPORTED" && e.message.includes(name),
    );
  }
  const check = new Checker();
  translateFilter(
    { must: [{ key: "", match: { value: 1 } }, { key: "n", match: { value: [1] } }, 7] },
    "filter",
    check,
  );
  assert.deepEqual(
    check.problems.map((p) => p.path),
    ["filter.must[0].key", "filter.must[1].match.value", "filter.must[2]"],
  );
});
