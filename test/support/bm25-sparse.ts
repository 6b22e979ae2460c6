/**
 * Quiver's own BM25 turned into sparse vectors, for checking sparse search against the BM25 path
 * (test/sparse/bm25-reproduction.test.ts) and benchmarking one against the other (bench/sparse.ts):
 * a standalone TextIndex over the same documents, analyzer and parameters as the collection gives
 * each document its BM25 term weights (TextIndex.bm25Weights) and each query its term counts, so
 * the dot product is the BM25 score. Also the comparison of two top-k lists within float tolerance.
 */
import { TextIndex, type Bm25Params } from "../../src/core/index/bm25/text-index.js";
import type { TextFieldSpec, TextPlugins } from "../../src/core/analysis/analyzer.js";

export interface SparseInput {
  indices: number[];
  values: number[];
}

const toInput = (m: Map<number, number>): SparseInput => ({ indices: [...m.keys()], values: [...m.values()] });

/** Each document's BM25 weights and a query encoder, for field `field` of documents `texts`. */
export function bm25AsSparse(
  texts: readonly string[],
  field: string,
  spec: TextFieldSpec,
  params: Bm25Params,
  plugins: TextPlugins,
): { docs: SparseInput[]; query(text: string): SparseInput } {
  const index = new TextIndex({ [field]: spec }, params, plugins);
  texts.forEach((text, slot) => {
    index.add(slot, { [field]: text });
  });
  return {
    docs: texts.map((t) => toInput(index.bm25Weights(field, t))),
    query: (text) => toInput(index.queryTermCounts(field, text)),
  };
}

/**
 * Why two rankings differ, or null when they agree: same length, scores equal within a relative
 * `tolerance`, and the same id at every rank except among hits whose scores tie within it (float
 * rounding may order those either way).
 */
export function rankingDifference(
  want: { id: string; score: number }[],
  got: { id: string; score: number }[],
  tolerance: number,
): string | null {
  if (want.length !== got.length) return `${got.length} hits instead of ${want.length}`;
  const close = (a: number, b: number) => Math.abs(a - b) <= tolerance * Math.max(1, Math.abs(a));
  for (let i = 0; i < want.length; i++) {
    if (!close(want[i].score, got[i].score)) return `rank ${i + 1}: score ${got[i].score} instead of ${want[i].score}`;
    if (want[i].id === got[i].id) continue;
    const tied = want.filter((w) => close(w.score, want[i].score)).map((w) => w.id);
    if (!tied.includes(got[i].id) || tied.length < 2) return `rank ${i + 1}: ${got[i].id} instead of ${want[i].id}`;
  }
  return null;
}
