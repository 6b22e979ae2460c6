// Helpers shared by the HNSW tests: seeded clustered data in a slab, exact answers, recall@k.

import { loadKernelFactory } from "../../kernels/load.js";
import { VectorSlab, type Metric, type RowFile } from "../../vectors/slab.js";
import { flatSearch } from "../flat/flat-search.js";
import { HnswIndex, type Quantization } from "./hnsw.js";
import { seededRandom as rng } from "../../util/prng.js";

export { seededRandom as rng } from "../../util/prng.js";

/** n vectors around `clusters` Gaussian-ish centres (sum of uniforms), plus queries from the same law. */
export function clustered(n: number, dim: number, seed: number, clusters = 20): Float32Array[] {
  const r = rng(seed);
  const centres = Array.from({ length: clusters }, () => Float32Array.from({ length: dim }, () => r() * 2 - 1));
  return Array.from({ length: n }, () => {
    const c = centres[Math.floor(r() * clusters)];
    return Float32Array.from(c, (x) => x + (r() + r() + r() - 1.5) * 0.35);
  });
}

export async function slabWith(vectors: Float32Array[], metric: Metric): Promise<VectorSlab> {
  const slab = new VectorSlab(await loadKernelFactory(), vectors[0].length, metric);
  slab.ensureCapacity(vectors.length);
  vectors.forEach((v, i) => {
    slab.set(i, v);
  });
  return slab;
}

export function exact(
  slab: VectorSlab,
  q: Float32Array,
  k: number,
  live: Uint8Array,
  candidates?: Uint32Array,
): number[] {
  return flatSearch(slab, q, k, { count: live.length, live, candidates }).slots;
}

export function recallAt(found: number[][], truth: number[][]): number {
  let hit = 0;
  let total = 0;
  for (let i = 0; i < truth.length; i++) {
    const t = new Set(truth[i]);
    for (const s of found[i]) if (t.has(s)) hit++;
    total += truth[i].length;
  }
  return total === 0 ? 1 : hit / total;
}

/** A RowFile in memory (the slab's "rows on disk" mode without a file system); counts reads. */
export class MemoryRowFile implements RowFile {
  private bytes = new Uint8Array(0);
  reads = 0;
  closed = false;

  read(pos: number, into: Uint8Array): void {
    this.reads++;
    into.fill(0);
    if (pos < this.bytes.length) into.set(this.bytes.subarray(pos, Math.min(this.bytes.length, pos + into.length)));
  }

  write(pos: number, data: Uint8Array): void {
    if (pos + data.length > this.bytes.length) {
      const grown = new Uint8Array(Math.max(pos + data.length, this.bytes.length * 2));
      grown.set(this.bytes);
      this.bytes = grown;
    }
    this.bytes.set(data, pos);
  }

  close(): void {
    this.closed = true;
  }
}

/** slabWith, with the rows kept in a MemoryRowFile. */
export async function diskSlabWith(vectors: Float32Array[], metric: Metric): Promise<VectorSlab> {
  const slab = new VectorSlab(await loadKernelFactory(), vectors[0].length, metric, new MemoryRowFile());
  slab.ensureCapacity(vectors.length);
  vectors.forEach((v, i) => {
    slab.set(i, v);
  });
  return slab;
}

/**
 * n clustered vectors in a slab (rows in memory, or in a MemoryRowFile with `disk`), an index over
 * all of them (m 12, efConstruction 100, seed 1), `q` queries and their exact top k.
 */
export async function buildClustered(
  n: number,
  q: number,
  k: number,
  metric: Metric,
  quantization: Quantization,
  opts: { dim?: number; disk?: boolean } = {},
) {
  const data = clustered(n + q, opts.dim ?? 48, 7);
  const slab = opts.disk ? await diskSlabWith(data.slice(0, n), metric) : await slabWith(data.slice(0, n), metric);
  const index = await HnswIndex.create(slab, { m: 12, efConstruction: 100, quantization, seed: 1 });
  for (let s = 0; s < n; s++) index.insert(s);
  const queries = data.slice(n);
  const live = new Uint8Array(n).fill(1);
  const truth = queries.map((x) => exact(slab, x, k, live));
  return { slab, index, queries, live, truth };
}
