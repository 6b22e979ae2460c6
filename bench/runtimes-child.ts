// One runtime's share of `npm run bench -- runtimes` (runtimes.ts runs it under Node, Bun and Deno):
// the first N base vectors of a data set upserted into an in-memory database with an HNSW vector,
// then every query answered once. Usage: <runtime> runtimes-child.js <data dir> <records> <queries>.
// Prints one JSON line: upserts/s, queries/s and the ranked ids (row numbers) of every query.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { open } from "../src/index.js";

const BATCH = 1_000;
const K = 10;

/** The first `n` rows of a row-major f32 file of `dim` columns. */
function readRows(path: string, dim: number, n: number): Float32Array[] {
  const b = readFileSync(path);
  const all = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
  const rows = Math.min(n, all.length / dim);
  return Array.from({ length: rows }, (_, i) => all.subarray(i * dim, (i + 1) * dim));
}

{
  const [dir, recordsArg, queriesArg] = process.argv.slice(2);
  const meta = JSON.parse(readFileSync(join(dir, "meta.json"), "utf8")) as { dim: number; metric: string };
  const metric = meta.metric === "l2" || meta.metric === "euclidean" ? "l2" : "cosine";
  const base = readRows(join(dir, "base.f32"), meta.dim, Number(recordsArg));
  const queries = readRows(join(dir, "query.f32"), meta.dim, Number(queriesArg));

  const db = await open();
  const c = await db.createCollection("bench", {
    vectors: { v: { dim: meta.dim, metric, index: { type: "hnsw" } } },
  });
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
  console.log(
    JSON.stringify({
      kernels,
      upsertsPerSec: (base.length / upsertMs) * 1000,
      queriesPerSec: (queries.length / queryMs) * 1000,
      ids,
    }),
  );
}
