/**
 * Randomized property test of the planner against brute force: for random payloads and filters,
 * index candidates must contain every match, and re-checking them with `matches` must equal a scan.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { PayloadIndexSet } from "../../payload/indexes.js";
import type { FilterNode } from "../filter/ast.js";
import { matches } from "../filter/evaluate.js";
import { parseFilter } from "../filter/parse.js";
import { candidateSlots, estimateMatches } from "./candidates.js";
import { seededRandom as rng } from "../../util/prng.js";
import { int, randomFilter, randomPayload } from "../filter/test-support.js";

const DECLS = [
  { field: "kw", type: "keyword" },
  { field: "num", type: "number" },
  { field: "flag", type: "boolean" },
  { field: "tags", type: "keyword" },
  { field: "meta.color", type: "keyword" },
  { field: "authors.name", type: "keyword" },
  { field: "authors.age", type: "number" },
  { field: "date", type: "keyword" },
] as const;

/** Checks every filter against the live records; returns how many filters the indexes narrowed. */
function checkAll(
  seed: number,
  live: Map<number, Record<string, unknown>>,
  ix: PayloadIndexSet,
  filters: FilterNode[],
): number {
  let narrowed = 0;
  filters.forEach((node, fi) => {
    const brute = new Set<number>();
    for (const [slot, p] of live) if (matches(node, p)) brute.add(slot);
    const est = estimateMatches(node, ix, live.size);
    assert.ok(
      est >= brute.size,
      `seed ${seed} filter ${fi}: estimate ${est} < ${brute.size} matches: ${JSON.stringify(node)}`,
    );
    const cands = candidateSlots(node, ix);
    if (cands === null) return;
    narrowed++;
    for (const s of brute)
      assert.ok(cands.has(s), `seed ${seed} filter ${fi}: slot ${s} missing from candidates: ${JSON.stringify(node)}`);
    const verified = [...cands].filter((s) => live.has(s) && matches(node, live.get(s)));
    assert.deepEqual(new Set(verified), brute, `seed ${seed} filter ${fi}`);
    for (const s of cands) assert.ok(live.has(s), `seed ${seed} filter ${fi}: dead slot ${s} in candidates`);
  });
  return narrowed;
}

for (const seed of [1, 2, 3]) {
  test(`candidates ⊇ brute-force matches, and re-checked candidates = brute force (seed ${seed})`, () => {
    const r = rng(seed);
    const ix = new PayloadIndexSet(DECLS.map((d) => ({ ...d })));
    const live = new Map<number, Record<string, unknown>>();
    for (let slot = 0; slot < 1000; slot++) {
      const p = randomPayload(r);
      live.set(slot, p);
      ix.add(slot, p);
    }
    const filters = Array.from({ length: 400 }, () => parseFilter(randomFilter(r, 3)));
    const narrowed = checkAll(seed, live, ix, filters);
    assert.ok(
      narrowed > filters.length * 0.25,
      `seed ${seed}: only ${narrowed} filters narrowed; the test would be weak`,
    );

    // Deletes and updates must leave the indexes exact: remove with the old payload, add the new one.
    for (let i = 0; i < 300; i++) {
      const slot = int(r, 1000);
      const old = live.get(slot);
      if (old === undefined) continue;
      ix.remove(slot, old);
      if (r() < 0.5) {
        live.delete(slot);
      } else {
        const p = randomPayload(r);
        live.set(slot, p);
        ix.add(slot, p);
      }
    }
    checkAll(seed, live, ix, filters);
  });
}
