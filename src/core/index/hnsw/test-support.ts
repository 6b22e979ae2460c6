// Helpers shared by the HNSW tests: seeded clustered data in a slab, exact answers, recall@k.

import { loadKernelFactory } from "../../kernels/load.js";
import { VectorSlab, type Metric } from "../../vectors/slab.js";
import { flatSearch } from "../flat/flat-search.js";

export function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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
  vectors.forEach((v, i) => slab.set(i, v));
  return slab;
}

export function exact(slab: VectorSlab, q: Float32Array, k: number, live: Uint8Array, candidates?: Uint32Array): number[] {
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
