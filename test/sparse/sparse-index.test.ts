// The sparse index returns the exact top k: MaxScore's pruned search and the exhaustive scan both
// equal a brute-force dot product over the live vectors (same slots, same scores, ties to the lower
// slot), under adds, replacements, deletes (slot reuse, list compaction, renumbering), filters and
// negative weights. Property-based (fast-check) so the bounds meet many shapes of data.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { SCAN_BELOW, SparseIndex } from "../../src/core/index/sparse/sparse-index.js";
import { sparseDot, toSparseVector, type SparseVector } from "../../src/core/index/sparse/sparse-vector.js";
import { bitmapOf, hasSlot } from "../../src/core/index/slot-bitmap.js";
import type { Problem } from "../../src/core/errors/errors.js";

function vec(entries: [number, number][]): SparseVector {
  const map = new Map(entries);
  const indices = [...map.keys()].sort((a, b) => a - b);
  return { indices: Uint32Array.from(indices), values: Float32Array.from(indices.map((i) => map.get(i)!)) };
}

/** Brute force: every live vector sharing a non-zero-weighted index with the query, by sparseDot. */
function brute(live: Map<number, SparseVector>, query: SparseVector, k: number, accept?: Set<number>) {
  const qIdx = new Set([...query.indices].filter((_, i) => query.values[i] !== 0));
  const all = [...live]
    .filter(([slot, v]) => (!accept || accept.has(slot)) && [...v.indices].some((i) => qIdx.has(i)))
    .map(([slot, v]) => ({ slot, score: sparseDot(v, query) }))
    .sort((a, b) => b.score - a.score || a.slot - b.slot)
    .slice(0, k);
  return { slots: all.map((h) => h.slot), scores: all.map((h) => h.score) };
}

// Magnitudes spread over four orders, so lists' bounds differ widely and pruning has work to do.
const weight = (negative: boolean) =>
  fc
    .tuple(fc.float({ min: 1, max: 2, noNaN: true }), fc.integer({ min: -6, max: 6 }), fc.boolean())
    .map(([m, e, flip]) => (negative && flip ? -1 : 1) * m * 2 ** e);
// Few distinct indices and coarse weights, so lists overlap and scores tie often.
const entries = (negative: boolean) =>
  fc.array(fc.tuple(fc.integer({ min: 0, max: 30 }), fc.oneof(weight(negative), fc.constantFrom(0.5, 1, 2))), {
    maxLength: 12,
  });
const op = (negative: boolean) =>
  fc.oneof(
    { weight: 4, arbitrary: fc.record({ kind: fc.constant("add" as const), slot: fc.nat(60), v: entries(negative) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("remove" as const), slot: fc.nat(60) }) },
  );

for (const negative of [false, true]) {
  test(`MaxScore and the scan equal brute force${negative ? " (negative weights)" : ""}`, () => {
    fc.assert(
      fc.property(
        fc.array(op(negative), { minLength: 1, maxLength: 250 }),
        entries(negative),
        fc.integer({ min: 1, max: 8 }),
        fc.option(fc.integer({ min: 2, max: 5 })),
        (ops, q, k, filterModulo) => {
          const index = new SparseIndex();
          const live = new Map<number, SparseVector>();
          for (const o of ops) {
            index.remove(o.slot);
            live.delete(o.slot);
            if (o.kind === "add") {
              const v = vec(o.v);
              index.add(o.slot, v);
              live.set(o.slot, v);
            }
          }
          const query = vec(q);
          const accept =
            filterModulo === null ? undefined : new Set([...Array(61).keys()].filter((s) => s % filterModulo === 0));
          const bits = accept ? bitmapOf([...accept], 61) : undefined;
          const want = brute(live, query, k, accept);
          const pruned = index.maxScore(query, k, { accept: bits });
          const scanned = index.scan(query, k, { accept: bits });
          const chosen = index.search(query, k, { accept: bits });
          assert.deepEqual({ slots: pruned.slots, scores: pruned.scores }, want);
          assert.deepEqual({ slots: scanned.slots, scores: scanned.scores }, want);
          assert.deepEqual({ slots: chosen.slots, scores: chosen.scores }, want);
          if (bits) for (const s of pruned.slots) assert.ok(hasSlot(bits, s));
          assert.equal(index.count, live.size);
        },
      ),
      { numRuns: 300 },
    );
  });
}

test("MaxScore skips documents on a skewed collection and still returns the exact top k", () => {
  // One rare heavy term and one common light term: once the rare term's documents set the
  // threshold, the common term's list cannot lift any other document into the top k.
  const index = new SparseIndex();
  const live = new Map<number, SparseVector>();
  for (let slot = 0; slot < 5000; slot++) {
    const v = vec(
      slot % 100 === 0
        ? [
            [1, 5 + (slot % 7)],
            [2, 0.1],
          ]
        : [[2, 0.01 + (slot % 13) / 1000]],
    );
    index.add(slot, v);
    live.set(slot, v);
  }
  const query = vec([
    [1, 1],
    [2, 1],
  ]);
  const r = index.maxScore(query, 10, {});
  assert.deepEqual({ slots: r.slots, scores: r.scores }, brute(live, query, 10));
  assert.equal(r.postings, 5050);
  assert.equal(r.read, 50, "the common term's list is never read");
  assert.ok(r.scored < 100, `scored ${r.scored} of 5000 documents`);
  // Churn that compacts lists and renumbers documents leaves it exact.
  for (let slot = 0; slot < 5000; slot += 2) {
    index.remove(slot);
    live.delete(slot);
  }
  const after = index.maxScore(query, 10, {});
  assert.deepEqual({ slots: after.slots, scores: after.scores }, brute(live, query, 10));
  assert.equal(index.count, 2500);
});

test("search scans short lists and prunes long ones, with the same answer", () => {
  const index = new SparseIndex();
  const live = new Map<number, SparseVector>();
  // A list longer than SCAN_BELOW: the query reading it goes through MaxScore.
  for (let slot = 0; slot < SCAN_BELOW + 100; slot++) {
    const v = vec(
      slot % 50 === 0
        ? [
            [1, 3 + (slot % 11)],
            [2, 0.5],
          ]
        : [[2, 0.001 * (slot % 97)]],
    );
    index.add(slot, v);
    live.set(slot, v);
  }
  const long = index.search(
    vec([
      [1, 1],
      [2, 1],
    ]),
    10,
  );
  assert.ok(long.read < long.postings, "pruned");
  assert.deepEqual(
    { slots: long.slots, scores: long.scores },
    brute(
      live,
      vec([
        [1, 1],
        [2, 1],
      ]),
      10,
    ),
  );
  const short = index.search(vec([[1, 1]]), 10);
  assert.equal(short.read, short.postings, "scanned");
  assert.deepEqual({ slots: short.slots, scores: short.scores }, brute(live, vec([[1, 1]]), 10));
});

test("a document no list read so far holds still wins when the unread lists' bounds can lift it", () => {
  // After the first list, d0 sets the threshold (1.0); the two unread lists can add 1.2 together,
  // so they must be read, and d1 (0.6 + 0.6) wins. Stopping on either bound alone would miss it.
  const index = new SparseIndex();
  index.add(0, vec([[1, 1]]));
  index.add(
    1,
    vec([
      [2, 0.6],
      [3, 0.6],
    ]),
  );
  const r = index.search(
    vec([
      [1, 1],
      [2, 1],
      [3, 1],
    ]),
    1,
  );
  assert.deepEqual(r.slots, [1]);
  assert.equal(r.scores[0], Math.fround(0.6) * 2);
});

test("toSparseVector accepts both forms, sorts them and reports every problem with its path", () => {
  const problems: Problem[] = [];
  const a = toSparseVector({ indices: [9, 2, 5], values: [0.9, 0.2, 0.5] }, "v", 100, problems).vector!;
  assert.deepEqual([...a.indices], [2, 5, 9]);
  assert.deepEqual([...a.values], [Math.fround(0.2), Math.fround(0.5), Math.fround(0.9)]);
  const b = toSparseVector({ "9": 0.9, "2": 0.2 }, "v", 100, problems).vector!;
  assert.deepEqual([...b.indices], [2, 9]);
  assert.deepEqual(problems, []);

  const bad: Problem[] = [];
  toSparseVector({ indices: [1, -1, 1.5, 2 ** 32, 1], values: [1, Number.NaN, 1e39, "x", 2] }, "v", 100, bad);
  assert.deepEqual(
    bad.map((p) => p.path),
    ["v.indices[1]", "v.indices[2]", "v.indices[3]", "v.values[1]", "v.values[2]", "v.values[3]"],
  );
  const dup: Problem[] = [];
  toSparseVector({ indices: [4, 1, 4], values: [1, 1, 1] }, "v", 100, dup);
  assert.deepEqual(
    dup.map((p) => p.path),
    ["v.indices[2]"],
  );
  const map: Problem[] = [];
  toSparseVector({ a: 1, "07": 2, "3": Number.POSITIVE_INFINITY }, "v", 100, map);
  assert.deepEqual(
    map.map((p) => p.path),
    ["v.a", "v.07", "v.3"],
  );
  const shape: Problem[] = [];
  toSparseVector({ indices: [1, 2], values: [1] }, "v", 100, shape);
  toSparseVector([1, 2], "w", 100, shape);
  toSparseVector({ indices: 1, values: [1], extra: true }, "x", 100, shape);
  assert.deepEqual(
    shape.map((p) => p.path),
    ["v", "w", "x.indices", "x.extra"],
  );
  const over: Problem[] = [];
  assert.equal(toSparseVector({ indices: [1, 2, 3], values: [1, 1, 1] }, "v", 2, over).tooLarge, true);
});
