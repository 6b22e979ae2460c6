// flatSearch against a brute-force JS oracle. Dot and l2 use small-integer data so every f32 sum is
// exact and results must match the oracle bit for bit (ties included); cosine is checked with a tolerance.

import { test } from "node:test";
import assert from "node:assert/strict";
import { loadKernelFactory } from "../../kernels/load.js";
import { scalarKernelFactory } from "../../kernels/scalar.js";
import type { KernelFactory } from "../../kernels/kernels.js";
import { VectorSlab, type Metric } from "../../vectors/slab.js";
import { flatSearch, type FlatSearchResult } from "./flat-search.js";
import { bitmapOf } from "../slot-bitmap.js";
import { seededRandom as rng } from "../../util/prng.js";

interface Case {
  slab: VectorSlab;
  vecs: number[][];
  live: Uint8Array;
  count: number;
}

function build(factory: KernelFactory, metric: Metric, dim: number, count: number, r: () => number): Case {
  const slab = new VectorSlab(factory, dim, metric);
  slab.ensureCapacity(count + 5);
  const vecs: number[][] = [];
  const live = new Uint8Array(slab.capacity);
  for (let s = 0; s < count; s++) {
    // Integers in [-4, 4]; a zero vector is avoided because cosine callers never store one.
    const v = Array.from({ length: dim }, () => Math.floor(r() * 9) - 4);
    if (!v.some((x) => x !== 0)) v[0] = 1;
    vecs.push(v);
    slab.set(s, v);
    live[s] = r() < 0.7 ? 1 : 0;
  }
  return { slab, vecs, live, count };
}

/** Exact public score in f64. */
function score(metric: Metric, q: ArrayLike<number>, v: number[]): number {
  let dot = 0,
    qq = 0,
    vv = 0,
    l2 = 0;
  for (let i = 0; i < v.length; i++) {
    dot += q[i] * v[i];
    qq += q[i] * q[i];
    vv += v[i] * v[i];
    l2 += (q[i] - v[i]) ** 2;
  }
  if (metric === "dot") return dot;
  if (metric === "l2") return -Math.sqrt(l2);
  return dot / Math.sqrt(qq * vv);
}

function oracle(c: Case, metric: Metric, q: Float32Array, k: number, candidates?: Uint32Array) {
  const slots = candidates ? Array.from(candidates) : Array.from({ length: c.count }, (_, i) => i);
  const scored = slots
    .filter((s) => s < c.count && c.live[s] === 1)
    .map((s) => ({ s, v: score(metric, q, c.vecs[s]) }));
  scored.sort((a, b) => b.v - a.v || a.s - b.s);
  const top = scored.slice(0, k);
  return { slots: top.map((x) => x.s), scores: top.map((x) => x.v), all: scored };
}

async function factories(): Promise<KernelFactory[]> {
  return [await loadKernelFactory(), scalarKernelFactory];
}

/**
 * Checks one search against the oracle; a restriction is also given as a bitmap and as a predicate,
 * the other two forms flatSearch takes, which must give the same answer.
 */
function check(c: Case, metric: Metric, q: Float32Array, k: number, candidates?: Uint32Array): void {
  const base = { count: c.count, live: c.live };
  const runs = [flatSearch(c.slab, q, k, { ...base, candidates })];
  if (candidates) {
    const inSet = new Set(candidates);
    runs.push(flatSearch(c.slab, q, k, { ...base, allowed: bitmapOf(candidates, c.slab.capacity) }));
    runs.push(flatSearch(c.slab, q, k, { ...base, accept: (s) => inSet.has(s) }));
  }
  for (const got of runs) checkOne(c, metric, q, k, candidates, got);
}

function checkOne(
  c: Case,
  metric: Metric,
  q: Float32Array,
  k: number,
  candidates: Uint32Array | undefined,
  got: FlatSearchResult,
): void {
  const want = oracle(c, metric, q, k, candidates);
  // Every live candidate is scored, once.
  assert.equal(got.scored, want.all.length);
  if (metric !== "cosine") {
    assert.deepEqual({ slots: got.slots, scores: got.scores }, { slots: want.slots, scores: want.scores });
    return;
  }
  // Cosine runs on normalised f32 vectors, so near-ties may swap; require each score right to 1e-5
  // and every slot clearly inside the true top-k to be returned.
  assert.equal(got.slots.length, want.slots.length);
  const exact = new Map(want.all.map((x) => [x.s, x.v]));
  for (let i = 0; i < got.slots.length; i++) {
    assert.ok(Math.abs(got.scores[i] - exact.get(got.slots[i])!) < 1e-5);
    if (i > 0) assert.ok(got.scores[i] <= got.scores[i - 1]);
  }
  const kth = want.scores[want.scores.length - 1] ?? Infinity;
  for (const x of want.all) if (x.v > kth + 1e-5) assert.ok(got.slots.includes(x.s), `slot ${x.s} missing`);
}

test("full scans match the brute-force oracle for every metric, k and live mask", async () => {
  const r = rng(11);
  for (const factory of await factories()) {
    for (const metric of ["dot", "l2", "cosine"] as const) {
      for (const dim of [1, 3, 16, 33]) {
        const c = build(factory, metric, dim, 500, r);
        for (const k of [1, 5, 10, 400, 1000]) {
          const q = Float32Array.from({ length: dim }, () => Math.floor(r() * 9) - 4);
          if (q.every((x) => x === 0)) q[0] = 2;
          check(c, metric, q, k);
        }
      }
    }
  }
});

test("candidate lists (shuffled, with dead and out-of-range slots) match the oracle", async () => {
  const r = rng(12);
  for (const factory of await factories()) {
    for (const metric of ["dot", "l2", "cosine"] as const) {
      const dim = 17;
      const c = build(factory, metric, dim, 300, r);
      for (let trial = 0; trial < 10; trial++) {
        const picked = Array.from({ length: c.count + 3 }, (_, i) => i).filter(() => r() < 0.3);
        picked.sort(() => r() - 0.5);
        const q = Float32Array.from({ length: dim }, () => Math.floor(r() * 9) - 4);
        q[0] = 3;
        check(c, metric, q, 1 + Math.floor(r() * 20), Uint32Array.from(picked));
      }
      check(
        c,
        metric,
        Float32Array.from({ length: dim }, () => 1),
        10,
        new Uint32Array(0),
      );
    }
  }
});

test("scans spanning several chunks and k = 0", async () => {
  const r = rng(13);
  const factory = await loadKernelFactory();
  const c = build(factory, "l2", 3, 40000, r);
  const q = Float32Array.of(1, -2, 3);
  check(c, "l2", q, 25);
  check(
    c,
    "l2",
    q,
    25,
    Uint32Array.from({ length: 39000 }, (_, i) => 39999 - i),
  );
  assert.deepEqual(flatSearch(c.slab, q, 0, { count: c.count, live: c.live }), { slots: [], scores: [], scored: 0 });
  // Only slots below `count` exist, even when the slab has room for more.
  const few = flatSearch(c.slab, q, 5, { count: 2, live: Uint8Array.of(1, 1, 1, 1) });
  assert.deepEqual(few.slots.sort(), [0, 1]);
});
