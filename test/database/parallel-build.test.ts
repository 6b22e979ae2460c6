/**
 * Parallel graph builds (core/index/hnsw/parallel-build.ts): a graph linked by two threads at once must
 * be as good as one built insert by insert (recall@10 at equal ef within 0.005, on data with exact
 * ground truth) and valid (links in range, no self links, levels consistent, every node reachable or
 * counted); through the database, a bulk upsert grouped with replaces and deletes leaves exactly the
 * live records findable, close + reopen answers as before, and a thread's failure rejects the write
 * with a QuiverError while nothing acknowledged (nor the logged write itself) is lost.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { NodeSearchThreads, QuiverError } from "../../src/index.js";
import { countingThreads } from "../support/counting-threads.js";
import { Database } from "../../src/database/database.js";
import { MemoryDirectory } from "../../src/storage/memory-directory.js";
import { loadKernelFactory } from "../../src/core/kernels/load.js";
import { VectorSlab } from "../../src/core/vectors/slab.js";
import { HnswIndex } from "../../src/core/index/hnsw/hnsw.js";
import { loadHnswModule } from "../../src/core/index/hnsw/module.js";
import { readHnsw, type HnswSnapshot } from "../../src/core/index/hnsw/serialize.js";
import { clustered, exact, MemoryRowFile, recallAt } from "../../src/core/index/hnsw/test-support.js";
import type { SearchThreads } from "../../src/core/index/hnsw/parallel.js";
import { PARALLEL_BUILD_MIN } from "../../src/core/index/hnsw/parallel-build.js";

const N = 20_000;
const DIM = 32;

/** A graph over `vectors` built by insertMany; `disk`: originals in a row file (built on int8 codes). */
async function buildIndex(vectors: Float32Array[], threads: SearchThreads | null, disk = false) {
  const rows = disk ? new MemoryRowFile() : null;
  const slab = new VectorSlab(await loadKernelFactory(undefined, undefined, true), DIM, "l2", rows);
  const index = new HnswIndex(await loadHnswModule(undefined, true), slab, { m: 16, efConstruction: 100 });
  slab.ensureCapacity(vectors.length);
  index.reserve(vectors.length);
  if (threads) index.prepareLanes(threads.lanes);
  for (let s = 0; s < vectors.length; s++) slab.set(s, vectors[s]);
  await index.insertMany(
    vectors.map((_, s) => s),
    threads,
  );
  return { slab, index };
}

/** Every structural rule of a graph; returns the live nodes no descent from the entry point reaches. */
function checkGraph(g: HnswSnapshot): number {
  const out: number[][][] = [];
  let p = 0;
  let top = -1;
  for (let s = 0; s < g.n; s++) {
    out.push([]);
    if (g.flags[s] !== 1) continue;
    top = Math.max(top, g.levels[s]);
    for (let l = 0; l <= g.levels[s]; l++) {
      const c = g.links[p];
      assert.ok(c <= (l === 0 ? 2 * g.m : g.m), `slot ${s} has ${c} links at level ${l}`);
      const list = Array.from(g.links.subarray(p + 1, p + 1 + c));
      for (const t of list) {
        assert.ok(t < g.n && t !== s, `slot ${s} links to ${t} at level ${l}`);
        assert.equal(g.flags[t], 1, `slot ${s} links to ${t}, which is not live`);
        assert.ok(g.levels[t] >= l, `slot ${s} links to ${t} (level ${g.levels[t]}) at level ${l}`);
      }
      assert.equal(new Set(list).size, list.length, `slot ${s} lists a neighbour twice at level ${l}`);
      out[s].push(list);
      p += c + 1;
    }
  }
  assert.equal(g.maxLevel, top, "the entry point's level is the top level");
  assert.equal(g.levels[g.entry], top);
  const seen = new Uint8Array(g.n);
  const stack = [g.entry];
  seen[g.entry] = 1;
  while (stack.length > 0) {
    const s = stack.pop()!;
    for (const list of out[s])
      for (const t of list) {
        if (!seen[t]) {
          seen[t] = 1;
          stack.push(t);
        }
      }
  }
  let unreachable = 0;
  for (let s = 0; s < g.n; s++) if (g.flags[s] === 1 && !seen[s]) unreachable++;
  return unreachable;
}

test("a graph linked by two threads matches the one-thread build: recall@10 at equal ef within 0.005, valid", async () => {
  // 200 clusters, and efs where recall@10 is near 0.95 and above: lower, two builds of the same kind
  // already differ by a few thousandths (measured: 0.0054 at ef 16 between two-thread builds).
  const vectors = clustered(N, DIM, 5, 200);
  const queries = clustered(1000, DIM, 77, 200);
  const { threads, linked } = countingThreads(2);
  try {
    const one = await buildIndex(vectors, null);
    const two = await buildIndex(vectors, threads);
    assert.ok(
      linked.reduce((a, b) => a + b, 0) > N / 4,
      `the helper thread linked ${linked.join("+")} of ${N} slots: the build was not parallel`,
    );
    const live = new Uint8Array(N).fill(1);
    const truth = queries.map((q) => exact(one.slab, q, 10, live));
    for (const ef of [128, 256]) {
      const r1 = recallAt(
        queries.map((q) => one.index.search(q, 10, { ef }).slots),
        truth,
      );
      const r2 = recallAt(
        queries.map((q) => two.index.search(q, 10, { ef }).slots),
        truth,
      );
      console.log(`ef ${ef}: recall@10 one thread ${r1.toFixed(4)}, two threads ${r2.toFixed(4)}`);
      assert.ok(Math.abs(r2 - r1) <= 0.005, `ef ${ef}: two threads ${r2} vs one ${r1}`);
    }
    assert.equal(two.index.stats().count, N);
    const g1 = readHnsw(one.index.serialize());
    const g2 = readHnsw(two.index.serialize());
    assert.equal(g2.rng, g1.rng, "levels are drawn in insert order: the generator ends where it does alone");
    const [u1, u2] = [checkGraph(g1), checkGraph(g2)];
    console.log(`unreachable from the entry point: one thread ${u1}, two threads ${u2} of ${N}`);
    assert.ok(u2 <= u1 + N / 400, `${u2} nodes unreachable (one thread: ${u1})`); // as below
  } finally {
    await threads.close();
  }
});

test("with originals on disk the graph is linked by two threads too, as good as the one-thread build", async () => {
  const n = 10_000;
  const vectors = clustered(n, DIM, 5, 100);
  const queries = clustered(500, DIM, 78, 100);
  const { threads, linked } = countingThreads(2);
  try {
    const one = await buildIndex(vectors, null, true);
    const two = await buildIndex(vectors, threads, true);
    assert.equal(two.index.stats().originals, "disk");
    assert.ok(
      linked.reduce((a, b) => a + b, 0) > n / 4,
      `the helper thread linked ${linked.join("+")} of ${n} slots: the build was not parallel`,
    );
    const live = new Uint8Array(n).fill(1);
    const truth = queries.map((q) => exact(one.slab, q, 10, live));
    for (const ef of [128, 256]) {
      const [r1, r2] = [one, two].map((b) =>
        recallAt(
          queries.map((q) => b.index.search(q, 10, { ef }).slots),
          truth,
        ),
      );
      console.log(`disk originals, ef ${ef}: recall@10 one thread ${r1.toFixed(4)}, two threads ${r2.toFixed(4)}`);
      assert.ok(Math.abs(r2 - r1) <= 0.005, `ef ${ef}: two threads ${r2} vs one ${r1}`);
    }
    assert.equal(two.index.stats().count, n);
    const g2 = readHnsw(two.index.serialize());
    const [u1, u2] = [checkGraph(readHnsw(one.index.serialize())), checkGraph(g2)];
    // Concurrent links can leave a few nodes that no list points to (11 of 10,000 seen once, on a loaded
    // machine; 0 to 4 usually); no repair pass reconnects them yet. Bounded at 0.25%.
    assert.ok(u2 <= u1 + n / 400, `${u2} nodes unreachable (one thread: ${u1})`);
  } finally {
    await threads.close();
  }
});

const vec = (seed: number): number[] => Array.from(clustered(1, DIM, seed)[0]);
const SCHEMA = {
  vectors: { v: { dim: DIM, metric: "cosine" as const, index: { type: "hnsw" as const, m: 12, efConstruction: 64 } } },
};

test("a bulk upsert grouped with replaces and deletes, built by two threads, survives close and reopen", async () => {
  assert.ok(1500 >= PARALLEL_BUILD_MIN, "the group below is large enough to build in parallel");
  const dir = new MemoryDirectory();
  const { threads, queued } = countingThreads(2);
  try {
    const db = await Database.openDirectory(dir, { searchThreads: threads });
    const c = await db.createCollection("c", SCHEMA);
    const current = new Map<string, number>();
    const put = (ids: number[], ver: number) => {
      for (const i of ids) current.set(`r${i}`, i * 31 + ver);
      return c.upsert(ids.map((i) => ({ id: `r${i}`, vector: vec(i * 31 + ver) })));
    };
    const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
    await put(range(0, 2000), 0);
    // Submitted together, the three form one group (the writer collects its queue only after it has
    // held the readers off, which takes a few ticks); the queue size below proves it.
    const grouped = Promise.all([
      put(range(2000, 3500), 0),
      put([...range(0, 300), ...range(2000, 2100)], 1),
      c.delete([...range(300, 400), ...range(2100, 2150)].map((i) => `r${i}`)),
    ]);
    for (const i of [...range(300, 400), ...range(2100, 2150)]) current.delete(`r${i}`);
    await grouped;
    // 1500 new + 300 replaced, less the 50 of them deleted: linked in one parallel phase.
    assert.ok(queued.includes(1750), `the group's queue sizes: ${queued.join(", ")}`);
    assert.equal(await c.count(), current.size);
    let selfFirst = 0;
    for (const [id, seed] of current) {
      const { hits } = await c.query({ vector: vec(seed), limit: 3, ef: 64 });
      assert.ok(!hits.some((h) => !current.has(h.id)), `a deleted record was returned for ${id}`);
      if (hits[0]?.id === id && hits[0].score > 0.9999) selfFirst++;
    }
    assert.ok(selfFirst >= 0.99 * current.size, `${selfFirst} of ${current.size} records found first by their vector`);
    const probes = range(0, 40).map((i) => vec(100_000 + i));
    const answers = async (d: typeof db) => {
      const cc = await d.collection("c");
      return Promise.all(probes.map(async (q) => (await cc.query({ vector: q, limit: 10, ef: 48 })).hits));
    };
    // A checkpoint consolidates the deletes' tombstones (as close() would), so what is answered now is
    // the graph the index file holds.
    await db.checkpoint();
    const before = await answers(db);
    await db.close();
    const reopened = await Database.openDirectory(dir);
    assert.deepEqual(await answers(reopened), before);
    await reopened.close();
  } finally {
    await threads.close();
  }
});

test("a thread's failure during a parallel build rejects the write with a QuiverError; nothing logged is lost", async () => {
  const inner = new NodeSearchThreads(2);
  const failing: SearchThreads = {
    size: 2,
    lanes: inner.lanes,
    searchLane: (...args) => inner.searchLane(...args),
    link: async () => {
      throw new QuiverError("INTERNAL", "search thread 0 failed (injected)");
    },
    retain: (live) => inner.retain(live),
    close: () => inner.close(),
  };
  const dir = new MemoryDirectory();
  try {
    const db = await Database.openDirectory(dir, { searchThreads: failing });
    const c = await db.createCollection("c", SCHEMA);
    const ids = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `r${from + i}`);
    await c.upsert(ids(0, 500).map((id, i) => ({ id, vector: vec(i) })));
    const bulk = c.upsert(ids(500, 2000).map((id, i) => ({ id, vector: vec(500 + i) })));
    await assert.rejects(bulk, (e: unknown) => e instanceof QuiverError && e.code === "INTERNAL");
    await assert.rejects(
      c.upsert([{ id: "late", vector: vec(9) }]),
      (e: unknown) => e instanceof QuiverError && e.code === "IO",
      "the writer stops until reopen",
    );
    await db.close().catch(() => undefined);
    const again = await Database.openDirectory(dir);
    const c2 = await again.collection("c");
    assert.equal(await c2.count(), 2000, "the acknowledged records and the logged bulk write are back");
    for (const i of [0, 499, 500, 1999]) {
      const { hits } = await c2.query({ vector: vec(i), limit: 1 });
      assert.equal(hits[0].id, `r${i}`);
    }
    await again.close();
  } finally {
    await inner.close();
  }
});
