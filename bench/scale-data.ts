// The scale bench's data: deterministic clustered vectors (any n × dim from a seed, no download), a
// payload value per record for filters, and exact ground truth for the queries, computed once with
// Quiver's exact f32 scan and cached under bench/.cache/scale/ (git-ignored), keyed by every parameter.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { seededRandom } from "../src/core/util/prng.js";
import { loadKernelFactory } from "../src/core/kernels/load.js";
import { VectorSlab } from "../src/core/vectors/slab.js";
import { flatSearch } from "../src/core/index/flat/flat-search.js";

export const K = 10;
/** Clusters of the default spec (`--clusters` changes it). */
export const CLUSTERS = 1000;
const SPREAD = 0.12;
/** Rows of the base scanned at once by groundTruth. */
const CHUNK_ROWS = 1_000_000;

export interface ScaleSpec {
  n: number;
  dim: number;
  queries: number;
  /** Cluster centres (default CLUSTERS): fewer at the same n make each cluster denser. */
  clusters?: number;
}

export interface ScaleData extends ScaleSpec {
  /** n rows, and 2% of n more (200 at least: the vectors of the insert/replace 1% runs), row-major. */
  base: Float32Array;
  extra: Float32Array;
  queryRows: Float32Array[];
  /** The payload value u in [0, 1) of each base row: a filter `u < s` has selectivity s. */
  u: Float64Array;
}

/** Rows around the uniform centres in [-1, 1]^dim, each coordinate off by a sum of three uniforms. */
function rows(count: number, dim: number, centres: Float32Array, random: () => number): Float32Array {
  const out = new Float32Array(count * dim);
  const clusters = centres.length / dim;
  for (let i = 0; i < count; i++) {
    const c = Math.floor(random() * clusters) * dim;
    for (let d = 0; d < dim; d++) out[i * dim + d] = centres[c + d] + (random() + random() + random() - 1.5) * SPREAD;
  }
  return out;
}

/** The same data for the same spec, on every machine: base, extra 2%, queries and payload values. */
export function generate(spec: ScaleSpec): ScaleData {
  const { n, dim, queries } = spec;
  const clusters = spec.clusters ?? CLUSTERS;
  if (!(Number.isInteger(clusters) && clusters >= 1))
    throw new Error(`--clusters takes a positive integer, got ${clusters}`);
  const rc = seededRandom(1);
  const centres = Float32Array.from({ length: clusters * dim }, () => rc() * 2 - 1);
  const base = rows(n, dim, centres, seededRandom(2));
  const extra = rows(Math.max(200, Math.ceil(n / 50)), dim, centres, seededRandom(3));
  const q = rows(queries, dim, centres, seededRandom(4));
  const ru = seededRandom(5);
  const u = Float64Array.from({ length: n }, () => ru());
  const queryRows = Array.from({ length: queries }, (_, i) => q.subarray(i * dim, (i + 1) * dim));
  return { ...spec, base, extra, queryRows, u };
}

/** Under the folder the bench runs from (npm runs it from the package root). */
const cacheDir = join(process.cwd(), "bench", ".cache", "scale");

/**
 * Exact top K (L2) of each query among base rows with u < selectivity (1 = unfiltered), as row
 * numbers; read from the cache when this spec was computed before.
 */
export async function groundTruth(data: ScaleData, selectivity: number, queries: number): Promise<Int32Array[]> {
  // The default clusters keep the file names of the caches made before --clusters existed.
  const c = (data.clusters ?? CLUSTERS) === CLUSTERS ? "" : `-c${data.clusters}`;
  const file = join(cacheDir, `truth-n${data.n}-d${data.dim}${c}-q${queries}-s${selectivity}.i32`);
  if (existsSync(file)) {
    const all = new Int32Array(new Uint8Array(readFileSync(file)).buffer);
    return Array.from({ length: queries }, (_, i) => all.subarray(i * K, (i + 1) * K));
  }
  // The base is scanned in chunks of CHUNK_ROWS through one slab (a few hundred MB, not the whole
  // set: at 10M × 96 a slab of every row alone is 3.8 GB), each query's best K kept across chunks.
  const rowsPer = Math.min(data.n, CHUNK_ROWS);
  const slab = new VectorSlab(await loadKernelFactory(), data.dim, "l2");
  slab.ensureCapacity(rowsPer);
  const live = new Uint8Array(rowsPer).fill(1);
  const best = Array.from({ length: queries }, () => [] as { row: number; score: number }[]);
  for (let first = 0; first < data.n; first += rowsPer) {
    const count = Math.min(rowsPer, data.n - first);
    for (let i = 0; i < count; i++) slab.set(i, data.base.subarray((first + i) * data.dim, (first + i + 1) * data.dim));
    const allowed: number[] = [];
    if (selectivity < 1) for (let i = 0; i < count; i++) if (data.u[first + i] < selectivity) allowed.push(i);
    const candidates = selectivity < 1 ? Uint32Array.from(allowed) : undefined;
    for (let q = 0; q < queries; q++) {
      const r = flatSearch(slab, data.queryRows[q], K, { count, live, candidates });
      const merged = best[q].concat(r.slots.map((slot, j) => ({ row: first + slot, score: r.scores[j] })));
      // Ties go to the lower row, as in one scan of everything.
      best[q] = merged.sort((x, y) => y.score - x.score || x.row - y.row).slice(0, K);
    }
  }
  const all = new Int32Array(queries * K).fill(-1);
  for (let q = 0; q < queries; q++)
    all.set(
      Int32Array.from(best[q], (b) => b.row),
      q * K,
    );
  mkdirSync(cacheDir, { recursive: true });
  writeFileSync(file, new Uint8Array(all.buffer));
  return Array.from({ length: queries }, (_, i) => all.subarray(i * K, (i + 1) * K));
}

/** recall@K of found row lists against the truth. */
export function recall(found: ArrayLike<number>[], truth: Int32Array[]): number {
  let hit = 0;
  let total = 0;
  for (let i = 0; i < truth.length; i++) {
    const t = new Set(Array.from(truth[i]).filter((x) => x >= 0));
    for (let j = 0; j < found[i].length; j++) if (t.has(found[i][j])) hit++;
    total += t.size;
  }
  return total === 0 ? 1 : hit / total;
}
