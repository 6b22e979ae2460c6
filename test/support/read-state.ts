/**
 * Reads a whole collection back into the workload model's shape, and checks exact search on it
 * against a brute-force scan of the expected state.
 */
import assert from "node:assert/strict";
import type { Collection } from "../../src/index.js";
import { bruteTopK, rng } from "./brute.js";
import { DIM, type ModelRecord } from "./workload.js";

export async function readState(c: Collection): Promise<Map<string, ModelRecord>> {
  const out = new Map<string, ModelRecord>();
  let cursor: string | undefined;
  do {
    const page = await c.scroll({ cursor, limit: 500, withVectors: true });
    for (const r of page.records)
      out.set(r.id, { vector: r.vectors!.vector as number[], payload: r.payload as ModelRecord["payload"] });
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return out;
}

export async function checkSearch(c: Collection, expected: Map<string, ModelRecord>, seed: number): Promise<void> {
  const r = rng(seed);
  const records = [...expected].map(([id, m]) => ({ id, vector: m.vector }));
  for (let t = 0; t < 5; t++) {
    const q = Array.from({ length: DIM }, () => r() * 2 - 1);
    const { hits } = await c.query({ vector: q, limit: 10, exact: true });
    const want = bruteTopK("l2", records, q, 10);
    assert.equal(hits.length, want.length);
    for (let i = 0; i < hits.length; i++)
      assert.ok(Math.abs(hits[i].score - want[i].score) < 1e-4, `rank ${i}: ${hits[i].score} vs ${want[i].score}`);
    // A graph search (when the vector has one) may rank differently, but only returns live records,
    // each with its true score, and as many as exist.
    const approx = (await c.query({ vector: q, limit: 10 })).hits;
    assert.equal(approx.length, want.length);
    for (const h of approx) {
      const m = expected.get(h.id);
      assert.ok(m, `graph hit ${h.id} is a live record`);
      const d = -Math.sqrt(m.vector.reduce((acc, x, i) => acc + (x - q[i]) ** 2, 0));
      assert.ok(Math.abs(h.score - d) < 1e-4, `graph hit ${h.id} has its true score`);
    }
  }
}
