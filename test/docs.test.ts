/**
 * The README's quickstart is executed as written (only the package name and data directory are
 * pointed at this checkout and a temp folder), so the documentation cannot drift from the code.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

test("the README quickstart runs and prints what its comments say", () => {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const block = /```js quickstart\n([\s\S]*?)```/.exec(readme);
  assert.ok(block, "README has a quickstart block");
  const dir = mkdtempSync(join(tmpdir(), "quiver-readme-"));
  try {
    const entry = pathToFileURL(join(ROOT, "dist", "src", "index.js")).href;
    const code = block[1].replace(`from "quiver"`, `from ${JSON.stringify(entry)}`).replace(`"./my-data"`, JSON.stringify(join(dir, "data")));
    const file = join(dir, "quickstart.mjs");
    writeFileSync(file, code);
    const run = () => execFileSync(process.execPath, [file], { encoding: "utf8" }).trim();
    const out = run();
    assert.match(out, /^a1 0\.98\d* exact-filtered$/);
    // Run it again on the same directory: ifNotExists and upsert make it repeatable.
    assert.match(run(), /^a1 0\.98\d* exact-filtered$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the README's AI example runs with the real local model and prints what its comments say", { timeout: 120_000 }, () => {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const block = /```js ai\n([\s\S]*?)```/.exec(readme);
  assert.ok(block, "README has an AI example block");
  const dir = mkdtempSync(join(tmpdir(), "quiver-readme-ai-"));
  try {
    const entry = pathToFileURL(join(ROOT, "dist", "src", "index.js")).href;
    const code = block[1].replace(`from "quiver"`, `from ${JSON.stringify(entry)}`).replace(`"./ai-data"`, JSON.stringify(join(dir, "data")));
    const file = join(dir, "ai.mjs");
    writeFileSync(file, code);
    const out = execFileSync(process.execPath, [file], { encoding: "utf8" }).trim().split("\n");
    assert.deepEqual(out, ["install.md", "The door code is 4321."]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
