/**
 * The README's examples, and those of the integration pages, are executed as written (only the
 * package's specifiers and the data directory are pointed at this checkout and a temp folder), so
 * the documentation cannot drift from the code.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

type ExportTarget = string | { [condition: string]: ExportTarget };

/** The file Node picks for an export target: the first of its conditions Node matches, recursively. */
function nodeTarget(target: ExportTarget): string | undefined {
  if (typeof target === "string") return target;
  for (const [condition, next] of Object.entries(target)) {
    if (["node", "import", "default"].includes(condition)) return nodeTarget(next);
  }
  return undefined;
}

/** Each package specifier the docs import, as the built file Node resolves it to in this checkout. */
function packageEntries(): [string, string][] {
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
    name: string;
    exports: Record<string, ExportTarget>;
  };
  return Object.entries(pkg.exports)
    .map(([subpath, target]): [string, string | undefined] => [subpath, nodeTarget(target)])
    .filter((e): e is [string, string] => e[1]?.endsWith(".js") === true)
    .map(([subpath, file]) => [
      subpath === "." ? pkg.name : `${pkg.name}/${subpath.slice(2)}`,
      pathToFileURL(join(ROOT, file)).href,
    ]);
}

/**
 * Runs a doc's ```js <tag> block as written, with the package's specifiers and its data folder
 * pointed here. It runs from a folder inside the checkout, so the other packages an example
 * imports (LangChain, LlamaIndex) resolve from this repository's node_modules.
 */
function runDocBlock(tag: string, dataDir: string, doc = "README.md"): string[] {
  const text = readFileSync(join(ROOT, doc), "utf8");
  const block = new RegExp(`\`\`\`js ${tag}\\n([\\s\\S]*?)\`\`\``).exec(text);
  assert.ok(block, `${doc} has a ${tag} block`);
  const dir = mkdtempSync(join(ROOT, "dist", `docs-${tag}-`));
  try {
    let code = block[1].replace(JSON.stringify(dataDir), JSON.stringify(join(dir, "data")));
    for (const [specifier, file] of packageEntries())
      code = code.replaceAll(`from ${JSON.stringify(specifier)}`, `from ${JSON.stringify(file)}`);
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
  const out = runDocBlock("quickstart", "./my-data");
  assert.equal(out.length, 1);
  assert.match(out[0], /^a1 0\.98\d* exact-filtered$/);
});

test("the README's AI example runs with the real local model and prints what its comments say", {
  timeout: 120_000,
}, () => {
  assert.deepEqual(runDocBlock("ai", "./ai-data"), ["install.md", "The door code is 4321."]);
});

test("docs/langchain.md's example runs and prints what the page says", () => {
  assert.deepEqual(runDocBlock("langchain", "./lc-data", "docs/langchain.md"), ["a2 storage", "a3 a2", "a3 a4", "3"]);
});

test("docs/llamaindex.md's example runs and prints what the page says", () => {
  assert.deepEqual(runDocBlock("llamaindex", "./li-data", "docs/llamaindex.md"), [
    "n1",
    "n3 Invoices are sent on the first of the month",
    "0",
  ]);
});
