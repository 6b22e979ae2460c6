/**
 * Tests for locating payloads in a segment's JSON array: every object found exactly (strings with
 * braces, brackets, escaped quotes and non-ASCII text, nesting, whitespace), and any other shape or
 * count refused as CORRUPT; format-1 texts located the same way.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { isQuiverError } from "../core/errors/errors.js";
import { locatePayloads, payloadsByEnds, payloadTextsOf } from "./payload-texts.js";

const objects = [
  {},
  { a: 1, b: "x" },
  { s: 'br}ace{ "quoted" \\ back]slash[ ,', t: ["{", "}", { u: [[], {}] }] },
  { n: null, e: "é✓😀", deep: { x: [1, { y: "}" }] } },
];

test("every object of the array is located, in any spacing", () => {
  const texts = [
    JSON.stringify(objects),
    JSON.stringify(objects, null, 2),
    ` \n[ ${objects.map((o) => JSON.stringify(o)).join(" ,\n ")} ] \n`,
  ];
  for (const text of texts) {
    const t = locatePayloads(text, objects.length, "p");
    assert.deepEqual(
      objects.map((_, i) => JSON.parse(t.text.slice(t.starts[i], t.ends[i]))),
      objects,
    );
  }
  assert.deepEqual(locatePayloads("[]", 0, "p").starts, new Uint32Array(0));
  const v1 = payloadTextsOf(objects.map((o) => JSON.stringify(o)));
  assert.deepEqual(JSON.parse(v1.text), objects);
  assert.deepEqual(
    objects.map((_, i) => JSON.parse(v1.text.slice(v1.starts[i], v1.ends[i]))),
    objects,
  );
});

test("other shapes and counts are CORRUPT", () => {
  const cases: [string, number][] = [
    ["[{}]", 2],
    ["[{},{}]", 1],
    ["[{}", 1],
    ['[{"a":"}]', 1],
    ["{}", 1],
    ["[1]", 1],
    ["[{},]", 1],
    ["[,{}]", 1],
    ["[{}{}]", 2],
    ["[{}] x", 1],
    ["[[]]", 1],
    ['[{"a":[}]', 1],
    ["", 0],
  ];
  for (const [text, count] of cases) {
    assert.throws(
      () => locatePayloads(text, count, "seg block payloads"),
      (e) => isQuiverError(e, "CORRUPT") && /seg block payloads: expected a JSON array/.test(e.message),
      text,
    );
  }
});

test("payloads located by their ends are the same; ends that do not fit the text are CORRUPT", () => {
  const text = JSON.stringify(objects);
  const scanned = locatePayloads(text, objects.length, "p");
  assert.deepEqual(payloadsByEnds(text, scanned.ends, "p"), scanned);
  assert.deepEqual(payloadsByEnds("[]", new Uint32Array(0), "p").starts, new Uint32Array(0));
  const wrong: [string, number[]][] = [
    [text, [...scanned.ends].map((e, i) => (i === 1 ? e - 1 : e))],
    [text, [...scanned.ends].slice(0, -1)],
    [text, [...scanned.ends, scanned.ends[3] + 3]],
    [`${text} `, [...scanned.ends]],
    ["[{}]", [2, 3]],
    ["[{}]", []],
    ["[]", [1]],
  ];
  for (const [t, ends] of wrong) {
    assert.throws(
      () => payloadsByEnds(t, Uint32Array.from(ends), "seg block payloads"),
      (e) => isQuiverError(e, "CORRUPT") && /seg block payloads: /.test(e.message),
      `${t} ${ends}`,
    );
  }
});
