/**
 * The runtime matrices (README's "Where it runs", docs/runtimes.md) name, in every cell, the tests
 * that back it: each name must be a test file under test/, so a renamed or deleted test cannot leave
 * a cell claiming coverage that no longer exists, and each runtime row must name at least one.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../../..");

function testNames(dir: string): Set<string> {
  const names = new Set<string>();
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) for (const n of testNames(p)) names.add(n);
    else if (name.endsWith(".test.ts")) names.add(basename(name, ".test.ts"));
  }
  return names;
}

/** The matrix's rows after `heading`: the runtime, and the code spans of its cells. */
function matrixRows(file: string, heading: string): { runtime: string; cited: string[] }[] {
  const text = readFileSync(join(ROOT, file), "utf8");
  const from = text.indexOf(heading);
  assert.ok(from >= 0, `${file} has "${heading}"`);
  const table = /\n(\|[^\n]*\n)+/.exec(text.slice(from))![0].trim().split("\n").slice(2);
  return table.map((row) => {
    const cells = row.split("|").slice(1, -1);
    const cited = cells.slice(1).flatMap((c) => [...c.matchAll(/`([\w-]+)(?:\.test)?`/g)].map((m) => m[1]));
    return { runtime: cells[0].trim(), cited };
  });
}

for (const [file, heading] of [
  ["README.md", "### Where it runs"],
  ["docs/runtimes.md", "# Runtimes"],
] as const) {
  test(`${file}: every test a runtime matrix cell names exists`, () => {
    const tests = testNames(join(ROOT, "test"));
    const rows = matrixRows(file, heading);
    assert.ok(rows.length >= 5, `${rows.length} rows`);
    for (const { runtime, cited } of rows) {
      // Words in code spans that are not test names: the app's method.
      const names = cited.filter((c) => c !== "fetch");
      assert.ok(names.length > 0, `${runtime}: no test named`);
      for (const n of names) assert.ok(tests.has(n), `${file}, ${runtime}: no test file ${n}.test.ts`);
    }
  });
}
