/**
 * The compiled filter must agree with the interpreter (`matches`) on every payload: randomized over
 * nested filters and payloads of mixed types, arrays, nulls and missing fields, plus the edge cases
 * its fast path special-cases (null operands, inherited keys, an absent payload).
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { seededRandom } from "../../util/prng.js";
import { compileFilter } from "./compile.js";
import { matches } from "./evaluate.js";
import { parseFilter } from "./parse.js";
import { randomFilter, randomPayload } from "./test-support.js";

for (const seed of [11, 12, 13]) {
  test(`compiled filters agree with matches on random filters and payloads (seed ${seed})`, () => {
    const r = seededRandom(seed);
    const payloads = Array.from({ length: 300 }, () => randomPayload(r));
    let matched = 0;
    let total = 0;
    for (let f = 0; f < 300; f++) {
      const node = parseFilter(randomFilter(r, 3));
      const compiled = compileFilter(node);
      for (const p of payloads) {
        const want = matches(node, p);
        assert.equal(compiled(p), want, `filter ${JSON.stringify(node)} on ${JSON.stringify(p)}`);
        if (want) matched++;
        total++;
      }
    }
    // Both outcomes are common, so agreement is not agreement on "always false".
    assert.ok(matched > total * 0.1 && matched < total * 0.9, `${matched} of ${total} matched`);
  });
}

test("compiled filters keep the interpreter's edge cases", () => {
  const cases: [Record<string, unknown>, (Record<string, unknown> | undefined)[]][] = [
    [{ a: null }, [{}, { a: null }, { a: 0 }, undefined, { a: [null] }]],
    [{ a: { $in: [1, null] } }, [{}, { a: 1 }, { a: 2 }, undefined]],
    [{ a: { $ne: 1 } }, [{}, { a: 1 }, { a: [1, 2] }, { a: "1" }, undefined]],
    [{ a: { $exists: false } }, [{}, { a: null }, { a: [] }, undefined]],
    [{ a: { $exists: true } }, [{}, { a: null }, { a: [] }, { a: 0 }, undefined]],
    [{ a: { $lt: 5 } }, [{ a: 4 }, { a: "4" }, { a: [9, 3] }, { a: { b: 1 } }, { a: -Infinity }, { a: Number.NaN }]],
    [{ a: { $gte: "b", $lt: "d" } }, [{ a: "c" }, { a: "d" }, { a: 3 }, { a: ["a", "c"] }]],
    // Keys that exist on Object.prototype must not match through inheritance.
    [{ constructor: { $exists: true } }, [{}, { constructor: 1 }]],
    [{ toString: "x" }, [{}, { toString: "x" }]],
    [{ "a.b": 1 }, [{ a: { b: 1 } }, { a: [{ b: 2 }, { b: 1 }] }, { a: 1 }]],
  ];
  for (const [filter, payloads] of cases) {
    const node = parseFilter(filter);
    const compiled = compileFilter(node);
    for (const p of payloads)
      assert.equal(compiled(p), matches(node, p), `${JSON.stringify(filter)} on ${JSON.stringify(p)}`);
  }
  const proto = JSON.parse('{"__proto__": 3}') as Record<string, unknown>;
  const node = parseFilter(JSON.parse('{"__proto__": 3}') as Record<string, unknown>);
  assert.equal(compileFilter(node)(proto), matches(node, proto));
});
