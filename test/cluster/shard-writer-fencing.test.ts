/**
 * The shard writer's fencing and unknown outcomes, on the process-local coordinator (fake clock) and
 * a memory object store: a paused writer whose lease another took cannot commit (and stays fenced),
 * a commit whose answer was lost is recognised from the log (or, when the log could not be read
 * either, leaves the writer able to go on), a failed PUT is not acknowledged.
 */
import assert from "node:assert/strict";
import { it } from "node:test";
import type { CommitLog } from "../../src/cluster/commit-log.js";
import { LocalCoordinator } from "../../src/cluster/local-coordinator.js";
import { DirectoryObjectStore, type ObjectStore } from "../../src/cluster/object-store.js";
import { ShardWriter } from "../../src/cluster/shard-writer.js";
import { QuiverError, isQuiverError } from "../../src/core/errors/errors.js";
import { MemoryDirectory } from "../../src/storage/memory-directory.js";
import { batchOps } from "../support/shard-workload.js";

const LOG = "shards/docs/0";

it("a paused writer whose lease was taken is fenced: its write is refused, and every later one", async () => {
  let now = 0;
  const coordinator = new LocalCoordinator(() => now);
  const objects = new DirectoryObjectStore(new MemoryDirectory());
  const leaseA = await coordinator.acquire(LOG, "a", 1000);
  assert.ok(leaseA);
  const a = await ShardWriter.open(LOG, leaseA, coordinator, objects);
  assert.equal(await a.write(batchOps(LOG, 0)), 1);
  now += 5000; // a is paused past its lease
  const leaseB = await coordinator.acquire(LOG, "b", 1000);
  assert.ok(leaseB);
  const b = await ShardWriter.open(LOG, leaseB, coordinator, objects);
  assert.equal(await b.write(batchOps(LOG, 1)), 2);
  await assert.rejects(a.write(batchOps(LOG, 2)), (e) => isQuiverError(e, "UNAVAILABLE") && /fenced/.test(String(e)));
  await assert.rejects(a.write(batchOps(LOG, 3)), (e) => isQuiverError(e, "UNAVAILABLE") && /fenced/.test(String(e)));
  assert.deepEqual(
    (await coordinator.read(LOG, 1)).map((e) => [e.seq, e.epoch]),
    [
      [1, leaseA.epoch],
      [2, leaseB.epoch],
    ],
  );
});

it("an append whose answer was lost is acknowledged when the log names its batch, and refused otherwise", async () => {
  const coordinator = new LocalCoordinator();
  const objects = new DirectoryObjectStore(new MemoryDirectory());
  const lease = await coordinator.acquire(LOG, "a", 60_000);
  assert.ok(lease);
  let mode: "lose answer" | "fail" | "ok" = "lose answer";
  const flaky: CommitLog = {
    head: (log) => coordinator.head(log),
    read: (log, from, limit) => coordinator.read(log, from, limit),
    subscribe: (log, onChange) => coordinator.subscribe(log, onChange),
    trim: (log, through, guard) => coordinator.trim(log, through, guard),
    append: async (log, head, entry) => {
      if (mode === "fail") throw new QuiverError("UNAVAILABLE", "etcd did not answer");
      const result = await coordinator.append(log, head, entry);
      if (mode === "lose answer") throw new QuiverError("UNAVAILABLE", "etcd did not answer");
      return result;
    },
  };
  const writer = await ShardWriter.open(LOG, lease, flaky, objects);
  assert.equal(await writer.write(batchOps(LOG, 0)), 1);
  mode = "fail";
  await assert.rejects(writer.write(batchOps(LOG, 1)), (e) => isQuiverError(e, "UNAVAILABLE"));
  mode = "ok";
  assert.equal(await writer.write(batchOps(LOG, 1)), 2);
  assert.equal(await coordinator.head(LOG), 2);
});

it("an append that committed while its answer and the log were both unreachable does not wedge the writer", async () => {
  const coordinator = new LocalCoordinator();
  const objects = new DirectoryObjectStore(new MemoryDirectory());
  const lease = await coordinator.acquire(LOG, "a", 60_000);
  assert.ok(lease);
  let blind = true;
  const unavailable = () => new QuiverError("UNAVAILABLE", "etcd did not answer");
  const flaky: CommitLog = {
    head: (log) => coordinator.head(log),
    subscribe: (log, onChange) => coordinator.subscribe(log, onChange),
    trim: (log, through, guard) => coordinator.trim(log, through, guard),
    read: async (log, from, limit) => {
      if (blind) throw unavailable();
      return coordinator.read(log, from, limit);
    },
    append: async (log, head, entry) => {
      const result = await coordinator.append(log, head, entry);
      if (blind) throw unavailable();
      return result;
    },
  };
  const writer = await ShardWriter.open(LOG, lease, flaky, objects);
  // Committed as seq 1, but the writer cannot know: UNAVAILABLE (outcome unknown), as documented.
  await assert.rejects(writer.write(batchOps(LOG, 0)), (e) => isQuiverError(e, "UNAVAILABLE"));
  blind = false;
  // The next append meets the moved head: not written, and the writer takes the log's head...
  await assert.rejects(
    writer.write(batchOps(LOG, 1)),
    (e) => isQuiverError(e, "UNAVAILABLE") && /moved/.test(String(e)),
  );
  // ...so the one after commits after it.
  assert.equal(await writer.write(batchOps(LOG, 1)), 2);
  assert.deepEqual(
    (await coordinator.read(LOG, 1)).map((e) => e.seq),
    [1, 2],
  );
});

it("a batch the object store refused is not committed nor acknowledged", async () => {
  const coordinator = new LocalCoordinator();
  const store = new DirectoryObjectStore(new MemoryDirectory());
  const down: ObjectStore = {
    put: async () => {
      throw new QuiverError("UNAVAILABLE", "the object store did not answer");
    },
    get: (k) => store.get(k),
    delete: (k) => store.delete(k),
    list: (p) => store.list(p),
  };
  const lease = await coordinator.acquire(LOG, "a", 60_000);
  assert.ok(lease);
  const writer = await ShardWriter.open(LOG, lease, coordinator, down);
  await assert.rejects(writer.write(batchOps(LOG, 0)), (e) => isQuiverError(e, "UNAVAILABLE"));
  assert.equal(await coordinator.head(LOG), 0);
});
