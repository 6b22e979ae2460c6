/**
 * The architecture's rules, checked on the source: the core and the database import nothing from
 * Node or npm (so they run in browsers and edge workers), only adapters touch `node:*`, and every
 * source file opens with a purpose header.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const SRC = join(ROOT, "src");

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return name === "assembly" ? [] : sources(p);
    return p.endsWith(".ts") && !p.endsWith(".test.ts") && !p.endsWith(".generated.ts") ? [p] : [];
  });
}

/**
 * Folders allowed to import npm packages: the Node adapter, the command line, and the analyzers'
 * language resources (a stemmer and stop-word lists, pure JavaScript, injected into the core),
 * the MCP server (the official SDK) and embed/node (files, the optional local model, env config).
 */
const ADAPTERS = ["node", "cli", "analyzers", "mcp", "embed/node"];

test("the core, storage formats and database import neither node:* nor npm packages", () => {
  const offenders: string[] = [];
  const files = sources(SRC);
  assert.ok(files.length > 20, "found the sources");
  for (const file of files) {
    const rel = relative(SRC, file);
    if (ADAPTERS.some((a) => rel.startsWith(`${a}/`)) || rel === "index.ts") continue;
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*)["']([^"']+)["']/g)) {
      if (!m[1].startsWith(".")) offenders.push(`${rel} imports ${m[1]}`);
    }
    if (/^(?!\s*(\/\/|\*)).*(\bprocess\.|\brequire\(|\bBuffer\.)/m.test(text))
      offenders.push(`${rel} uses a Node global`);
  }
  assert.deepEqual(offenders, []);
});

test("the package's runtime dependencies are used only by the command line and the analyzers' language resources", () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { dependencies?: Record<string, string> };
  const deps = Object.keys(pkg.dependencies ?? {});
  const usedOutsideCli = sources(SRC)
    .filter(
      (f) =>
        !relative(SRC, f).startsWith("cli/") &&
        !relative(SRC, f).startsWith("analyzers/") &&
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
