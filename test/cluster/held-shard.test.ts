/**
 * Group commit of a shard's writer (src/cluster/held-shard.ts) on the local coordinator and a memory
 * object store whose PUTs and etcd-like appends are slowed down and watched: concurrent writes go out
 * as fewer batches than writes, each acknowledged with the seq of the batch that holds its operations,
 * only after that batch's append; the next batch's PUT overlaps the previous append, appends never
 * overlap, and no more than two batches are in flight; a writer whose shard another took is fenced
 * (nothing acknowledged, nothing logged) and gives the shard up.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { BatchOp } from "../../src/cluster/batch.js";
import { decodeBatch } from "../../src/cluster/batch.js";
import { HeldShard } from "../../src/cluster/held-shard.js";
import { LocalCoordinator } from "../../src/cluster/local-coordinator.js";
import { DirectoryObjectStore } from "../../src/cluster/object-store.js";
import { MemoryDirectory } from "../../src/storage/memory-directory.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const LOG = "shards/docs/1/0";

/** The coordinator and store, slowed, with what was in flight when. */
function slowed() {
  const coordinator = new LocalCoordinator();
  const objects = new DirectoryObjectStore(new MemoryDirectory());
  const seen = { puts: 0, appends: 0, maxAppends: 0, maxBatches: 0, putDuringAppend: 0, acksBeforeAppend: 0 };
  let inFlight = 0;
  let appending = 0;
  const put = objects.put.bind(objects);
  objects.put = async (key, bytes) => {
    inFlight++;
    seen.puts++;
    seen.maxBatches = Math.max(seen.maxBatches, inFlight);
    if (appending > 0) seen.putDuringAppend++;
    await sleep(15);
    return put(key, bytes);
  };
  const append = coordinator.append.bind(coordinator);
  const commitLog = Object.create(coordinator) as LocalCoordinator;
  commitLog.append = async (log, head, entry) => {
    appending++;
    seen.appends++;
    seen.maxAppends = Math.max(seen.maxAppends, appending);
    await sleep(25);
    const outcome = await append(log, head, entry);
    appending--;
    inFlight--;
    return outcome;
  };
  return { coordinator, commitLog, objects, seen };
}

const upsert = (i: number): BatchOp[] => [{ op: "upsert", records: [{ id: `r${i}`, vectors: { v: [i] } }] }];

describe("group commit of a held shard", () => {
  it("groups concurrent writes, pipelines PUT and append, acknowledges each with its batch's seq", async () => {
    const { coordinator, commitLog, objects, seen } = slowed();
    const shard = await HeldShard.take(LOG, "n1", 5000, { leases: coordinator }, commitLog, objects, () => {});
    assert.ok(shard);
    // 60 writes arriving over about 60 ms, while batches take 40 ms each.
    const acks: Promise<number>[] = [];
    for (let i = 0; i < 60; i++) {
      acks.push(shard.write(upsert(i)));
      if (i % 5 === 4) await sleep(5);
    }
    const seqs = await Promise.all(acks);
    const entries = await coordinator.read(LOG, 1);
    assert.equal(entries.length, seen.appends, "every append committed");
    assert.ok(entries.length < 60 / 3, `60 writes went out as ${entries.length} batches`);
    assert.ok(seen.putDuringAppend > 0, "a PUT overlapped an append (pipelined)");
    assert.equal(seen.maxAppends, 1, "appends never overlap");
    assert.ok(seen.maxBatches <= 2, `at most two batches in flight (saw ${seen.maxBatches})`);
    // Each write's operations are in the batch of the seq it was acknowledged with, in write order.
    const ids: string[] = [];
    for (const entry of entries) {
      const bytes = await objects.get(entry.objectKey);
      assert.ok(bytes);
      for (const op of decodeBatch(bytes, entry.objectKey))
        if (op.op === "upsert")
          for (const r of op.records) {
            ids.push(r.id);
            assert.equal(seqs[Number(r.id.slice(1))], entry.seq, `${r.id} acknowledged with its batch's seq`);
          }
    }
    assert.deepEqual(
      ids,
      Array.from({ length: 60 }, (_, i) => `r${i}`),
    );
    await shard.release();
  });

  it("a writer whose shard another took is fenced: nothing acknowledged or logged, the shard given up", async () => {
    const { coordinator, commitLog, objects } = slowed();
    let lost = "";
    const first = await HeldShard.take(LOG, "n1", 300, { leases: coordinator }, commitLog, objects, (_l, why) => {
      lost = why;
    });
    assert.ok(first);
    assert.equal(await first.write(upsert(0)), 1);
    // The first writer's lease lapses unrenewed (a paused process) and a second takes the shard.
    (first as unknown as { renewal: ReturnType<typeof setInterval> }).renewal.unref();
    clearInterval((first as unknown as { renewal: ReturnType<typeof setInterval> }).renewal);
    await sleep(400);
    const second = await HeldShard.take(LOG, "n2", 5000, { leases: coordinator }, commitLog, objects, () => {});
    assert.ok(second && second.epoch > first.epoch);
    const late = await Promise.allSettled([first.write(upsert(1)), first.write(upsert(2))]);
    assert.ok(
      late.every((r) => r.status === "rejected"),
      "late writes of the old writer are not acknowledged",
    );
    assert.match(lost, /fenced/);
    assert.equal(first.held, false);
    assert.equal(await second.write(upsert(3)), 2, "the new writer appends after the last committed batch");
    assert.deepEqual(
      (await coordinator.read(LOG, 1)).map((e) => e.epoch),
      [first.epoch, second.epoch],
    );
    await second.release();
    await first.release();
  });
});
