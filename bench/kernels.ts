// Kernel benchmark: exact top-10 L2 scan of 100,000 vectors, comparing a plain TypeScript loop (what a
// user would write) with Quiver's scalar reference and its WebAssembly SIMD kernels, both via flatSearch.

import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { loadKernelFactory } from "../src/core/kernels/load.js";
import { scalarKernelFactory } from "../src/core/kernels/scalar.js";
import type { KernelFactory } from "../src/core/kernels/kernels.js";
import { VectorSlab } from "../src/core/vectors/slab.js";
import { flatSearch } from "../src/core/index/flat/flat-search.js";
import { open } from "../src/index.js";
import { median } from "./median.js";
import { seededRandom } from "../src/core/util/prng.js";

export interface KernelBenchOptions {
  /** A folder with base.f32 / query.f32 (and meta.json); defaults to the shared SIFT sample. */
  data?: string;
  json?: boolean;
  repeats?: number;
}

const N = 100_000;
const DEFAULT_DIM = 128;
const QUERIES = 20;
const K = 10;
const DEFAULT_DATA = "../shared/data/sift-128-euclidean-ngt5k";

interface Dataset {
  label: string;
  dim: number;
  base: Float32Array;
  queries: Float32Array[];
}

function readF32(path: string): Float32Array {
  const b = readFileSync(path);
  // Copied so the view is 4-byte aligned whatever offset Node's buffer pool gave the file.
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/** Loads the folder (tiling its base rows up to N) or, when it is absent, seeded random data. */
function loadDataset(dir: string | undefined): Dataset {
  const folder = resolve(dir ?? DEFAULT_DATA);
  if (existsSync(join(folder, "base.f32")) && existsSync(join(folder, "query.f32"))) {
    const meta = existsSync(join(folder, "meta.json"))
      ? JSON.parse(readFileSync(join(folder, "meta.json"), "utf8"))
      : {};
    const dim: number = meta.dim ?? DEFAULT_DIM;
    const src = readF32(join(folder, "base.f32"));
    const rows = Math.floor(src.length / dim);
    const base = new Float32Array(N * dim);
    for (let i = 0; i < N; i += rows) base.set(src.subarray(0, Math.min(rows, N - i) * dim), i * dim);
    const q = readF32(join(folder, "query.f32"));
    const nq = Math.min(QUERIES, Math.floor(q.length / dim));
    const queries = Array.from({ length: nq }, (_, i) => q.slice(i * dim, (i + 1) * dim));
    return { label: `${folder} (${rows} rows tiled to ${N})`, dim, base, queries };
  }
  if (dir !== undefined) throw new Error(`no base.f32/query.f32 in ${folder}`);
  const rand = seededRandom(42);
  const dim = DEFAULT_DIM;
  const base = Float32Array.from({ length: N * dim }, rand);
  const queries = Array.from({ length: QUERIES }, () => Float32Array.from({ length: dim }, rand));
  return { label: `seeded random ${N}×${dim}`, dim, base, queries };
}

/** The baseline: the straightforward loop over one Float32Array with a small sorted top-k list. */
function plainTopK(base: Float32Array, n: number, dim: number, q: Float32Array, k: number): number[] {
  const dist: number[] = [];
  const idx: number[] = [];
  for (let i = 0; i < n; i++) {
    const off = i * dim;
    let d = 0;
    for (let j = 0; j < dim; j++) {
      const t = base[off + j] - q[j];
      d += t * t;
    }
    if (dist.length < k || d < dist[dist.length - 1]) {
      let p = dist.length < k ? dist.length : k - 1;
      while (p > 0 && dist[p - 1] > d) {
        dist[p] = dist[p - 1];
        idx[p] = idx[p - 1];
        p--;
      }
      dist[p] = d;
      idx[p] = i;
    }
  }
  return idx;
}

interface Engine {
  name: string;
  search(q: Float32Array): number[] | Promise<number[]>;
}

/**
 * The whole public path: an in-memory database, `upsert`, then `collection.query` (validation, plan, output),
 * held to the exact scan this bench measures: the collection's index is `flat` and each query asks `exact: true`
 * (at 100,000 records the default index would be the HNSW graph, a different and approximate search).
 */
async function databaseEngine(data: Dataset): Promise<Engine> {
  const db = await open();
  const c = await db.createCollection("bench", {
    vectors: { v: { dim: data.dim, metric: "l2", index: { type: "flat" } } },
  });
  for (let i = 0; i < N; i += 5000) {
    const batch = [];
    for (let s = i; s < Math.min(N, i + 5000); s++)
      batch.push({ id: String(s), vector: data.base.subarray(s * data.dim, (s + 1) * data.dim) });
    await c.upsert(batch);
  }
  return {
    name: "quiver query() exact",
    async search(q) {
      const { hits, plan } = await c.query({ vector: q, limit: K, exact: true, withPayload: false });
      // The row's label is a promise: fail rather than time another plan under it.
      if (plan.strategy !== "exact-scan") throw new Error(`query() ran ${plan.strategy}, not an exact scan`);
      return hits.map((h) => Number(h.id));
    },
  };
}

function quiverEngine(name: string, factory: KernelFactory, data: Dataset): Engine {
  const slab = new VectorSlab(factory, data.dim, "l2");
  slab.ensureCapacity(N);
  for (let s = 0; s < N; s++) slab.set(s, data.base.subarray(s * data.dim, (s + 1) * data.dim));
  const live = new Uint8Array(N).fill(1);
  return { name, search: (q) => flatSearch(slab, q, K, { count: N, live }).slots };
}

export async function runKernelBench(opts: KernelBenchOptions): Promise<void> {
  const repeats = Math.max(1, opts.repeats ?? 5);
  const data = loadDataset(opts.data);
  const simd = await loadKernelFactory();
  const engines: Engine[] = [
    { name: "plain TS loop", search: (q) => plainTopK(data.base, N, data.dim, q, K) },
    quiverEngine("quiver scalar", scalarKernelFactory, data),
    quiverEngine(`quiver ${simd.name}`, simd, data),
    await databaseEngine(data),
  ];

  // Warm-up lets the JIT optimise every engine before timing; it also checks they agree.
  const reference: string[] = [];
  for (const q of data.queries) reference.push((await engines[0].search(q)).join());
  const agree: number[] = [];
  for (const e of engines) {
    let same = 0;
    for (let i = 0; i < data.queries.length; i++) if ((await e.search(data.queries[i])).join() === reference[i]) same++;
    agree.push(same);
  }

  const times: number[][] = engines.map(() => []);
  for (let r = 0; r < repeats; r++) {
    // Engines alternate within each repeat so clock or thermal drift hits all of them alike.
    for (let i = 0; i < engines.length; i++) {
      const t0 = performance.now();
      for (const q of data.queries) await engines[i].search(q);
      times[i].push((performance.now() - t0) / data.queries.length);
    }
  }

  const bytes = N * data.dim * 4;
  const rows = engines.map((e, i) => {
    const ms = median(times[i]);
    return { engine: e.name, ms, gbs: bytes / (ms / 1000) / 1e9, agree: agree[i] };
  });
  const plainMs = rows[0].ms;

  if (opts.json) {
    for (const r of rows) {
      console.log(
        JSON.stringify({
          bench: "kernels",
          engine: r.engine,
          n: N,
          dim: data.dim,
          k: K,
          queries: data.queries.length,
          repeats,
          medianMsPerQuery: +r.ms.toFixed(3),
          gbPerSec: +r.gbs.toFixed(3),
          speedupVsPlain: +(plainMs / r.ms).toFixed(3),
          sameTopKAsPlain: `${r.agree}/${data.queries.length}`,
          data: data.label,
        }),
      );
    }
    return;
  }
  console.log(
    `exact top-${K} L2 scan: ${N.toLocaleString("en")} × ${data.dim}-d, ${data.queries.length} queries, median of ${repeats}`,
  );
  console.log(`data: ${data.label}`);
  console.log(
    [
      "engine".padEnd(20),
      "ms/query".padStart(9),
      "GB/s".padStart(7),
      "vs plain".padStart(9),
      "same top-k".padStart(11),
    ].join(" "),
  );
  for (const r of rows) {
    console.log(
      [
        r.engine.padEnd(20),
        r.ms.toFixed(2).padStart(9),
        r.gbs.toFixed(2).padStart(7),
        `${(plainMs / r.ms).toFixed(2)}×`.padStart(9),
        `${r.agree}/${data.queries.length}`.padStart(11),
      ].join(" "),
    );
  }
}
