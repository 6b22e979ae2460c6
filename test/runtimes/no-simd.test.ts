/**
 * A runtime without WebAssembly SIMD (stubbed in a child process: no-simd-child.ts): open() works
 * in memory and on disk, with the scalar kernels and no graphs; every vector query is an exact scan
 * whose ids equal brute force, embedded and through the server app; BM25 and hybrid answer too;
 * stats(), the plan (vector and hybrid) and onWarning say why. A
 * database written with graphs opens there, and opens again with SIMD back, graph and answers intact.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { NO_SIMD_WORKLOAD as W, seededVectors } from "./no-simd-workload.js";

const CHILD = join(dirname(fileURLToPath(import.meta.url)), "no-simd-child.js");

/** Cosine top-k ids by brute force in f64 (ties are absent from random data at this size). */
function bruteForce(): string[][] {
  const norm = (v: Float32Array) => Math.hypot(...v);
  const records = seededVectors(W.count, W.dim, W.seed);
  return seededVectors(W.queries, W.dim, W.seed + 1).map((q) =>
    records
      .map((r, i) => ({ id: `r${i}`, s: r.reduce((acc, x, j) => acc + x * q[j], 0) / (norm(r) * norm(q)) }))
      .sort((a, b) => b.s - a.s)
      .slice(0, W.k)
      .map((h) => h.id),
  );
}

test("without WebAssembly SIMD, open() falls back to exact search with the scalar kernels, and says so", async () => {
  const { stdout } = await promisify(execFile)(process.execPath, [CHILD], { timeout: 60_000 });
  const seen = JSON.parse(stdout.trim().split("\n").pop()!);
  const expected = bruteForce();
  const lighthouseIds = Array.from({ length: W.count }, (_, i) => i)
    .filter((i) => i % 3 === 0)
    .map((i) => `r${i}`)
    .sort();
  assert.equal(seen.withSimd.index, "hnsw");
  for (const side of [seen.memory, seen.disk]) {
    assert.equal(side.kernels, "scalar");
    assert.match(side.hnswUnavailable, /SIMD/);
    assert.equal(side.index, "flat");
    assert.equal(side.plan.strategy, "exact-scan");
    assert.equal(side.plan.hnswUnavailable, side.hnswUnavailable);
    assert.equal(side.plan.ann, undefined);
    assert.equal(side.hybridPlan.strategy, "hybrid");
    assert.equal(side.hybridPlan.hnswUnavailable, side.hnswUnavailable);
    assert.deepEqual(side.vector, expected);
    assert.equal(side.hybridHits, W.k);
    // BM25 needs no WebAssembly: every record with the word, and only those.
    assert.deepEqual(side.text, lighthouseIds);
  }
  // Served over the server app: the same exact answer, and the plan says why.
  assert.equal(seen.http.status, 200);
  assert.deepEqual(seen.http.ids, expected[0]);
  assert.equal(seen.http.plan.hnswUnavailable, seen.memory.hnswUnavailable);
  // Once per open, not per collection or query.
  assert.equal(seen.warnings.length, 2);
  assert.match(seen.warnings[0], /SIMD.*exact/);
  // SIMD back: the graph is built again and nothing is reported missing.
  assert.equal(seen.reopened.kernels, "wasm-simd");
  assert.equal(seen.reopened.hnswUnavailable, null);
  assert.equal(seen.reopened.index, "hnsw");
  assert.equal(seen.reopened.plan.hnswUnavailable, undefined);
  // The record written without SIMD is there, and found by the rebuilt graph.
  assert.equal(seen.reopened.vector[0][0], "extra");
});
