// The catalog is the one source of statuses and kinds: every code has both, and they agree.

import { test } from "node:test";
import assert from "node:assert/strict";
import { ERROR_CATALOG, type ErrorCode, QuiverError } from "./errors.js";

const CODES = Object.keys(ERROR_CATALOG) as ErrorCode[];

test("every code has a kind, an HTTP error status that matches it, and a summary", () => {
  for (const code of CODES) {
    const { kind, status, summary } = ERROR_CATALOG[code];
    assert.ok(kind === "user" || kind === "system", `${code}: kind ${kind}`);
    assert.ok(Number.isInteger(status), `${code}: status ${status}`);
    // A user error is the caller's to fix (4xx); a system error is ours or the environment's (5xx).
    const expected = kind === "user" ? [400, 499] : [500, 599];
    assert.ok(status >= expected[0] && status <= expected[1], `${code}: ${kind} error with status ${status}`);
    assert.ok(summary.length > 10 && summary.endsWith("."), `${code}: summary "${summary}"`);
  }
});

test("a QuiverError's kind and httpStatus come from the catalog, and its JSON carries code and problems", () => {
  for (const code of CODES) {
    const problems = [{ path: "a.b", message: "is wrong" }];
    const e = QuiverError.fromProblems(code, problems);
    assert.equal(e.kind, ERROR_CATALOG[code].kind);
    assert.equal(e.httpStatus, ERROR_CATALOG[code].status);
    assert.deepEqual(JSON.parse(JSON.stringify(e)), { code, message: "a.b: is wrong", problems });
  }
});
