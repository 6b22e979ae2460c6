/**
 * The handoff's spinning and caller searches (src/node/search-threads.ts, search-thread.ts,
 * search-handoff.ts): searches answer exactly as on the calling thread whether the caller runs some of
 * them or none; searches spaced so the threads go back to sleep (and spaced inside their spin) are all
 * answered; close() ends threads that are spinning; and a link posted while a thread is busy is read
 * (it was left on the port when the thread went to sleep right after, and the build hung).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { NodeSearchThreads } from "../../src/node/search-threads.js";
import { type Handoff, RUNNING, SLEEPERS } from "../../src/node/search-handoff.js";
import { ParallelSearch } from "../../src/core/index/hnsw/parallel.js";
import { HnswIndex } from "../../src/core/index/hnsw/hnsw.js";
import { loadHnswModule } from "../../src/core/index/hnsw/module.js";
import { newLinkQueue } from "../../src/core/index/hnsw/parallel-build.js";
import { clustered } from "../../src/core/index/hnsw/test-support.js";
import { loadKernelFactory } from "../../src/core/kernels/load.js";
import { VectorSlab } from "../../src/core/vectors/slab.js";
import { annSteps, runHere } from "../../src/core/query/plan/vector-plan.js";

async function graph(n: number) {
  const module = await loadHnswModule(undefined, true);
  const slab = new VectorSlab(await loadKernelFactory(undefined, undefined, true), 16, "l2");
  const index = new HnswIndex(module, slab, { m: 8, efConstruction: 32 });
  const vectors = clustered(n, 16, 31);
  slab.ensureCapacity(n);
  index.reserve(n);
  vectors.forEach((v, s) => {
    slab.set(s, v);
    index.insert(s);
  });
  return { module, index, queries: clustered(200, 16, 32) };
}

/** The pool's insides these tests look at. */
const insides = (t: NodeSearchThreads) => t as unknown as { handoff: Handoff; instances: Map<number, unknown> };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Rejects when `p` has not settled within `ms`: a hang fails the test instead of stalling the run. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not settled after ${ms} ms`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

for (const callerSearches of [true, false]) {
  test(`bursts and spaced searches answer as on the calling thread (callerSearches ${callerSearches})`, async () => {
    const { module, index, queries } = await graph(3000);
    const threads = new NodeSearchThreads(2, { callerSearches });
    assert.equal(threads.lanes, callerSearches ? 4 : 3, "a lane more for the caller when it searches");
    const parallel = new ParallelSearch(threads, module, () => index.prepareLanes(threads.lanes));
    const opts = (i: number) => ({ k: 1 + (i % 4) * 7, ef: 16 + (i % 3) * 50, force: "hnsw" as const });
    const check = (got: { slots: number[]; scores: number[] }, i: number) => {
      const want = runHere(annSteps(index, queries[i], opts(i)));
      assert.deepEqual(got.slots, want.slots, `query ${i}: ids and order`);
      assert.deepEqual(got.scores, want.scores, `query ${i}: scores`);
    };
    const search = (i: number) => parallel.read(() => parallel.run(annSteps(index, queries[i], opts(i))));
    try {
      await parallel.exclusive(() => undefined);
      // A burst: every lane busy, searches taken back to back (the spin budgets grow).
      const got = await within(Promise.all(queries.map((_, i) => search(i))), 20_000, "a burst");
      got.forEach(check);
      // The caller ran some of the burst over its own instance, or none when it must not.
      assert.equal(insides(threads).instances.size > 0, callerSearches);
      // Spaced: the threads spin out their budget and sleep between searches (counted in SLEEPERS), and
      // are woken for each; then spaced by less than a spin, so some are taken while a thread spins.
      for (let i = 0; i < 20; i++) {
        await sleep(3);
        check(await within(search(i), 5000, `spaced search ${i}`), i);
      }
      const sleepers = insides(threads).handoff.words;
      for (let t0 = Date.now(); Atomics.load(sleepers, SLEEPERS) < 2 && Date.now() - t0 < 5000; ) await sleep(1);
      assert.equal(Atomics.load(sleepers, SLEEPERS), 2, "idle threads sleep (they do not spin on)");
      for (let i = 0; i < 50; i++) {
        const t0 = performance.now();
        while (performance.now() - t0 < (i % 10) * 5) {} // 0 to 45 µs: inside and past the spin
        check(await within(search(i), 5000, `closely spaced search ${i}`), i);
      }
    } finally {
      await parallel.close();
    }
  });
}

test("close() ends threads that are spinning, and searches after it fail", async () => {
  const { module, index, queries } = await graph(2000);
  for (let round = 0; round < 5; round++) {
    const threads = new NodeSearchThreads(2);
    const parallel = new ParallelSearch(threads, module, () => index.prepareLanes(threads.lanes));
    await parallel.exclusive(() => undefined);
    await Promise.all(
      queries.map((q) => parallel.read(() => parallel.run(annSteps(index, q, { k: 5, force: "hnsw" })))),
    );
    // Right after a burst the threads spin on WORK (their budgets grew): close now, at once.
    await within(threads.close(), 5000, "close() of spinning threads");
    const memory = index.slab.wasmMemory;
    await assert.rejects(threads.searchLane(0, memory, module, { hdr: 0, lane: 0, k: 1, ef: 1, filterMode: 0 }));
  }
});

test("a link posted while the thread runs a search is read when the search ends (no lost wake-up)", async () => {
  const { module, index, queries } = await graph(20_000);
  const threads = new NodeSearchThreads(1, { callerSearches: false });
  const parallel = new ParallelSearch(threads, module, () => index.prepareLanes(threads.lanes));
  try {
    await parallel.exclusive(() => undefined);
    const handoff = insides(threads).handoff;
    let seen = 0;
    for (let attempt = 0; attempt < 10 && seen < 3; attempt++) {
      // A search of milliseconds (ef of the whole graph) keeps the thread busy while the link is posted.
      const long = parallel.read(() =>
        parallel.run(annSteps(index, queries[attempt], { k: 10, ef: 20_000, force: "hnsw" })),
      );
      let ended = false;
      void long.then(() => (ended = true));
      while (!ended && handoff.state(0) < RUNNING) await new Promise((r) => setImmediate(r));
      if (ended) continue; // the search ended before it was seen running: try again
      seen++;
      // An empty queue: the thread answers 0 as soon as it reads the message.
      const link = threads.link(0, index.slab.wasmMemory, module, { hdr: 0, lane: 0, queue: newLinkQueue(0) });
      assert.equal(await within(link, 5000, "a link posted while the thread was busy"), 0);
      await long;
    }
    assert.ok(seen > 0, "a long search was seen running");
  } finally {
    await parallel.close();
  }
});
