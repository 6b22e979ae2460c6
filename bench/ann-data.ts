// Data for the ANN benchmark: reads a folder in the shared vector format (base.f32, query.f32, gt.i32,
// gt_dist.f32, meta.json) or an IR use512/ folder (corpus.use512.f32, queries.use512.f32, no ground
// truth), computes exact ground truth by brute force in float64 when it is missing, and scores recall@k
// with ties at rank k counted as hits.

import { existsSync, readFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";

export type BenchMetric = "cosine" | "l2";

export interface AnnDataset {
  name: string;
  dim: number;
  metric: BenchMetric;
  n: number;
  base: Float32Array;
  queries: Float32Array[];
  /** Per query: ids at distance ≤ the 10th nearest's (ties included). */
  truth: Set<number>[];
}

export const K = 10;
const GT_DEPTH = 100;

function readF32(path: string): Float32Array {
  const b = readFileSync(path);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

function readI32(path: string): Int32Array {
  const b = readFileSync(path);
  return new Int32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

export function loadAnnDataset(dir: string): AnnDataset {
  const folder = resolve(dir);
  const has = (f: string): boolean => existsSync(join(folder, f));
  let basePath: string;
  let queryPath: string;
  let dim: number;
  let metric: BenchMetric;
  let name = basename(folder);
  if (has("base.f32")) {
    const meta = JSON.parse(readFileSync(join(folder, "meta.json"), "utf8")) as { dim: number; metric: string };
    basePath = join(folder, "base.f32");
    queryPath = join(folder, "query.f32");
    dim = meta.dim;
    metric = meta.metric === "l2" || meta.metric === "euclidean" ? "l2" : "cosine";
  } else if (has("corpus.use512.f32")) {
    basePath = join(folder, "corpus.use512.f32");
    queryPath = join(folder, "queries.use512.f32");
    dim = 512;
    metric = "cosine";
    name = `${basename(dirname(folder))}/${basename(folder)}`;
  } else {
    throw new Error(`${folder}: neither base.f32 nor corpus.use512.f32`);
  }
  const base = readF32(basePath);
  const q = readF32(queryPath);
  const n = base.length / dim;
  const queries = Array.from({ length: q.length / dim }, (_, i) => q.slice(i * dim, (i + 1) * dim));
  let truth: Set<number>[];
  if (has("gt.i32") && has("gt_dist.f32")) {
    const gt = readI32(join(folder, "gt.i32"));
    const gd = readF32(join(folder, "gt_dist.f32"));
    const depth = gt.length / queries.length;
    truth = queries.map((_, i) =>
      tiesSet(gt.subarray(i * depth, (i + 1) * depth), gd.subarray(i * depth, (i + 1) * depth)),
    );
  } else {
    truth = queries.map((qv) => bruteForce(base, n, dim, metric, qv, null));
  }
  return { name, dim, metric, n, base, queries, truth };
}

/** Ids whose distance is within a float tolerance of the k-th smallest (rank ties count as hits). */
function tiesSet(ids: ArrayLike<number>, dists: ArrayLike<number>): Set<number> {
  const limit = dists[K - 1] + 1e-6 * Math.max(1, Math.abs(dists[K - 1]));
  const out = new Set<number>();
  for (let j = 0; j < ids.length; j++) if (j < K || dists[j] <= limit) out.add(ids[j]);
  return out;
}

/**
 * Exact top-k (with ties) in float64, restricted to `allowed` rows when given: the independent oracle
 * for data sets without ground truth and for filtered queries.
 */
export function bruteForce(
  base: Float32Array,
  n: number,
  dim: number,
  metric: BenchMetric,
  q: Float32Array,
  allowed: Uint8Array | null,
): Set<number> {
  let qn = 0;
  for (let j = 0; j < dim; j++) qn += q[j] * q[j];
  qn = Math.sqrt(qn) || 1;
  const ids: number[] = [];
  const dists: number[] = [];
  for (let i = 0; i < n; i++) {
    if (allowed !== null && allowed[i] === 0) continue;
    const o = i * dim;
    let d = 0;
    if (metric === "l2") {
      for (let j = 0; j < dim; j++) {
        const t = base[o + j] - q[j];
        d += t * t;
      }
      d = Math.sqrt(d);
    } else {
      let dot = 0;
      let bn = 0;
      for (let j = 0; j < dim; j++) {
        dot += base[o + j] * q[j];
        bn += base[o + j] * base[o + j];
      }
      d = 1 - dot / ((Math.sqrt(bn) || 1) * qn);
    }
    ids.push(i);
    dists.push(d);
  }
  const order = ids
    .map((_, i) => i)
    .sort((a, b) => dists[a] - dists[b] || ids[a] - ids[b])
    .slice(0, GT_DEPTH);
  return tiesSet(
    order.map((i) => ids[i]),
    order.map((i) => dists[i]),
  );
}

/** recall@k: hits among the first k results, each counted once, over k per query. */
export function recallOf(results: ArrayLike<number>[], truth: Set<number>[]): number {
  let hits = 0;
  let total = 0;
  for (let i = 0; i < truth.length; i++) {
    const want = Math.min(K, truth[i].size);
    const seen = new Set<number>();
    const r = results[i];
    for (let j = 0; j < Math.min(K, r.length); j++) if (truth[i].has(r[j]) && !seen.has(r[j])) seen.add(r[j]);
    hits += Math.min(want, seen.size);
    total += want;
  }
  return total === 0 ? 1 : hits / total;
}
