// The runtimes bench's workload, free of node:* so the same code runs in every runtime (runtimes-child.ts
// under Node, Bun and Deno; runtimes-page.ts in Chromium): the given rows upserted into a fresh database
// with an HNSW vector in batches, then every query answered once (k = 10, default ef), both timed.

import type { OpenDatabase } from "../src/open.js";

const BATCH = 1_000;
const K = 10;

export interface WorkloadResult {
  kernels: string;
  upsertsPerSec: number;
  queriesPerSec: number;
  /** Ranked ids (row numbers) of every query, compared across runtimes. */
  ids: number[][];
}

/** The first `n` rows of a row-major f32 buffer of `dim` columns. */
export function splitRows(bytes: ArrayBuffer, dim: number, n: number): Float32Array[] {
  const all = new Float32Array(bytes);
  const rows = Math.min(n, Math.floor(all.length / dim));
  return Array.from({ length: rows }, (_, i) => all.subarray(i * dim, (i + 1) * dim));
}

export async function runWorkload(
  db: OpenDatabase,
  base: Float32Array[],
  queries: Float32Array[],
  metric: "cosine" | "l2",
): Promise<WorkloadResult> {
  const dim = base[0].length;
  const c = await db.createCollection("bench", { vectors: { v: { dim, metric, index: { type: "hnsw" } } } });
  const batches = [];
  for (let i = 0; i < base.length; i += BATCH)
    batches.push(base.slice(i, i + BATCH).map((v, j) => ({ id: String(i + j), vector: Array.from(v) })));
  const t0 = performance.now();
  for (const records of batches) await c.upsert(records);
  const upsertMs = performance.now() - t0;

  const vectors = queries.map((q) => Array.from(q));
  const ids: number[][] = [];
  const t1 = performance.now();
  for (const vector of vectors) ids.push((await c.query({ vector, limit: K })).hits.map((h) => Number(h.id)));
  const queryMs = performance.now() - t1;
  const { kernels } = await db.stats();
  await db.close();
  return {
    kernels,
    upsertsPerSec: (base.length / upsertMs) * 1000,
    queriesPerSec: (queries.length / queryMs) * 1000,
    ids,
  };
}
