/**
 * The workerd example (examples/workerd/) under the pinned `workerd` binary: build.mjs bundles the
 * worker and writes the two .wasm modules, then `workerd test` runs test-worker.js, which creates a
 * collection, upserts and queries (vector, text, hybrid) through the server app's fetch over a
 * service binding, and throws on a wrong answer. workerd refuses to compile WebAssembly from bytes,
 * so this also checks that the precompiled modules reach open() (SIMD kernels, a real graph).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { copyFileSync, existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../../..");
const EXAMPLE = join(ROOT, "examples/workerd");
const WORKERD = join(ROOT, "node_modules/.bin/workerd");

function run(exe: string, args: string[], cwd: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(exe, args, { cwd, timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, out: stdout + stderr }),
    );
  });
}

test("workerd: the example worker serves create, upsert and vector/text/hybrid queries from the server app", {
  skip: existsSync(WORKERD) ? false : "workerd is not installed (node_modules/.bin/workerd missing)",
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
