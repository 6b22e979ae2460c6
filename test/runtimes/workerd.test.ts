/**
 * workerd (the pinned `workerd` binary), twice. The example (examples/workerd/): build.mjs bundles the
 * worker and writes the two .wasm modules, then `workerd test` runs test-worker.js, which creates a
 * collection, upserts and queries (vector, text, hybrid) through the server app's fetch over a
 * service binding, and throws on a wrong answer. The shared suites (workerd-suite.ts: database
 * basics, memory directory conformance, API conformance through the app's fetch): bundled here by
 * esbuild with the browser's node:test stand-in, run by `workerd test`, each result reported as a
 * subtest. workerd refuses to compile WebAssembly from bytes, so both also check that the
 * precompiled modules reach open() (SIMD kernels, a real graph).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { copyFileSync, existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { browserShims } from "../browser/bundle-server.js";
import { HNSW_WASM_BASE64 } from "../../src/core/index/hnsw/hnsw-wasm.generated.js";
import { KERNELS_WASM_BASE64 } from "../../src/core/kernels/kernels-wasm.generated.js";
import type { BrowserTestResult } from "../browser/shims/node-test.js";
import { RESULT_MARK } from "./workerd-suite.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../../..");
const EXAMPLE = join(ROOT, "examples/workerd");
const WORKERD = join(ROOT, "node_modules/.bin/workerd");
const HERE = dirname(fileURLToPath(import.meta.url));
const SKIP = existsSync(WORKERD) ? false : "workerd is not installed (node_modules/.bin/workerd missing)";

function run(exe: string, args: string[], cwd: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(exe, args, { cwd, timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, out: stdout + stderr }),
    );
  });
}

test("workerd: the example worker serves create, upsert and vector/text/hybrid queries from the server app", {
  skip: SKIP,
}, async () => {
  const dir = await mkdtemp(join(tmpdir(), "quiver-workerd-"));
  try {
    const built = await run(process.execPath, [join(EXAMPLE, "build.mjs"), join(dir, "build")], EXAMPLE);
    assert.equal(built.code, 0, built.out);
    // config.capnp embeds build/ relative to itself: run a copy beside the fresh build.
    copyFileSync(join(EXAMPLE, "config.capnp"), join(dir, "config.capnp"));
    const { code, out } = await run(WORKERD, ["test", "config.capnp"], dir);
    assert.equal(code, 0, out);
    assert.match(out, /\[ PASS \] quiver-test/);
    for (const check of ["vector query", "vector plan", "text query", "hybrid query", "kernels", "no key"])
      assert.match(out, new RegExp(`ok ${check}:`), out);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

/** The suite's worker: the entry imports the .wasm files as modules (workerd compiles them) and passes them on. */
const SUITE_CONFIG = `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (services = [(name = "quiver-suite", worker = .suite)]);
const suite :Workerd.Worker = (
  modules = [
    (name = "suite.js", esModule = embed "suite.js"),
    (name = "kernels.wasm", wasm = embed "kernels.wasm"),
    (name = "hnsw.wasm", wasm = embed "hnsw.wasm"),
  ],
  compatibilityDate = "2026-11-01",
);
`;

test("workerd: database basics, directory conformance and the server app's fetch (shared suites)", {
  skip: SKIP,
}, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "quiver-workerd-suite-"));
  try {
    await build({
      stdin: {
        contents: [
          'import kernels from "./kernels.wasm";',
          'import hnsw from "./hnsw.wasm";',
          `import { workerdSuite } from ${JSON.stringify(join(HERE, "workerd-suite.js"))};`,
          "export default workerdSuite({ kernels, hnsw });",
        ].join("\n"),
        resolveDir: dir,
        sourcefile: "suite-entry.js",
      },
      outfile: join(dir, "suite.js"),
      bundle: true,
      format: "esm",
      platform: "neutral",
      target: "es2022",
      // Left as imports: workerd resolves them to the wasm modules SUITE_CONFIG declares.
      external: ["./kernels.wasm", "./hnsw.wasm"],
      logLevel: "silent",
      plugins: [browserShims],
    });
    await writeFile(join(dir, "kernels.wasm"), Buffer.from(KERNELS_WASM_BASE64, "base64"));
    await writeFile(join(dir, "hnsw.wasm"), Buffer.from(HNSW_WASM_BASE64, "base64"));
    await writeFile(join(dir, "config.capnp"), SUITE_CONFIG);
    const { code, out } = await run(WORKERD, ["test", "config.capnp"], dir);
    const results = out
      .split("\n")
      .filter((line) => line.includes(RESULT_MARK))
      .map((line) => JSON.parse(line.slice(line.indexOf(RESULT_MARK) + RESULT_MARK.length)) as BrowserTestResult);
    for (const r of results) {
      await t.test(r.name, () => {
        if (!r.ok) throw new Error(r.error);
      });
    }
    assert.equal(code, 0, out);
    // Each suite ran whole: a bundle that registered nothing would pass vacuously.
    for (const part of ["Directory conformance: memory (workerd)", "database basics: workerd", "[client -> server app"])
      assert.ok(results.filter((r) => r.name.includes(part)).length >= 5, `too few results for ${part}:\n${out}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
