/**
 * The runtime suites' failure report: a failed test's name and error must reach the head of the
 * message under each runner's output format (CI shows only the head of a long failure message).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { failureReport } from "../support/runtime-suite.js";

test("Deno: the ERRORS section (name, file and error) is reported, not the FAILURES list after it", () => {
  const out = [
    "running 2 tests from ./a.test.js",
    "one passes ... ok (1ms)",
    "two fails ... FAILED (3ms)",
    "",
    " ERRORS ",
    "",
    "two fails => ./a.test.js:4:1",
    "error: AssertionError: numbers differ",
    "",
    " FAILURES ",
    "",
    "two fails => ./a.test.js:4:1",
    "",
    "FAILED | 1 passed | 1 failed (10ms)",
  ].join("\n");
  const report = failureReport("deno", out);
  assert.equal(report[0].trim(), "ERRORS");
  assert.ok(report.includes("two fails => ./a.test.js:4:1"));
  assert.ok(report.includes("error: AssertionError: numbers differ"));
  assert.ok(!report.some((l) => l.includes("FAILURES")));
  assert.deepEqual(failureReport("deno", "one passes ... ok (1ms)\nok | 1 passed | 0 failed"), []);
});

test("Bun: each failed test once, with the error printed above its (fail) line, without JSON event lines", () => {
  const out = [
    "a.test.js:",
    'bun:test:run {"event":"start"}',
    "error: numbers differ",
    "(fail) two fails [3.00ms]",
    "(pass) one passes",
    " 1 pass",
    " 1 fail",
    "(fail) two fails [3.00ms]",
  ].join("\n");
  assert.deepEqual(failureReport("bun", out), ["a.test.js:", "error: numbers differ", "(fail) two fails [3.00ms]"]);
});
