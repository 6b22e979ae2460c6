/**
 * The map's projections off the main thread: PCA first (fast, drawn at once), then UMAP (umap-js),
 * reporting progress every few epochs, so the page stays responsive while it runs.
 *
 * Messages in: { vectors, n, dim }. Out: { kind: "pca", points }, { kind: "progress", phase, done,
 * total }, { kind: "umap", points } or { kind: "error", message }; points are x, y interleaved in [-1, 1].
 */
import { UMAP } from "umap-js";
import { fitToUnitSquare, pca2 } from "./pca";

export interface ProjectionInput {
  vectors: Float32Array;
  n: number;
  dim: number;
}

export type ProjectionMessage =
  | { kind: "pca"; points: Float32Array }
  | { kind: "progress"; phase: "neighbours" | "layout"; done: number; total: number }
  | { kind: "umap"; points: Float32Array }
  | { kind: "error"; message: string };

const post = (m: ProjectionMessage, transfer: Transferable[] = []) =>
  (self as unknown as Worker).postMessage(m, transfer);

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

self.onmessage = (e: MessageEvent<ProjectionInput>) => {
  const { vectors, n, dim } = e.data;
  try {
    const pca = pca2(vectors, n, dim);
    post({ kind: "pca", points: pca }, [pca.buffer]);
    const rows: number[][] = new Array(n);
    for (let i = 0; i < n; i++) rows[i] = Array.from(vectors.subarray(i * dim, (i + 1) * dim));
    // Fewer epochs for large samples, as umap-js itself chooses (500 below 10,000 points, else 200).
    const umap = new UMAP({ nComponents: 2, nNeighbors: 15, minDist: 0.1, random: seeded(7) });
    post({ kind: "progress", phase: "neighbours", done: 0, total: n });
    const epochs = umap.initializeFit(rows);
    const every = Math.max(1, Math.floor(epochs / 50));
    for (let i = 0; i < epochs; i++) {
      umap.step();
      if (i % every === 0) post({ kind: "progress", phase: "layout", done: i, total: epochs });
    }
    const embedding = umap.getEmbedding();
    const points = new Float32Array(n * 2);
    for (let i = 0; i < n; i++) {
      points[i * 2] = embedding[i][0];
      points[i * 2 + 1] = embedding[i][1];
    }
    fitToUnitSquare(points, n);
    post({ kind: "umap", points }, [points.buffer]);
  } catch (err) {
    post({ kind: "error", message: err instanceof Error ? err.message : String(err) });
  }
};
