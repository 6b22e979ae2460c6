/**
 * Soak: steady queries and upserts through the client against a real server on a real directory
 * (small WAL, so checkpoints and compactions run under load), over 20,000 records so the HNSW graph
 * is built and then updated in place, for 45 s by default (QUIVER_SOAK_SECONDS to change,
 * QUIVER_LONG=1 for 30 minutes). Passes with 0 errors, unfiltered queries answered by the graph,
 * and flat memory after warm-up: the JS heap (after forced GCs) within 24 MiB, and the WebAssembly
 * memories of the vectors and graph (which never shrink, so any leak shows) within 10%.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { NodeDirectory } from "../../src/index.js";
import { randomVector, rng } from "../support/brute.js";
import { startTestServer } from "./helpers.js";

const SECONDS = Number(process.env.QUIVER_SOAK_SECONDS ?? (process.env.QUIVER_LONG ? 1800 : 45));
const DIM = 64;
const IDS = 20_000;

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

function heapAfterGc(): number {
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

test(`soak: ${SECONDS} s of steady queries and upserts, 0 errors, flat memory`, async () => {
  const path = mkdtempSync(join(tmpdir(), "quiver-soak-"));
  const s = await startTestServer({
    dir: new NodeDirectory(path),
    dbOptions: { walMaxBytes: 2 << 20, maxSegments: 4 },
  });
  try {
    const c = await s.admin.createCollection("soak", {
      vectors: { v: { dim: DIM, metric: "cosine", index: { type: "hnsw" } } },
      indexes: { g: "number" },
    });
    const r = rng(11);
    for (let i = 0; i < IDS; i += 500) {
      await c.upsert(
        Array.from({ length: 500 }, (_, j) => ({
          id: `id-${i + j}`,
          vector: randomVector(r, DIM),
          payload: { g: (i + j) % 10 },
        })),
      );
    }
    // The vectors' and graph's WebAssembly memories, as the server reports them.
    const wasmBytes = async () => (await s.admin.stats()).collections.reduce((sum, x) => sum + x.vectorBytes, 0);
    const end = performance.now() + SECONDS * 1000;
    const warmAt = performance.now() + SECONDS * 250;
    let warmHeap = 0;
    let warmWasm = 0;
    const strategies = new Map<string, number>();
    const latencies: number[] = [];
    let queries = 0;
    let upserts = 0;
    let errors = 0;
    const errorSamples: string[] = [];
    const fail = (e: unknown) => {
      errors++;
      if (errorSamples.length < 5) errorSamples.push(String(e));
    };
    const queryLoop = async () => {
      while (performance.now() < end) {
        const t = performance.now();
        try {
          const res = await c.query({
            vector: randomVector(r, DIM),
            limit: 10,
            filter: r() < 0.3 ? { g: Math.floor(r() * 10) } : undefined,
          });
          if (res.hits.length !== 10) throw new Error(`expected 10 hits, got ${res.hits.length}`);
          strategies.set(res.plan.strategy, (strategies.get(res.plan.strategy) ?? 0) + 1);
          queries++;
        } catch (e) {
          fail(e);
        }
        latencies.push(performance.now() - t);
        if (latencies.length > 200_000) latencies.splice(0, 100_000);
      }
    };
    const upsertLoop = async () => {
      while (performance.now() < end) {
        try {
          const ids = new Set<number>();
          while (ids.size < 50) ids.add(Math.floor(r() * IDS));
          await c.upsert(
            [...ids].map((i) => ({
              id: `id-${i}`,
              vector: randomVector(r, DIM),
              payload: { g: i % 10, t: Date.now() },
            })),
          );
          upserts++;
        } catch (e) {
          fail(e);
        }
      }
    };
    const sampler = (async () => {
      while (performance.now() < warmAt) await new Promise((res) => setTimeout(res, 200));
      warmHeap = heapAfterGc();
      warmWasm = await wasmBytes();
    })();
    await Promise.all([queryLoop(), queryLoop(), queryLoop(), upsertLoop(), sampler]);
    const endHeap = heapAfterGc();
    const endWasm = await wasmBytes();
    latencies.sort((a, b) => a - b);
    const p = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))].toFixed(2);
    console.log(
      `# soak ${SECONDS}s: ${queries} queries (p50 ${p(0.5)} ms, p99 ${p(0.99)} ms), ${upserts} upsert batches of 50, ${errors} errors; heap after warm-up ${(warmHeap / 2 ** 20).toFixed(1)} MiB, at end ${(endHeap / 2 ** 20).toFixed(1)} MiB; ` +
        `WebAssembly ${(warmWasm / 2 ** 20).toFixed(1)} -> ${(endWasm / 2 ** 20).toFixed(1)} MiB; ` +
        `plans ${JSON.stringify(Object.fromEntries(strategies))}`,
    );
    assert.equal(errors, 0, errorSamples.join("\n"));
    assert.equal(await c.count(), IDS);
    assert.ok(queries > SECONDS * 20 && upserts > SECONDS, `steady load: ${queries} queries, ${upserts} upserts`);
    assert.ok(endHeap - warmHeap < 24 * 2 ** 20, `heap grew from ${warmHeap} to ${endHeap}`);
    assert.ok((strategies.get("hnsw") ?? 0) > queries / 2, "unfiltered queries are answered by the graph");
    assert.ok(warmWasm > 0 && endWasm <= warmWasm * 1.1, `WebAssembly memory grew from ${warmWasm} to ${endWasm}`);
  } finally {
    await s.close();
    rmSync(path, { recursive: true, force: true });
  }
});
