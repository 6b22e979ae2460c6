/**
 * A deterministic stand-in for a text model in fast tests: hashed bag of words (lower-cased,
 * 64 dims), so texts sharing words are similar and identical texts identical.
 */
import type { Embedder } from "../../src/embed/embedder.js";

export function fakeEmbedder(dim = 64): Embedder & { calls: string[][] } {
  const calls: string[][] = [];
  return {
    id: `fake:${dim}`,
    dim,
    maxBatch: 8,
    calls,
    async embed(texts) {
      calls.push([...texts]);
      return texts.map((t) => {
        const v = new Float32Array(dim);
        for (const w of t.toLowerCase().match(/[a-z0-9]+/g) ?? []) {
          let h = 2166136261;
          for (let i = 0; i < w.length; i++) h = Math.imul(h ^ w.charCodeAt(i), 16777619);
          v[(h >>> 0) % dim] += 1;
        }
        if (v.every((x) => x === 0)) v[0] = 1;
        return v;
      });
    },
  };
}
