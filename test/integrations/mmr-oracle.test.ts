/**
 * Quiver's MMR selection (src/integrations/mmr.ts) against LangChain's own implementation
 * (`maximalMarginalRelevance` in @langchain/core/utils/math) as an independent oracle: on random
 * candidates, query and lambda, both pick the same candidates in the same order.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { maximalMarginalRelevance as langchainMmr } from "@langchain/core/utils/math";
import { maximalMarginalRelevance } from "../../src/integrations/mmr.js";

/** A small seeded generator (mulberry32), so a failure is reproducible from the trial number. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test("MMR picks what LangChain's MMR picks, in the same order, on 200 random cases", () => {
  for (let trial = 0; trial < 200; trial++) {
    const rand = random(trial + 1);
    const dim = 2 + Math.floor(rand() * 10);
    const vector = () => Array.from({ length: dim }, () => rand() * 2 - 1);
    const candidates = Array.from({ length: 1 + Math.floor(rand() * 40) }, vector);
    const query = vector();
    const k = 1 + Math.floor(rand() * 10);
    const lambda = rand();
    assert.deepEqual(
      maximalMarginalRelevance(query, candidates, k, lambda),
      langchainMmr(query, candidates, lambda, k),
      `trial ${trial}: ${candidates.length} candidates, dim ${dim}, k ${k}, lambda ${lambda}`,
    );
  }
});
