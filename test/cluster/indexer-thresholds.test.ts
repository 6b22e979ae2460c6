/**
 * When an indexer compacts a shard (indexer.ts): once the log past the manifest holds more than
 * `afterBatches` batches, `afterRecords` records (upserted records plus deleted ids) or `afterBytes`
 * bytes of batch objects, whichever comes first, and not before. In one process (LocalCoordinator, a
 * memory object store): the indexer ticks after every batch, so the pointers it sums are read a few
 * at a time and dropped once a compaction folds them. The writer's pointers carry each batch's records
 * and the exact size of its object.
 */
import assert from "node:assert/strict";
import { it } from "node:test";
import type { BatchOp } from "../../src/cluster/batch.js";
import { ShardIndexer } from "../../src/cluster/indexer.js";
import { LocalCoordinator } from "../../src/cluster/local-coordinator.js";
import { DirectoryObjectStore, getVerified } from "../../src/cluster/object-store.js";
import { readShardManifest } from "../../src/cluster/shard-manifest.js";
import { type ShardedCollection, shardLog } from "../../src/cluster/shard-map.js";
import { ShardWriter } from "../../src/cluster/shard-writer.js";
import { MemoryDirectory } from "../../src/storage/memory-directory.js";

const collection: ShardedCollection = {
  name: "docs",
  schema: { vectors: { v: { dim: 4, metric: "l2" } } },
  shards: 1,
  generation: 1,
};
const log = shardLog(collection, 0);

async function shard(thresholds: { afterBatches?: number; afterRecords?: number; afterBytes?: number }) {
  const coordinator = new LocalCoordinator();
  const objects = new DirectoryObjectStore(new MemoryDirectory());
  const lease = await coordinator.acquire(log, "writer", 60_000);
  assert.ok(lease);
  const writer = await ShardWriter.open(log, lease, coordinator, objects);
  const indexer = new ShardIndexer({
    ...thresholds,
    nodeId: "indexer",
    catalog: coordinator,
    commitLog: coordinator,
    leases: coordinator,
    objects,
    leaseTtlMs: 10_000,
    fetch: (key, sha256) => getVerified(objects, key, sha256, key),
  });
  let next = 0;
  return {
    coordinator,
    objects,
    /** One batch upserting `records` records (and deleting `deletes` earlier ids); then an indexer tick. */
    async write(records: number, deletes = 0): Promise<void> {
      const ops: BatchOp[] = [
        {
          op: "upsert",
          records: Array.from({ length: records }, () => ({ id: `r${next++}`, vector: [1, 2, 3, next] })),
        },
      ];
      if (deletes > 0) ops.push({ op: "delete", ids: Array.from({ length: deletes }, (_, i) => `r${i}`) });
      await writer.write(ops);
      indexer.run(new Map([[log, collection]]));
      await indexer.idle();
    },
    async compactions(): Promise<number> {
      return (await readShardManifest(coordinator, log)).manifest.generation;
    },
  };
}

it("by records: more than afterRecords upserted records and deleted ids past the manifest", async () => {
  const s = await shard({ afterRecords: 50 });
  for (let b = 0; b < 4; b++) await s.write(10);
  await s.write(5, 5); // 50 records and ids: not more than 50
  assert.equal(await s.compactions(), 0, "50 records do not compact");
  await s.write(1); // 51
  assert.equal(await s.compactions(), 1, "51 records compact");
  const { manifest } = await readShardManifest(s.coordinator, log);
  assert.equal(manifest.appliedThrough, 6);
  // The count starts again after the manifest: what the compaction folded is not counted twice.
  for (let b = 0; b < 5; b++) await s.write(10);
  assert.equal(await s.compactions(), 1, "50 more records do not compact");
  await s.write(1);
  assert.equal(await s.compactions(), 2, "51 more records compact again");
});

it("by bytes: more than afterBytes of batch objects past the manifest; pointers carry their sizes", async () => {
  // The same writes on a shard whose defaults never compact them: the sizes of its batches.
  const probe = await shard({});
  for (let b = 0; b < 4; b++) await probe.write(10);
  const entries = await probe.coordinator.read(log, 1);
  assert.equal(entries.length, 4);
  for (const e of entries) {
    assert.equal(e.records, 10);
    assert.equal(e.bytes, (await probe.objects.get(e.objectKey))?.length, "bytes: the object's size");
  }
  const threeBatches = entries.slice(0, 3).reduce((n, e) => n + (e.bytes as number), 0);

  const s = await shard({ afterBytes: threeBatches });
  for (let b = 0; b < 3; b++) await s.write(10);
  assert.equal(await s.compactions(), 0, `${threeBatches} bytes are not more than ${threeBatches}`);
  await s.write(10);
  assert.equal(await s.compactions(), 1, "a fourth batch is more");
});

it("by batches, as before; and the first threshold reached decides", async () => {
  const s = await shard({ afterBatches: 3, afterRecords: 1000, afterBytes: 2 ** 30 });
  for (let b = 0; b < 3; b++) await s.write(1);
  assert.equal(await s.compactions(), 0);
  await s.write(1);
  assert.equal(await s.compactions(), 1, "4 batches > 3, with 4 records and a few bytes");
  const big = await shard({ afterBatches: 1000, afterRecords: 100 });
  await big.write(101);
  assert.equal(await big.compactions(), 1, "one batch of 101 records compacts at once");
});
