/**
 * The shared-memory handoff of the Node search threads (src/node/search-threads.ts, search-handoff.ts):
 * many searches queued at once over every lane answer exactly what the calling thread answers, and a
 * thread that dies fails the search it was running with a QuiverError while the others serve on; with no
 * thread left, queued and later searches fail the same way instead of hanging. White-box where it must
 * be: a test kills a worker and watches a slot's state through the class's private fields.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Worker } from "node:worker_threads";
import { NodeSearchThreads } from "../../src/node/search-threads.js";
import { type Handoff, QUEUED, RUNNING } from "../../src/node/search-handoff.js";
import { ParallelSearch } from "../../src/core/index/hnsw/parallel.js";
import { HnswIndex } from "../../src/core/index/hnsw/hnsw.js";
import { loadHnswModule } from "../../src/core/index/hnsw/module.js";
import { clustered } from "../../src/core/index/hnsw/test-support.js";
import { loadKernelFactory } from "../../src/core/kernels/load.js";
import { VectorSlab } from "../../src/core/vectors/slab.js";
import { annSteps, runHere } from "../../src/core/query/plan/vector-plan.js";
import { QuiverError } from "../../src/core/errors/errors.js";

async function graph(n: number) {
  const module = await loadHnswModule(undefined, true);
  const slab = new VectorSlab(await loadKernelFactory(undefined, undefined, true), 16, "l2");
  const index = new HnswIndex(module, slab, { m: 8, efConstruction: 32 });
  const vectors = clustered(n, 16, 21);
  slab.ensureCapacity(n);
  index.reserve(n);
  vectors.forEach((v, s) => {
    slab.set(s, v);
    index.insert(s);
  });
  return { module, index, queries: clustered(300, 16, 22) };
}

/** The pool's insides a test needs to kill a thread at a chosen moment. */
const insides = (t: NodeSearchThreads) => t as unknown as { threads: { worker: Worker }[]; handoff: Handoff };

/**
 * Waits until a thread has claimed `lane`'s search; returns that thread's index. It yields between looks
 * (a worker starting up needs this thread's event loop).
 */
/**
 * The thread running the search queued in `lane`, once one claims it; null when the search ended before
 * this poll saw it running (a busy machine can delay the poll past a search of several milliseconds).
 */
async function runner(t: NodeSearchThreads, lane: number, search: Promise<unknown>): Promise<number | null> {
  let ended = false;
  search.then(
    () => (ended = true),
    () => (ended = true),
  );
  for (;;) {
    const state = insides(t).handoff.state(lane);
    if (state >= RUNNING) return state - RUNNING;
    if (ended) return null;
    await new Promise((r) => setImmediate(r));
  }
}

/** How many times a race the test needs (a long search seen running) is tried before the test fails. */
const ATTEMPTS = 10;

const exited = (thread: number) => (e: unknown) =>
  e instanceof QuiverError && e.code === "INTERNAL" && new RegExp(`search thread ${thread} exited`).test(e.message);

test("hundreds of searches queued at once over every lane answer exactly as on the calling thread", async () => {
  const { module, index, queries } = await graph(3000);
  const threads = new NodeSearchThreads(2);
  const parallel = new ParallelSearch(threads, module, () => index.prepareLanes(threads.lanes));
  try {
    await parallel.exclusive(() => undefined);
    // k and ef vary, so lanes are reused by searches of different sizes.
    const opts = (i: number) => ({ k: 1 + (i % 3) * 12, ef: 16 + (i % 5) * 40, force: "hnsw" as const });
    const got = await Promise.all(
      queries.map((q, i) => parallel.read(() => parallel.run(annSteps(index, q, opts(i))))),
    );
    queries.forEach((q, i) => {
      const want = runHere(annSteps(index, q, opts(i)));
      assert.deepEqual(got[i].slots, want.slots, `query ${i}: ids and order`);
      assert.deepEqual(got[i].scores, want.scores, `query ${i}: scores`);
    });
  } finally {
    await parallel.close();
  }
});

/**
 * Seen under Deno 2.9.6: after a worker killed by terminate() mid-search has emitted "exit", searches in
 * its lane answer wrong, as if the killed search ran on there. Node and Bun stop it first.
 */
const DENO_TERMINATE_RUNS_ON =
  "Deno 2.9.6's Worker.terminate() lets a running WebAssembly search go on after the worker's exit event (docs/threads.md); Node and Bun stop it";

test("a thread that dies fails the search it runs; the other serves on; with none left, every search fails", {
  skip: "Deno" in globalThis ? DENO_TERMINATE_RUNS_ON : false,
}, async () => {
  const { module, index, queries } = await graph(20_000);
  // Every search in a thread (none on the calling thread), so each can be seen running there and killed.
  const threads = new NodeSearchThreads(2, { callerSearches: false });
  const parallel = new ParallelSearch(threads, module, () => index.prepareLanes(threads.lanes));
  // ef of the whole graph: a search of several milliseconds, long enough to kill its thread during it.
  const long = () =>
    parallel.read(() => parallel.run(annSteps(index, queries[0], { k: 10, ef: 20_000, force: "hnsw" })));
  const short = (q: Float32Array) => parallel.read(() => parallel.run(annSteps(index, q, { k: 10, force: "hnsw" })));
  try {
    await parallel.exclusive(() => undefined);
    // Lanes are handed out from 0 when all are free.
    let first: Promise<unknown> = Promise.resolve();
    let dead: number | null = null;
    for (let attempt = 0; dead === null; attempt++) {
      assert.ok(attempt < ATTEMPTS, "a long search was seen running in lane 0");
      first = long();
      dead = await runner(threads, 0, first);
      if (dead === null) await first;
    }
    void insides(threads).threads[dead].worker.terminate();
    await assert.rejects(first, exited(dead));

    // The survivor answers the next searches exactly, in the lane whose search was cut short (its
    // visited marks were left behind: searches there would skip the nodes they mark, had it not been cleared).
    for (const q of queries.slice(0, 20)) {
      const got = await short(q);
      const want = runHere(annSteps(index, q, { k: 10, force: "hnsw" }));
      assert.deepEqual(got.slots, want.slots);
      assert.deepEqual(got.scores, want.scores);
    }

    // The last thread dies running one search while another waits queued: both fail, and so does the next.
    const alive = 1 - dead;
    const handoff = insides(threads).handoff;
    let running: Promise<unknown> = Promise.resolve();
    let queued: Promise<unknown> = Promise.resolve();
    for (let attempt = 0; ; attempt++) {
      assert.ok(attempt < ATTEMPTS, "a long search was seen running in lane 0 with another queued in lane 1");
      running = long();
      const r = await runner(threads, 0, running);
      if (r === null) {
        await running;
        continue;
      }
      assert.equal(r, alive);
      // Queued behind it: the only thread is busy, so the search waits in its slot (lane 1).
      queued = long();
      while (handoff.state(1) !== QUEUED && handoff.state(0) === RUNNING + alive) {
        await new Promise((r) => setImmediate(r));
      }
      if (handoff.state(1) === QUEUED && handoff.state(0) === RUNNING + alive) break;
      // The first search ended before the second was seen queued: both finish; try again.
      await Promise.all([running, queued]);
    }
    void insides(threads).threads[alive].worker.terminate();
    await assert.rejects(running, exited(alive));
    await assert.rejects(queued, (e) => e instanceof QuiverError && e.code === "INTERNAL" && /exited/.test(e.message));
    await assert.rejects(
      short(queries[1]),
      (e) => e instanceof QuiverError && e.code === "INTERNAL" && /exited/.test(e.message),
    );
  } finally {
    await parallel.close();
  }
});
