/**
 * The architecture's rules, checked on the source: every import of every file under src/ follows
 * the layer table (test/support/layers.ts, ARCHITECTURE.md "What each layer may touch"), so the
 * core and the database import nothing from Node or npm (they run in browsers and edge workers);
 * the database's files import each other without cycles; and every source file opens with a
 * purpose header.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, dirname, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { checkLayers, importsOf, LAYERS, layerOf, type SourceFile } from "./support/layers.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const SRC = join(ROOT, "src");

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return name === "assembly" ? [] : sources(p);
    return p.endsWith(".ts") && !p.endsWith(".test.ts") && !p.endsWith(".generated.ts") ? [p] : [];
  });
}

function sourceFiles(): SourceFile[] {
  return sources(SRC).map((f) => ({ path: relative(SRC, f).split(sep).join("/"), text: readFileSync(f, "utf8") }));
}

test("every import of every source file follows the layer table", () => {
  const files = sourceFiles();
  assert.ok(files.length > 100, "found the sources");
  assert.ok(files.reduce((n, f) => n + importsOf(f.text).length, 0) > 300, "found the imports");
  assert.deepEqual(checkLayers(files), []);
});

test("the checker reports a wrong import in every import form, unplaced folders and cycles", () => {
  const wrong = checkLayers([
    { path: "core/query/x.ts", text: 'import { Database } from "../../database/database.js";' },
    {
      path: "core/y.ts",
      text: 'export { open } from "../index.js";\nconst m = await import("../node/fs-directory.js");',
    },
    { path: "core/z.ts", text: 'import type {\n  Hit,\n} from "../api/query.js";\nimport "fast-check";' },
    { path: "database/a.ts", text: 'import { readFileSync } from "node:fs";\nimport { b } from "./b.js";' },
    {
      path: "database/b.ts",
      text: 'import { a } from "./a.js";\nimport { EmbedderRegistry } from "../embed/bind.js";',
    },
    { path: "newfolder/c.ts", text: "export const c = 1;" },
    { path: "api/d.ts", text: 'import type { DatabaseStats } from "../database/database.js";' },
  ]);
  const expected = [
    "core/query/x.ts: imports ../../database/database.js, but core may not import database",
    "core/y.ts: imports ../index.js, but core may not import .",
    "core/y.ts: imports ../node/fs-directory.js, but core may not import node",
    "core/z.ts: imports ../api/query.js, but core may not import api",
    "core/z.ts: imports the package fast-check, but core may not import npm",
    "database/a.ts: imports node:fs, but database may not import node:*",
    "database/b.ts: imports ../embed/bind.js, but database may not import embed",
    "newfolder/c.ts: its folder is not in the layer table (test/support/layers.ts)",
    "api/d.ts: imports ../database/database.js, but api may not import database",
    "database/a.ts: import cycle database/a.ts -> database/b.ts -> database/a.ts",
  ];
  assert.deepEqual([...wrong].sort(), [...expected].sort());
  // Comments are not imports; an allowed import is not reported.
  assert.deepEqual(
    checkLayers([
      {
        path: "database/e.ts",
        text: '/** import { x } from "node:fs" */\n// import "y"\nimport { QuiverError } from "../core/errors/errors.js";',
      },
    ]),
    [],
  );
});

test("ARCHITECTURE.md's layer table names every layer of the checked table", () => {
  const doc = readFileSync(join(ROOT, "ARCHITECTURE.md"), "utf8");
  const section = doc.slice(doc.indexOf("## What each layer may touch"), doc.indexOf("## Two kinds of ids"));
  const missing = Object.keys(LAYERS).filter((layer) => layer !== "." && !section.includes(`\`${layer}/\``));
  assert.deepEqual(missing, []);
});

test("no source outside the Node adapters uses a Node global", () => {
  const offenders = sourceFiles()
    .filter((f) => !LAYERS[layerOf(f.path) ?? ""]?.node)
    .filter((f) => /^(?!\s*(\/\/|\*)).*(\bprocess\.|\brequire\(|\bBuffer\.)/m.test(f.text))
    .map((f) => f.path);
  assert.deepEqual(offenders, []);
});

test("the package's runtime dependencies are used only by the command line, MCP, the embed adapters (image decoding) and the analyzers' language resources", () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { dependencies?: Record<string, string> };
  const deps = Object.keys(pkg.dependencies ?? {});
  const usedOutsideCli = sources(SRC)
    .filter(
      (f) =>
        !relative(SRC, f).startsWith("cli/") &&
        !relative(SRC, f).startsWith("analyzers/") &&
        !relative(SRC, f).startsWith("embed/node/") &&
        !relative(SRC, f).startsWith("embed/portable/") &&
        !relative(SRC, f).startsWith("mcp/"),
    )
    .flatMap((f) =>
      deps.filter((d) => readFileSync(f, "utf8").includes(`"${d}"`)).map((d) => `${relative(SRC, f)}: ${d}`),
    );
  assert.deepEqual(usedOutsideCli, []);
});

test("every source file starts with a purpose header", () => {
  const missing = sources(SRC).filter((f) => !/^(#!.*\n)?\s*(\/\*\*|\/\/)/.test(readFileSync(f, "utf8")));
  assert.deepEqual(
    missing.map((f) => relative(SRC, f)),
    [],
  );
});
