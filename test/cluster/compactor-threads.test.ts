/**
 * The compactor's parallel build: a log range folded in runs (batch-fold.ts) ends in the state the
 * batches applied one by one give, and with search threads the compacted graph is built by them (the
 * helper threads link a real share) and is as good as the one-thread fold's (recall@10 on exact ground
 * truth within 0.005 at equal ef 128 and 256, where recall@10 is near 0.95 and above: lower, two builds
 * of the same kind already differ by a few thousandths), with replaces and deletes among the batches.
 */
import assert from "node:assert/strict";
import { it } from "node:test";
import { FoldRun } from "../../src/cluster/batch-fold.js";
import type { BatchOp } from "../../src/cluster/batch.js";
import { compactShard, compactorLease } from "../../src/cluster/compactor.js";
import { LocalCoordinator } from "../../src/cluster/local-coordinator.js";
import { DirectoryObjectStore, getVerified } from "../../src/cluster/object-store.js";
import { openShardReplica } from "../../src/cluster/shard-bootstrap.js";
import { ShardWriter } from "../../src/cluster/shard-writer.js";
import { clustered } from "../../src/core/index/hnsw/test-support.js";
import type { SearchThreads } from "../../src/core/index/hnsw/parallel.js";
import { Database } from "../../src/database/database.js";
import { MemoryDirectory } from "../../src/storage/memory-directory.js";
import { countingThreads } from "../support/counting-threads.js";
import { stateOf } from "../support/shard-workload.js";

const DIM = 32;
const N = 12_000;
const BATCH = 200;
const SCHEMA = {
  vectors: { v: { dim: DIM, metric: "l2" as const, index: { type: "hnsw" as const, m: 16, efConstruction: 100 } } },
};
const vectors = clustered(N, DIM, 5, 200);
const queries = clustered(1000, DIM, 77, 200);

/**
 * Batch b upserts records b*BATCH.. of `vectors`; every fifth also replaces five records of the batch
 * before (with the vector of a record of its own) and deletes three more, so runs merge repeats.
 */
function batches(): BatchOp[][] {
  const out: BatchOp[][] = [];
  for (let b = 0; b * BATCH < N; b++) {
    const from = b * BATCH;
    const records = Array.from({ length: BATCH }, (_, j) => ({
      id: `r${from + j}`,
      vector: Array.from(vectors[from + j]!),
      payload: { b },
    }));
    const ops: BatchOp[] = [{ op: "upsert", records }];
    if (b % 5 === 4) {
      const prev = from - BATCH;
      ops.push({ op: "delete", ids: [0, 1, 2].map((j) => `r${prev + 10 + j}`) });
      ops.push({
        op: "upsert",
        records: [0, 1, 2, 3, 4].map((j) => ({ id: `r${prev + j}`, vector: Array.from(vectors[from + 100 + j]!) })),
      });
    }
    out.push(ops);
  }
  return out;
}

/** The expected state: the batches applied one by one (id -> vector). */
function replayVectors(all: BatchOp[][]): Map<string, number[]> {
  const state = new Map<string, number[]>();
  for (const ops of all)
    for (const op of ops)
      if (op.op === "delete") for (const id of op.ids) state.delete(id);
      else for (const r of op.records) state.set(r.id, r.vector as number[]);
  return state;
}

/** Writes `all` to a fresh log, compacts it (with `threads` or on this thread), opens a replica of it. */
async function compacted(all: BatchOp[][], threads: SearchThreads | undefined) {
  const coordinator = new LocalCoordinator();
  const objects = new DirectoryObjectStore(new MemoryDirectory());
  const log = "shards/c/0";
  const writerLease = await coordinator.acquire(log, "writer", 60_000);
  const writer = await ShardWriter.open(log, writerLease!, coordinator, objects);
  for (const ops of all) await writer.write(ops);
  const lease = await coordinator.acquire(compactorLease(log), "compactor", 60_000);
  const base = { log, schema: SCHEMA, commitLog: coordinator, catalog: coordinator, objects };
  const started = performance.now();
  const result = await compactShard({ ...base, lease: lease!, leases: { ttlMs: 60_000 }, searchThreads: threads });
  const ms = performance.now() - started;
  assert.ok(result.committed);
  const replica = await openShardReplica({
    ...base,
    fetch: (key, sha256) => getVerified(objects, key, sha256, "test"),
  });
  assert.equal(replica.recovery.graphsRestored, 1, "the replica restores the compacted graph");
  return { replica, ms };
}

/** Brute-force top 10 ids of `q` over `state`. */
function truth(state: Map<string, number[]>, q: Float32Array): string[] {
  const scored: [string, number][] = [];
  for (const [id, v] of state) {
    let d = 0;
    for (let i = 0; i < DIM; i++) d += (v[i]! - q[i]!) ** 2;
    scored.push([id, d]);
  }
  return scored
    .sort((a, b) => a[1] - b[1])
    .slice(0, 10)
    .map(([id]) => id);
}

it("a fold run (one delete, one upsert) ends in the state of its batches applied one by one", async () => {
  // Batches 0-3 applied one by one to both, then 4-11 as one run to one of them: the run replaces
  // and deletes records that were there before it (batch 4 deletes r610-r612 of batch 3).
  const all = batches().slice(0, 12);
  const one = await Database.openDirectory(new MemoryDirectory());
  const merged = await Database.openDirectory(new MemoryDirectory());
  try {
    const a = await one.createCollection("c", SCHEMA);
    const b = await merged.createCollection("c", SCHEMA);
    const apply = async (c: typeof a, ops: BatchOp[]) => {
      for (const op of ops) {
        if (op.op === "upsert") await c.upsert(op.records);
        else await c.delete(op.ids);
      }
    };
    for (const ops of all) await apply(a, ops);
    for (const ops of all.slice(0, 4)) await apply(b, ops);
    assert.equal((await b.get(["r610"])).length, 1);
    const run = new FoldRun();
    for (const ops of all.slice(4)) run.add(ops);
    assert.ok(run.size > 0);
    await run.applyTo(b);
    assert.equal(run.size, 0, "applied, the run is empty");
    assert.deepEqual(await stateOf(b), await stateOf(a));
    assert.deepEqual(await b.get(["r610", "r611", "r612"]), [], "deleted by the run");
    assert.equal(await b.count(), replayVectors(all).size);
  } finally {
    await Promise.all([one.close(), merged.close()]);
  }
});

it("with threads the compactor's graph is built by them, and is as good as the one-thread fold's", async () => {
  const all = batches();
  const expected = replayVectors(all);
  const { threads, linked } = countingThreads(2);
  const alone = await compacted(all, undefined);
  let parallel: Awaited<ReturnType<typeof compacted>> | undefined;
  try {
    parallel = await compacted(all, threads);
    const helped = linked.reduce((a, b) => a + b, 0);
    assert.ok(helped > expected.size / 5, `the helper threads linked ${helped} of ${expected.size} slots`);
    for (const { replica } of [alone, parallel]) {
      assert.equal(await replica.collection.count(), expected.size);
      const sample = [...expected.keys()].filter((_, i) => i % 500 === 0);
      const got = await replica.collection.get(sample, { withVectors: true });
      assert.deepEqual(
        got.map((r) => Array.from(r.vectors?.v as ArrayLike<number>)),
        sample.map((id) => expected.get(id)),
      );
    }
    const exact = queries.map((q) => truth(expected, q));
    for (const ef of [128, 256]) {
      const recall = async (c: typeof alone): Promise<number> => {
        let hit = 0;
        for (let i = 0; i < queries.length; i++) {
          const { hits } = await c.replica.collection.query({ vector: queries[i]!, limit: 10, ef });
          const t = new Set(exact[i]);
          for (const h of hits) if (t.has(h.id)) hit++;
        }
        return hit / (queries.length * 10);
      };
      const [r1, r2] = [await recall(alone), await recall(parallel)];
      console.log(`# ef ${ef}: recall@10 one-thread fold ${r1.toFixed(4)}, threads ${r2.toFixed(4)}`);
      assert.ok(Math.abs(r2 - r1) <= 0.005, `ef ${ef}: threads ${r2} vs one thread ${r1}`);
    }
    console.log(
      `# compaction of ${N} records: one thread ${alone.ms.toFixed(0)} ms, threads ${parallel.ms.toFixed(0)} ms`,
    );
  } finally {
    await alone.replica.close();
    await parallel?.replica.close();
    await threads.close();
  }
});
