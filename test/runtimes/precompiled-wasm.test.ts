/**
 * Hosts that forbid compiling WebAssembly from bytes (workerd, strict-CSP pages): open() must fail
 * with UNSUPPORTED naming the `wasm` option, and work with the modules passed in precompiled. Run in
 * a child process (precompiled-child.ts), since the modules are compiled once per process.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const CHILD = join(dirname(fileURLToPath(import.meta.url)), "precompiled-child.js");

test("where compiling WebAssembly is refused, open() is UNSUPPORTED naming `wasm`, and works with precompiled modules", async () => {
  const { stdout } = await promisify(execFile)(process.execPath, [CHILD], { timeout: 20_000 });
  const seen = JSON.parse(stdout.trim());
  assert.equal(seen.refused?.code, "UNSUPPORTED");
  assert.match(seen.refused.message, /disallowed by embedder/);
  assert.match(seen.refused.message, /wasm: \{ hnsw \}/);
  assert.equal(seen.nearest, "b");
  assert.equal(seen.kernels, "wasm-simd");
});
