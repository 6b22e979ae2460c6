/**
 * A browser app built from the package as a consumer gets it (`quiverdb` resolved through its
 * exports with esbuild's browser conditions, no shims, no Node polyfills): the build fails on any
 * node:* import, the app runs in Chromium, and the gzip size of what a page loads up front stays
 * within the budget stated in the README. Stop-word lists and the HNSW module must load on demand.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, symlink, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { after, before, test } from "node:test";
import { build, type Metafile, type Plugin } from "esbuild";
import { launchChromium } from "../support/chromium.js";
import { serveFiles } from "./bundle-server.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

/** The budgets (gzip bytes of everything loaded before the app runs), also written in the README. */
export const BUDGET = { core: 63_000, browser: 69_000 };

const APPS: Record<string, string> = {
  // The runtime-neutral core only: an in-memory database, no analyzers' resources.
  core: `import { open } from "quiverdb/core";
const db = await open();
const c = await db.createCollection("docs", { vectors: { v: { dim: 3, metric: "cosine", index: { type: "hnsw" } } } });
await c.upsert([{ id: "a", vector: [1, 0, 0] }, { id: "b", vector: [0, 1, 0] }]);
globalThis.result = (await c.query({ vector: [1, 0.1, 0], limit: 1 })).hits[0].id;`,
  // The browser entry: persistent storage, English analysis, other languages on demand.
  browser: `import { open, loadStopWords } from "quiverdb";
const db = await open("bundle-app", { text: await loadStopWords(["fr"]) });
const c = await db.createCollection("docs", {
  vectors: { v: { dim: 3, metric: "cosine", index: { type: "hnsw" } } },
  text: { body: { analyzer: "english" }, corps: { analyzer: "standard", stopWords: "fr" } },
});
await c.upsert([
  { id: "a", vector: [1, 0, 0], payload: { body: "the running dogs", corps: "le chien" } },
  { id: "b", vector: [0, 1, 0], payload: { body: "a sleeping cat", corps: "un chat" } },
]);
const v = (await c.query({ vector: [1, 0.1, 0], limit: 1 })).hits[0].id;
const t = (await c.query({ text: "dog", limit: 1 })).hits[0].id;
const f = (await c.query({ text: { query: "le chat", fields: ["corps"] }, limit: 1 })).hits[0].id;
await db.close();
globalThis.result = v + t + f;`,
};

/** Refuses every node:* import: the browser bundle must need none (and get no polyfill). */
const noNode: Plugin = {
  name: "no-node-builtins",
  setup(b) {
    b.onResolve({ filter: /^node:/ }, (args) => ({ errors: [{ text: `${args.path} imported by ${args.importer}` }] }));
  },
};

let work: string;
let outputs: Map<string, Uint8Array>;
let meta: Metafile;

before(async () => {
  work = await mkdtemp(join(tmpdir(), "quiver-bundle-"));
  // A consumer's folder: the package linked in as node_modules/quiverdb.
  await mkdir(join(work, "node_modules"));
  await symlink(ROOT, join(work, "node_modules", "quiverdb"), "dir");
  for (const [name, code] of Object.entries(APPS)) await writeFile(join(work, `${name}.js`), code);
  const result = await build({
    absWorkingDir: work,
    entryPoints: Object.keys(APPS).map((n) => `./${n}.js`),
    bundle: true,
    splitting: true,
    minify: true,
    format: "esm",
    platform: "browser",
    target: "chrome120",
    outdir: join(work, "out"),
    write: false,
    metafile: true,
    logLevel: "silent",
    plugins: [noNode],
  });
  outputs = new Map(result.outputFiles.map((f) => [f.path.slice(join(work, "out").length), f.contents]));
  meta = result.metafile;
});

after(async () => {
  await rm(work, { recursive: true, force: true });
});

/** The outputs an entry loads before it runs: itself and its static imports, transitively. */
function upFront(entry: string): string[] {
  const seen = new Set<string>();
  const visit = (out: string) => {
    if (seen.has(out)) return;
    seen.add(out);
    for (const i of meta.outputs[out].imports) if (i.kind === "import-statement") visit(i.path);
  };
  const key = Object.keys(meta.outputs).find((o) => meta.outputs[o].entryPoint === `${entry}.js`);
  assert.ok(key, `no output for ${entry}`);
  visit(key);
  return [...seen];
}

const gzipOf = (files: string[]): number =>
  files.reduce((n, f) => n + gzipSync(outputs.get(`/${f.split("/").pop()}`) as Uint8Array, { level: 9 }).length, 0);

test("the browser build needs no node:* module, and both apps run in Chromium", async () => {
  const browser = await launchChromium();
  const server = await serveFiles(outputs, "/core.js");
  try {
    for (const [app, expected] of [
      ["core", "a"],
      ["browser", "aab"],
    ]) {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(String(e)));
      await page.goto(server.url);
      await page.evaluate((src) => import(src), `/${app}.js`);
      await page.waitForFunction(() => "result" in globalThis, undefined, { timeout: 15_000 });
      assert.equal(await page.evaluate(() => (globalThis as unknown as { result: string }).result), expected);
      assert.deepEqual(errors, []);
      await page.close();
    }
  } finally {
    await browser.close();
    await server.close();
  }
});

test("stop-word lists and the HNSW module are chunks loaded on demand, not part of the up-front bundle", () => {
  const base = upFront("browser").map((f) => new TextDecoder().decode(outputs.get(`/${f.split("/").pop()}`)));
  const lazy = Object.keys(meta.outputs).filter((o) => o.endsWith(".js") && !upFront("browser").includes(o));
  // 60 stop-word lists (one chunk each, or shared) plus the HNSW module's base64.
  assert.ok(lazy.length >= 30, `only ${lazy.length} chunks load on demand`);
  assert.ok(!base.some((code) => code.includes('"aber"')), "German stop words are in the up-front bundle");
  const hnswChunk = Object.keys(meta.outputs).find((o) =>
    Object.keys(meta.outputs[o].inputs).some((i) => i.endsWith("hnsw-wasm.generated.js")),
  );
  assert.ok(hnswChunk && !upFront("browser").includes(hnswChunk), "the HNSW module is loaded up front");
});

test("quiverdb/core bundles no npm package: only the package's own files", () => {
  const inputs = upFront("core").flatMap((o) => Object.keys(meta.outputs[o].inputs));
  assert.ok(inputs.length > 20);
  // The package itself is resolved to its real path; anything under a node_modules is a dependency.
  assert.deepEqual(
    inputs.filter((i) => i.includes("node_modules/")),
    [],
  );
  assert.ok(
    upFront("browser")
      .flatMap((o) => Object.keys(meta.outputs[o].inputs))
      .some((i) => i.includes("node_modules/stemmer/")),
    "the check cannot see dependencies: the browser entry's stemmer is not found either",
  );
});

test("gzip sizes within the budget the README states", async (t) => {
  const sizes = { core: gzipOf(upFront("core")), browser: gzipOf(upFront("browser")) };
  t.diagnostic(`gzip up front: core ${sizes.core} B, browser entry ${sizes.browser} B`);
  assert.ok(sizes.core <= BUDGET.core, `core bundle ${sizes.core} B > budget ${BUDGET.core} B`);
  assert.ok(sizes.browser <= BUDGET.browser, `browser bundle ${sizes.browser} B > budget ${BUDGET.browser} B`);
  const readme = await readFile(join(ROOT, "README.md"), "utf8");
  for (const budget of Object.values(BUDGET)) {
    assert.ok(readme.includes(`${budget / 1000} KB`), `the README does not state the ${budget / 1000} KB budget`);
  }
});
