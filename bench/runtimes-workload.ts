// The runtimes bench's workload, free of node:* so the same code runs in every runtime (runtimes-child.ts
// under Node, Bun and Deno; runtimes-page.ts in Chromium; runtimes-workerd.ts in workerd): the given rows
// upserted into a fresh database with an HNSW vector in batches, then every query answered once (k = 10,
// default ef), both timed. The phases are exported apart for workerd, where the clock only advances
// across I/O: there each phase is its own request, timed from outside.

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

export interface WorkloadPhases {
  /** Upserts every row, in batches of 1,000. */
  upsert(): Promise<void>;
  /** Answers every query once; the ranked ids (row numbers). */
  query(): Promise<number[][]>;
  /** The kernels in use; closes the database. */
  finish(): Promise<string>;
}

/** Creates the collection and prepares the batches and query vectors (untimed); the timed phases. */
export async function prepareWorkload(
  db: OpenDatabase,
  base: Float32Array[],
  queries: Float32Array[],
  metric: "cosine" | "l2",
): Promise<WorkloadPhases> {
  const dim = base[0].length;
  const c = await db.createCollection("bench", { vectors: { v: { dim, metric, index: { type: "hnsw" } } } });
  const batches: { id: string; vector: number[] }[][] = [];
  for (let i = 0; i < base.length; i += BATCH)
    batches.push(base.slice(i, i + BATCH).map((v, j) => ({ id: String(i + j), vector: Array.from(v) })));
  const vectors = queries.map((q) => Array.from(q));
  return {
    async upsert() {
      for (const records of batches) await c.upsert(records);
    },
    async query() {
      const ids: number[][] = [];
      for (const vector of vectors) ids.push((await c.query({ vector, limit: K })).hits.map((h) => Number(h.id)));
      return ids;
    },
    async finish() {
      const { kernels } = await db.stats();
      await db.close();
      return kernels;
    },
  };
}

export async function runWorkload(
  db: OpenDatabase,
  base: Float32Array[],
  queries: Float32Array[],
  metric: "cosine" | "l2",
): Promise<WorkloadResult> {
  const phases = await prepareWorkload(db, base, queries, metric);
  const t0 = performance.now();
  await phases.upsert();
  const upsertMs = performance.now() - t0;
  const t1 = performance.now();
  const ids = await phases.query();
  const queryMs = performance.now() - t1;
  return {
    kernels: await phases.finish(),
    upsertsPerSec: (base.length / upsertMs) * 1000,
    queriesPerSec: (queries.length / queryMs) * 1000,
    ids,
  };
}
