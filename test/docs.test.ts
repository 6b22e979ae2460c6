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

/** Runs the README's ```js <tag> block as written, with the package and its data folder pointed here. */
function runReadmeBlock(tag: string, dataDir: string): string[] {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const block = new RegExp(`\`\`\`js ${tag}\\n([\\s\\S]*?)\`\`\``).exec(readme);
  assert.ok(block, `README has a ${tag} block`);
  const dir = mkdtempSync(join(tmpdir(), `quiver-readme-${tag}-`));
  try {
    const entry = pathToFileURL(join(ROOT, "dist", "src", "index.js")).href;
    const code = block[1]
      .replace(`from "quiverdb"`, `from ${JSON.stringify(entry)}`)
      .replace(JSON.stringify(dataDir), JSON.stringify(join(dir, "data")));
    const file = join(dir, `${tag}.mjs`);
    writeFileSync(file, code);
    const run = () => execFileSync(process.execPath, [file], { encoding: "utf8" }).trim().split("\n");
    const first = run();
    // Run it again on the same folder: the examples must be repeatable (ifNotExists, upsert).
    assert.deepEqual(run(), first, "a second run prints the same");
    return first;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("the README quickstart runs and prints what its comments say", () => {
  const out = runReadmeBlock("quickstart", "./my-data");
  assert.equal(out.length, 1);
  assert.match(out[0], /^a1 0\.98\d* exact-filtered$/);
});

test("the README's AI example runs with the real local model and prints what its comments say", {
  timeout: 120_000,
}, () => {
  assert.deepEqual(runReadmeBlock("ai", "./ai-data"), ["install.md", "The door code is 4321."]);
});
