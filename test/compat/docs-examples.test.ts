/**
 * The examples of docs/compat-qdrant.md and docs/compat-chroma.md run as written against a server
 * on 127.0.0.1 (its address and key given as QUIVER_URL / QUIVER_KEY, which the examples read), and
 * must print what their `// ` comment lines say, so the pages cannot drift from the code.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { ADMIN_KEY, startTestServer } from "../server/helpers.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const run = promisify(execFile);

/** The ```js <tag> block of a doc page, and the output its `// ` lines promise. */
function example(page: string, tag: string): { code: string; expected: string[] } {
  const text = readFileSync(join(ROOT, "docs", page), "utf8");
  const block = new RegExp(`\`\`\`js ${tag}\\n([\\s\\S]*?)\`\`\``).exec(text);
  assert.ok(block, `${page} has a ${tag} block`);
  const expected = block[1]
    .split("\n")
    .filter((l) => l.startsWith("// "))
    .map((l) => l.slice(3));
  assert.ok(expected.length > 0, `${page}'s example states its output`);
  return { code: block[1], expected };
}

for (const [page, tag] of [
  ["compat-qdrant.md", "qdrant-example"],
  ["compat-chroma.md", "chroma-example"],
] as const) {
  test(`${page}: the example runs and prints what it says`, async () => {
    const { code, expected } = example(page, tag);
    const s = await startTestServer();
    try {
      // Evaluated as a module from the repository root, so its imports resolve to the pinned packages.
      const { stdout } = await run(process.execPath, ["--input-type=module", "--eval", code], {
        cwd: ROOT,
        env: { ...process.env, QUIVER_URL: s.url, QUIVER_KEY: ADMIN_KEY },
      });
      const printed = stdout
        .trim()
        .split("\n")
        .filter((l) => !l.startsWith("No embedding function configuration"));
      assert.deepEqual(printed, expected);
    } finally {
      await s.close();
    }
  });
}
