// The readers-writer gate and the scheduler of parallel.ts, with no threads: a fake SearchThreads runs
// each lane search on this thread after a delay, so the order of events is the test's to choose.

import { test } from "node:test";
import assert from "node:assert/strict";
import { ParallelSearch, ReadGate, type SearchThreads } from "./parallel.js";
import { QuiverError } from "../../errors/errors.js";
import { loadKernelFactory } from "../../kernels/load.js";
import { VectorSlab } from "../../vectors/slab.js";
import { HnswIndex } from "./hnsw.js";
import { instantiateHnsw, loadHnswModule } from "./module.js";
import { linkClaimed } from "./parallel-build.js";
import { clustered } from "./test-support.js";
import { annSteps, runHere } from "../../query/plan/vector-plan.js";

const tick = () => new Promise<void>((r) => setTimeout(r, 1));

test("an exclusive section waits for the readers inside and holds back those who come after it", async () => {
  const gate = new ReadGate();
  const events: string[] = [];
  await gate.enter();
  events.push("reader 1 in");
  const writer = gate.exclusive(() => {
    events.push("writer runs");
  });
  const late = gate.enter().then(() => events.push("reader 2 in"));
  assert.equal(gate.tryEnter(), false, "no reader gets in at once behind a waiting writer");
  await tick();
  assert.deepEqual(events, ["reader 1 in"], "the writer waits for reader 1; reader 2 waits behind the writer");
  gate.leave();
  await writer;
  await late;
  assert.deepEqual(events, ["reader 1 in", "writer runs", "reader 2 in"]);
  assert.equal(gate.tryEnter(), true, "with no writer, a reader gets in at once");
  const next = gate.exclusive(() => events.push("writer 2 runs"));
  await tick();
  assert.equal(events.length, 3, "writer 2 waits for both readers");
  gate.leave();
  gate.leave();
  await next;
  assert.equal(events[3], "writer 2 runs");
});

test("an exclusive section that throws still lets readers in", async () => {
  const gate = new ReadGate();
  await assert.rejects(
    gate.exclusive(() => {
      throw new Error("boom");
    }),
    /boom/,
  );
  await gate.enter();
  gate.leave();
});

async function graph() {
  const module = await loadHnswModule(undefined, true);
  const slab = new VectorSlab(await loadKernelFactory(undefined, undefined, true), 16, "l2");
  const index = new HnswIndex(module, slab, { m: 8, efConstruction: 40 });
  const vectors = clustered(800, 16, 5);
  slab.ensureCapacity(vectors.length);
  index.reserve(vectors.length);
  vectors.forEach((v, s) => {
    slab.set(s, v);
    index.insert(s);
  });
  return { module, slab, index, queries: clustered(40, 16, 6) };
}

/** Threads faked on this thread: each call runs after `delay` ms; records how many ran at once. */
function fakeThreads(size: number, module: WebAssembly.Module, delay = 1) {
  let running = 0;
  const seen = { most: 0, calls: 0, closed: false };
  const threads: SearchThreads = {
    size,
    lanes: size + 1,
    async searchLane(thread, memory, _module, call) {
      running++;
      seen.most = Math.max(seen.most, running);
      seen.calls++;
      await new Promise((r) => setTimeout(r, delay));
      running--;
      if (call.k === 7) throw new QuiverError("INTERNAL", `thread ${thread} failed`);
      return instantiateHnsw(module, memory).searchLane(call.hdr, call.lane, call.k, call.ef, call.filterMode);
    },
    link: async (_thread, memory, _module, call) => linkClaimed(instantiateHnsw(module, memory), call),
    retain() {},
    async close() {
      seen.closed = true;
    },
  };
  return { threads, seen };
}

test("ParallelSearch answers as runHere does, with at most one search per lane at a time", async () => {
  const { module, index, queries } = await graph();
  const { threads, seen } = fakeThreads(2, module);
  const parallel = new ParallelSearch(threads, module, () => index.prepareLanes(threads.lanes));
  await parallel.exclusive(() => undefined);
  const got = await Promise.all(
    queries.map((q) => parallel.read(() => parallel.run(annSteps(index, q, { k: 10, force: "hnsw" })))),
  );
  queries.forEach((q, i) => {
    const want = runHere(annSteps(index, q, { k: 10, force: "hnsw" }));
    assert.deepEqual(got[i].slots, want.slots);
    assert.deepEqual(got[i].scores, want.scores);
  });
  assert.equal(seen.calls, queries.length);
  assert.equal(seen.most, 3, "all three lanes were busy at once, never more");
  await parallel.close();
  assert.ok(seen.closed);
});

test("a thread's failure reaches the query as its QuiverError; a graph changed outside the gate is INTERNAL", async () => {
  const { module, slab, index, queries } = await graph();
  const { threads } = fakeThreads(1, module);
  const parallel = new ParallelSearch(threads, module, () => index.prepareLanes(threads.lanes));
  await parallel.exclusive(() => undefined);
  await assert.rejects(
    parallel.read(() => parallel.run(annSteps(index, queries[0], { k: 7, force: "hnsw" }))),
    (e) => e instanceof QuiverError && e.code === "INTERNAL" && /thread 0 failed/.test(e.message),
  );
  // The slab grown behind the gate's back (every region moves): refused rather than read torn.
  slab.ensureCapacity(4000);
  await assert.rejects(
    parallel.read(() => parallel.run(annSteps(index, queries[0], { k: 10, force: "hnsw" }))),
    (e) => e instanceof QuiverError && e.code === "INTERNAL" && /gate/.test(e.message),
  );
});
