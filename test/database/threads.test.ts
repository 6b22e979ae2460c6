/**
 * Parallel queries through the embedded API (open(path, { threads })): the graph searches run in
 * worker threads over shared memory, and must change nothing a caller can see. The same queries with
 * and without threads give the same ids, order, scores and plans (unfiltered, filtered, ACORN, lazy,
 * hybrid); queries racing writes never see a torn state (every hit exists, with the exact score of the
 * vector stored for it); close() stops the threads; a thread's failure is a QuiverError.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { open, NodeSearchThreads, type Collection, type QueryRequest } from "../../src/index.js";
import { Database } from "../../src/database/database.js";
import { MemoryDirectory } from "../../src/storage/memory-directory.js";
import type { SearchThreads } from "../../src/core/index/hnsw/parallel.js";
import { QuiverError } from "../../src/core/errors/errors.js";
import { loadHnswModule } from "../../src/core/index/hnsw/module.js";
import { rng } from "../support/brute.js";

const DIM = 16;

function clustered(seed: number, n: number): number[][] {
  const r = rng(seed);
  const centroids = Array.from({ length: 30 }, () => Array.from({ length: DIM }, () => r() * 2 - 1));
  return Array.from({ length: n }, () => centroids[Math.floor(r() * 30)].map((x) => x + (r() - 0.5) * 0.4));
}

const SCHEMA = {
  vectors: { v: { dim: DIM, metric: "cosine" as const, index: { type: "hnsw" as const, m: 8, efConstruction: 40 } } },
  indexes: { g: "keyword" as const },
  text: { body: {} },
};

/**
 * Batches below PARALLEL_BUILD_MIN: with threads, a graph is then built insert by insert on the writer's
 * thread, the same graph as without (parallel builds are checked in parallel-build.test.ts).
 */
async function fill(c: Collection, n: number): Promise<void> {
  const vectors = clustered(1, n);
  for (let i = 0; i < n; i += 500) {
    await c.upsert(
      vectors.slice(i, i + 500).map((v, j) => ({
        id: `r${i + j}`,
        vectors: { v },
        payload: { g: `g${(i + j) % 5}`, odd: (i + j) % 2, body: (i + j) % 3 === 0 ? "red fox" : "blue whale" },
      })),
    );
  }
}

/**
 * Queries reaching each plan: graph, lazy filters, an exact pass, hybrid. A filtered hybrid query walks
 * the graph with the filter's match set (ACORN for one g of five): vector-only queries take the lazy
 * plan there, cheaper by the filter planner's estimate, and a hybrid plan does not name its graph walk.
 */
function requests(): QueryRequest[] {
  const qs = clustered(2, 12);
  return qs.flatMap((vector, i) => [
    { vector, limit: 10, explain: true },
    { vector, limit: 10, ef: 100, filter: { odd: 1 }, explain: true },
    { vector, limit: 10, filter: { g: "g3" }, explain: true },
    { vector, limit: 10, filter: { g: { $in: ["g1", "g2"] } }, explain: true },
    { vector, limit: 10, filter: { g: "g1", odd: 0 }, explain: true },
    { vector, text: i % 2 ? "red fox" : "whale", limit: 10, explain: true },
    { vector, text: "red fox", filter: { g: "g3" }, limit: 10, explain: true },
  ]);
}

async function answers(c: Collection): Promise<{ outcome: unknown[]; strategies: Set<string> }> {
  const strategies = new Set<string>();
  // All at once: with threads, many are in flight together.
  const results = await Promise.all(requests().map((r) => c.query(r)));
  for (const r of results) strategies.add(r.plan.strategy);
  return { outcome: results.map((r) => ({ hits: r.hits, plan: r.plan })), strategies };
}

test("with threads, queries answer exactly what they answer without (ids, order, scores, plans)", async () => {
  const path = await mkdtemp(join(tmpdir(), "quiver-threads-"));
  try {
    const db = await open(path);
    const c = await db.createCollection("c", SCHEMA);
    await fill(c, 22000);
    const alone = await answers(c);
    await db.close();
    for (const s of ["hnsw", "hnsw-lazy", "exact-filtered", "hybrid"]) {
      assert.ok(alone.strategies.has(s), `the queries reach ${s} (got ${[...alone.strategies]})`);
    }
    // The same graph, restored from the index file into shared memory and searched by two threads.
    const threaded = await open(path, { threads: 2 });
    const withThreads = await answers(await threaded.collection("c"));
    await threaded.close();
    assert.deepEqual(withThreads.outcome, alone.outcome);
  } finally {
    await rm(path, { recursive: true, force: true });
  }
});

test("a graph built while threads run (writes hold them off) answers as one built without", async () => {
  const built: unknown[][] = [];
  for (const threads of [0, 2]) {
    const db = await open(undefined, { threads });
    const c = await db.createCollection("c", SCHEMA);
    await fill(c, 5000);
    built.push((await answers(c)).outcome);
    await db.close();
  }
  assert.deepEqual(built[1], built[0]);
});

/** A record's vector at version `ver`: its id and version decide it, so a hit can be checked alone. */
function vectorOf(id: number, ver: number): number[] {
  const r = rng(id * 7919 + ver * 104729 + 1);
  return Array.from({ length: DIM }, () => r() * 2 - 1);
}

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return ab / Math.sqrt(aa * bb);
}

test("queries racing writes see no torn state: every hit exists, with the exact score of its stored vector", async () => {
  const db = await open(undefined, { threads: 2 });
  const c = await db.createCollection("c", { vectors: SCHEMA.vectors });
  const N = 3000;
  await c.upsert(
    Array.from({ length: N }, (_, id) => ({ id: String(id), vectors: { v: vectorOf(id, 0) }, payload: { ver: 0 } })),
  );
  let writing = true;
  let writes = 0;
  const writer = (async () => {
    const r = rng(3);
    try {
      for (let round = 1; round <= 40; round++) {
        // Replace some, delete some, add some: slots are freed, reused and the memory grows meanwhile.
        const ids = [...new Set(Array.from({ length: 60 }, () => Math.floor(r() * (N + round * 40))))];
        await c.upsert(
          ids.map((id) => ({ id: String(id), vectors: { v: vectorOf(id, round) }, payload: { ver: round } })),
        );
        await c.delete(ids.slice(0, 15).map(String));
        writes += 2;
      }
    } finally {
      writing = false;
    }
  })();
  let checked = 0;
  let duringWrites = 0;
  const qs = clustered(9, 8);
  const reader = async (k: number) => {
    for (let i = 0; writing || i < 3; i++) {
      const q = qs[(i + k) % qs.length];
      const before = writes;
      const { hits } = await c.query({ vector: q, limit: 10, withVectors: true });
      if (writing && writes !== before) duringWrites++;
      assert.equal(hits.length, 10);
      for (const h of hits) {
        const ver = (h.payload as { ver: number }).ver;
        const stored = (h.vectors as { v: number[] }).v;
        const want = vectorOf(Number(h.id), ver);
        assert.ok(Math.abs(cosine(stored, want) - 1) < 1e-5, `hit ${h.id} holds the vector of version ${ver}`);
        assert.ok(Math.abs(h.score - cosine(q, want)) < 1e-4, `hit ${h.id}: score ${h.score} is exact`);
        checked++;
      }
    }
  };
  await Promise.all([writer, reader(0), reader(1), reader(2), reader(3)]);
  await db.close();
  assert.ok(checked > 400, `checked ${checked} hits`);
  assert.ok(duringWrites > 0, "some queries ran while writes went on");
});

test("close() stops the threads, after the queries in flight", async () => {
  const inner = new NodeSearchThreads(2);
  let closed = 0;
  const threads: SearchThreads = {
    size: inner.size,
    lanes: inner.lanes,
    searchLane: (...args) => inner.searchLane(...args),
    link: (...args) => inner.link(...args),
    retain: (live) => inner.retain(live),
    close: () => {
      closed++;
      return inner.close();
    },
  };
  const db = await Database.openDirectory(new MemoryDirectory(), { searchThreads: threads });
  const c = await db.createCollection("c", { vectors: SCHEMA.vectors });
  await c.upsert(clustered(4, 500).map((v, i) => ({ id: String(i), vectors: { v } })));
  const inFlight = Promise.all(clustered(5, 20).map((vector) => c.query({ vector, limit: 5 })));
  await db.close();
  assert.equal((await inFlight).length, 20, "queries in flight at close() were answered");
  assert.equal(closed, 1);
  // Closed threads refuse work with CLOSED (not as a crashed thread, and without hanging).
  const closedPool = (e: unknown) => e instanceof QuiverError && e.code === "CLOSED" && /were closed/.test(e.message);
  const module = await loadHnswModule(undefined, true);
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: true });
  await assert.rejects(
    inner.searchLane(0, memory, module, { hdr: 0, lane: 0, k: 1, ef: 1, filterMode: 0 }),
    closedPool,
  );
  await assert.rejects(inner.link(0, memory, module, { hdr: 0, lane: 0, queue: new Int32Array(0) }), closedPool);
  // A second database given the closed threads: its graph searches are refused the same way.
  const again = await Database.openDirectory(new MemoryDirectory(), { searchThreads: inner });
  try {
    const c2 = await again.createCollection("c", { vectors: SCHEMA.vectors });
    await c2.upsert(clustered(4, 50).map((v, i) => ({ id: String(i), vectors: { v } })));
    await assert.rejects(c2.query({ vector: clustered(5, 1)[0], limit: 5 }), closedPool);
  } finally {
    await again.close();
  }
});

for (const callerSearches of [false, true]) {
  test(`a failure inside a search surfaces as a QuiverError, and the threads serve on (callerSearches ${callerSearches})`, async () => {
    const threads = new NodeSearchThreads(1, { callerSearches });
    try {
      const module = await loadHnswModule(undefined, true);
      const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: true });
      // A header past the memory's end: the module traps, where the search ran (a thread, or this one).
      const where = callerSearches ? /search thread 0|calling thread/ : /search thread 0/;
      await assert.rejects(
        threads.searchLane(0, memory, module, { hdr: 1 << 20, lane: 0, k: 1, ef: 1, filterMode: 0 }),
        (e) => e instanceof QuiverError && e.code === "INTERNAL" && where.test(e.message),
      );
      // An empty graph (a zeroed header: entry 0 but no nodes is not reached; ENTRY -1 is) answers nothing.
      new Int32Array(memory.buffer, 0, 64).fill(0)[19] = -1;
      assert.equal(await threads.searchLane(0, memory, module, { hdr: 0, lane: 1024, k: 1, ef: 1, filterMode: 0 }), 0);
    } finally {
      await threads.close();
    }
  });
}

test("threads is checked", async () => {
  await assert.rejects(
    open(undefined, { threads: -1 }),
    (e) => e instanceof QuiverError && e.code === "INVALID_ARGUMENT",
  );
  await assert.rejects(
    open(undefined, { threads: 1.5 }),
    (e) => e instanceof QuiverError && e.code === "INVALID_ARGUMENT",
  );
});
