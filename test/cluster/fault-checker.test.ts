/**
 * The fault harness's checker must be able to fail: on a shard written in process (LocalCoordinator,
 * memory object store, real ShardWriters) it passes the right state, and reports each violation the
 * fault tests look for: an acknowledged batch missing from the log, a batch nobody tried, a late
 * commit under an old epoch, a resurrected (deleted) record, a changed payload or vector, a lost
 * upsert, and a wrong top k.
 */
import assert from "node:assert/strict";
import { it } from "node:test";
import type { CollectionApi } from "../../src/api/types.js";
import { encodeBatch, sha256Hex } from "../../src/cluster/batch.js";
import type { CommitLog } from "../../src/cluster/commit-log.js";
import { LocalCoordinator } from "../../src/cluster/local-coordinator.js";
import { DirectoryObjectStore } from "../../src/cluster/object-store.js";
import { followShard } from "../../src/cluster/shard-follower.js";
import { ShardWriter } from "../../src/cluster/shard-writer.js";
import { open } from "../../src/index.js";
import { MemoryDirectory } from "../../src/storage/memory-directory.js";
import { type WriterHistory, checkShard, writerHistory } from "./harness/checker.js";
import { COLLECTION, SCHEMA, writerBatch } from "./harness/workload.js";

const log = "shards/docs/0";

/** A shard with batches 0..7 of writer "a" written and acknowledged, and a follower's collection. */
async function writtenShard() {
  const coordinator = new LocalCoordinator();
  const objects = new DirectoryObjectStore(new MemoryDirectory());
  const lease = await coordinator.acquire(log, "a", 60_000);
  assert.ok(lease);
  const writer = await ShardWriter.open(log, lease, coordinator, objects);
  const lines = [`lease ${lease.epoch}`];
  for (let i = 0; i < 8; i++) {
    lines.push(`try ${i}`);
    lines.push(`ack ${i} ${await writer.write(writerBatch("a", i))}`);
  }
  const db = await open();
  const collection = await db.createCollection(COLLECTION, SCHEMA);
  const follower = await followShard(log, coordinator, objects, collection);
  await follower.waitFor(8);
  await follower.close();
  const check = (writers: WriterHistory[], target: CollectionApi = collection) =>
    checkShard({ log, commitLog: coordinator, objects, writers, collection: target, seed: 1 });
  return { coordinator, objects, lease, lines, db, collection, check };
}

it("passes a shard whose follower holds exactly the acknowledged history", async () => {
  const shard = await writtenShard();
  const result = await shard.check([writerHistory("a", shard.lines)]);
  assert.deepEqual(result.problems, []);
  assert.deepEqual([result.entries, result.acknowledged, result.losses], [8, 8, 0]);
  // 3 upserts per batch; batches 2 and 5 delete one record, batch 6 one more.
  assert.equal(result.operations, 8 * 3 + 3);
  await shard.db.close();
});

it("reports an acknowledgement the log does not hold as a loss", async () => {
  const shard = await writtenShard();
  const history = writerHistory("a", [...shard.lines, "try 8", "ack 8 9"]);
  const result = await shard.check([history]);
  assert.equal(result.losses, 1);
  assert.ok(result.problems.some((p) => p.startsWith("lost: a's batch 8")));
  await shard.db.close();
});

it("reports a logged batch nobody tried, and one under an older epoch than the log had", async () => {
  const shard = await writtenShard();
  // A second holder appends b's batch 0 (seq 9), then a's batch 8 (seq 10), which the doctored log
  // below shows under a's old epoch: a late commit that fencing should have stopped.
  await shard.lease.release();
  const taken = await shard.coordinator.acquire(log, "b", 60_000);
  assert.ok(taken);
  for (const [tag, i] of [
    ["b", 0],
    ["a", 8],
  ] as const) {
    const bytes = encodeBatch(writerBatch(tag, i));
    await shard.objects.put(`x/${tag}-${i}`, bytes);
    const entry = { objectKey: `x/${tag}-${i}`, sha256: await sha256Hex(bytes), count: 1, epoch: taken.epoch };
    assert.ok((await shard.coordinator.append(log, await shard.coordinator.head(log), entry)).committed);
  }
  const oldEpoch = shard.lease.epoch;
  const doctored: CommitLog = {
    head: (l) => shard.coordinator.head(l),
    append: (l, h, e) => shard.coordinator.append(l, h, e),
    subscribe: (l, f) => shard.coordinator.subscribe(l, f),
    trim: (l, through, guard) => shard.coordinator.trim(l, through, guard),
    read: async (l, from, limit) =>
      (await shard.coordinator.read(l, from, limit)).map((e) => (e.seq === 10 ? { ...e, epoch: oldEpoch } : e)),
  };
  const result = await checkShard({
    log,
    commitLog: doctored,
    objects: shard.objects,
    writers: [writerHistory("a", [...shard.lines, "try 8"])],
    collection: shard.collection,
    seed: 1,
  });
  assert.ok(result.problems.some((p) => p.startsWith("seq 9: a batch no writer tried")));
  assert.ok(result.problems.some((p) => p.startsWith(`seq 10: epoch ${oldEpoch} after epoch ${taken.epoch}`)));
  await shard.db.close();
});

it("reports a deleted record back, a changed payload or vector, a missing record and a wrong top k", async () => {
  const shard = await writtenShard();
  const history = writerHistory("a", shard.lines);
  const deleted = "a-0-1"; // deleted by batch 2
  const changed = writerBatch("a", 7)[0];
  assert.ok(changed.op === "upsert");
  const [fresh, other] = changed.records;
  await shard.collection.upsert([
    { id: deleted, vector: Array(8).fill(0), payload: {} },
    { ...fresh, payload: { ...fresh.payload, note: "changed" } },
    { ...other, vector: (other.vector as number[]).map((x) => x + 1) },
  ]);
  await shard.collection.delete(["hot-2"]); // last written by batch 7
  const result = await shard.check([history]);
  assert.ok(
    result.problems.includes(`state: ${deleted} present, deleted or never written`),
    result.problems.join("\n"),
  );
  assert.ok(result.problems.some((p) => p.startsWith(`state: ${fresh.id} is`)));
  assert.ok(result.problems.some((p) => p.startsWith(`state: ${other.id} is`)));
  assert.ok(result.problems.includes("state: hot-2 missing"));
  assert.ok(result.problems.some((p) => p.startsWith("top 10 of query")));
  await shard.db.close();
});
