/**
 * Tests for dotted-path resolution: nesting, fan-out through arrays, leaf arrays, and the difference
 * between "reaches no value" and "does not exist".
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { pathExists, someValueAt, valuesAt } from "./path.js";

test("valuesAt descends into nested objects", () => {
  assert.deepEqual(valuesAt({ a: { b: { c: 3 } } }, ["a", "b", "c"]), [3]);
  assert.deepEqual(valuesAt({ a: { b: 1 } }, ["a"]), [{ b: 1 }]);
  assert.deepEqual(valuesAt({ a: 1 }, ["a", "b"]), []);
  assert.deepEqual(valuesAt({ a: null }, ["a"]), [null]);
  assert.deepEqual(valuesAt({ a: null }, ["a", "b"]), []);
  assert.deepEqual(valuesAt(undefined, ["a"]), []);
});

test("valuesAt fans out through arrays of objects and expands leaf arrays", () => {
  const p = { authors: [{ name: "Ada", tags: ["x", "y"] }, { name: "Alan" }, "stray", { tags: "z" }] };
  assert.deepEqual(valuesAt(p, ["authors", "name"]), ["Ada", "Alan"]);
  assert.deepEqual(valuesAt(p, ["authors", "tags"]), ["x", "y", "z"]);
  assert.deepEqual(valuesAt({ t: [1, [2, 3], null] }, ["t"]), [1, [2, 3], null]);
  // Arrays directly inside arrays are not searched for fields.
  assert.deepEqual(valuesAt({ a: [[{ b: 1 }]] }, ["a", "b"]), []);
});

test("only own properties are reached", () => {
  assert.deepEqual(valuesAt({}, ["constructor"]), []);
  assert.equal(pathExists({ a: {} }, ["a", "toString"]), false);
  assert.deepEqual(valuesAt(JSON.parse('{"__proto__": 5}') as Record<string, unknown>, ["__proto__"]), [5]);
});

test("pathExists counts null and empty arrays as present", () => {
  assert.equal(pathExists({ a: null }, ["a"]), true);
  assert.equal(pathExists({ a: [] }, ["a"]), true);
  assert.equal(pathExists({ a: [{}, { b: null }] }, ["a", "b"]), true);
  assert.equal(pathExists({ a: [{}, { c: 1 }] }, ["a", "b"]), false);
  assert.equal(pathExists({ a: 1 }, ["a", "b"]), false);
  assert.equal(pathExists(undefined, ["a"]), false);
});

test("someValueAt agrees with valuesAt and stops early", () => {
  const p = { a: [{ b: [1, 2] }, { b: 3 }] };
  let calls = 0;
  const isTarget = (v: unknown, target: number) => {
    calls++;
    return v === target;
  };
  const hit = someValueAt(p, ["a", "b"], isTarget, 2);
  assert.equal(hit, true);
  assert.equal(calls, 2);
  assert.equal(
    someValueAt(p, ["a", "b"], (v) => v === 4, null),
    false,
  );
  assert.equal(
    someValueAt(undefined, ["a"], () => true, null),
    false,
  );
});
