/**
 * Hosts that forbid compiling WebAssembly from bytes (workerd, strict-CSP pages): open() still works,
 * scanning exactly with the scalar kernels and saying why (naming the `wasm` option) in stats(); with
 * the modules passed in precompiled it has SIMD and graphs. Run in a child process
 * (precompiled-child.ts), since the modules are compiled once per process.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const CHILD = join(dirname(fileURLToPath(import.meta.url)), "precompiled-child.js");

test("where compiling WebAssembly is refused, open() scans exactly and names `wasm`; precompiled modules give graphs", async () => {
  const { stdout } = await promisify(execFile)(process.execPath, [CHILD], { timeout: 20_000 });
  const { refused, precompiled } = JSON.parse(stdout.trim());
  assert.equal(refused.nearest, "b");
  assert.equal(refused.kernels, "scalar");
  assert.equal(refused.strategy, "exact-scan");
  assert.match(refused.hnswUnavailable, /disallowed by embedder/);
  assert.match(refused.hnswUnavailable, /wasm: \{ hnsw \}/);
  assert.equal(precompiled.nearest, "b");
  assert.equal(precompiled.kernels, "wasm-simd");
  assert.equal(precompiled.strategy, "hnsw");
  assert.equal(precompiled.hnswUnavailable, null);
});
