/**
 * The framework integrations stay optional: nothing the package entry (`quiverdb`) or the client
 * (`quiverdb/client`) imports reaches LangChain or LlamaIndex, statically or at run time, and the
 * package exports each integration under its own subpath.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join, posix } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { importsOf } from "../support/layers.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const FRAMEWORKS = /^@langchain\/|^@llamaindex\/|^langchain$|^llamaindex$/;

/** Every npm package reachable from a source file through relative imports (static and dynamic). */
function packagesReachedFrom(entry: string): Set<string> {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const visit = (path: string) => {
    if (seen.has(path)) return;
    seen.add(path);
    for (const spec of importsOf(readFileSync(join(ROOT, "src", path), "utf8"))) {
      if (spec.startsWith(".")) visit(posix.normalize(posix.join(posix.dirname(path), spec)).replace(/\.js$/, ".ts"));
      else if (!spec.startsWith("node:")) packages.add(spec);
    }
  };
  visit(entry);
  return packages;
}

test("the package entry and the client import no framework, however deep", () => {
  for (const entry of ["index.ts", "client/index.ts"]) {
    const frameworks = [...packagesReachedFrom(entry)].filter((p) => FRAMEWORKS.test(p));
    assert.deepEqual(frameworks, [], `${entry} reaches ${frameworks.join(", ")}`);
  }
  // The check can fail: the integrations themselves do reach their framework.
  assert.ok([...packagesReachedFrom("integrations/langchain/index.ts")].some((p) => FRAMEWORKS.test(p)));
  assert.ok([...packagesReachedFrom("integrations/llamaindex/index.ts")].some((p) => FRAMEWORKS.test(p)));
});

/** Imports a module in a fresh Node with a resolve hook; returns the framework specifiers it asked for. */
function frameworksLoadedBy(file: string): string[] {
  const hook = `data:text/javascript,${encodeURIComponent(
    `export async function resolve(s, c, next) { if (/@langchain|@llamaindex/.test(s)) process.stderr.write("framework " + s + "\\n"); return next(s, c); }`,
  )}`;
  const register = `import { register } from "node:module"; register(${JSON.stringify(hook)});`;
  const url = pathToFileURL(join(ROOT, "dist", "src", file)).href;
  const child = spawnSync(
    process.execPath,
    [
      "--import",
      `data:text/javascript,${encodeURIComponent(register)}`,
      "--input-type=module",
      "-e",
      `await import(${JSON.stringify(url)}); process.stdout.write("loaded");`,
    ],
    { encoding: "utf8" },
  );
  assert.equal(child.stdout, "loaded", child.stderr);
  return [...child.stderr.matchAll(/^framework (.+)$/gm)].map((m) => m[1]);
}

test("importing quiverdb or quiverdb/client loads no framework module at run time", () => {
  assert.deepEqual(frameworksLoadedBy("index.js"), []);
  assert.deepEqual(frameworksLoadedBy("client/index.js"), []);
  // The hook does see them: the integration loads its framework.
  assert.ok(frameworksLoadedBy("integrations/langchain/index.js").includes("@langchain/core/vectorstores"));
});

test("package.json exports ./langchain and ./llamaindex, built where they point", () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
  for (const [subpath, dir] of [
    ["./langchain", "langchain"],
    ["./llamaindex", "llamaindex"],
  ]) {
    assert.deepEqual(pkg.exports[subpath], {
      types: `./dist/src/integrations/${dir}/index.d.ts`,
      default: `./dist/src/integrations/${dir}/index.js`,
    });
    readFileSync(join(ROOT, pkg.exports[subpath].default));
  }
});
