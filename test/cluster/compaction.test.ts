/**
 * The shard's storage side on a real etcd member and s3rver: compaction folds the log into segments
 * and a graph, commits the manifest by compare-and-set and trims the log; a fresh replica loads the
 * manifest and the tail and must equal the replay of every acknowledged batch (exact payloads and
 * vectors, deletes of records in older segments honoured); a replica racing a trim loads again; a
 * compactor that lost the race commits nothing; GC deletes exactly the unreferenced objects, and
 * only after they stayed unreferenced for the grace period.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { it } from "node:test";
import type { Catalog } from "../../src/cluster/catalog.js";
import { type CompactionResult, compactShard, compactorLease } from "../../src/cluster/compactor.js";
import { GarbageCollector } from "../../src/cluster/gc.js";
import { manifestKey, readShardManifest, referencedKeys } from "../../src/cluster/shard-manifest.js";
import { decodeSegment } from "../../src/storage/segment.js";
import { useEtcdAndS3 } from "../support/cluster-services.js";
import { replay } from "../support/shard-workload.js";
import { COMPACTOR_LEASE, Shard } from "../support/shard-storage.js";

const services = useEtcdAndS3();

it("after compactions and trims, a fresh replica equals the replay of every acknowledged batch", async () => {
  const shard = new Shard(services.etcd, services.s3, `compact-${randomUUID()}`);
  try {
    await shard.write(0, 10);
    const first = await shard.compact();
    assert.ok(first.committed);
    assert.equal(first.trimmed, true);
    assert.deepEqual(
      [first.manifest.generation, first.manifest.appliedThrough, first.manifest.segments.length],
      [1, 10, 1],
    );
    assert.ok(first.manifest.segments[0]!.graphKey, "the segment carries the shard's graph");
    assert.deepEqual(await shard.coordinator.read(shard.log, 1), [], "pointers up to appliedThrough are trimmed");
    assert.equal(await shard.coordinator.head(shard.log), 10, "the head stays");

    // Batch 11 deletes r9-1, a record that lives in the first segment: a tombstone in the second.
    await shard.write(10, 20);
    const second = await shard.compact();
    assert.ok(second.committed);
    assert.equal(second.manifest.segments.length, 2);
    assert.equal(second.manifest.segments[0]!.graphKey, null, "only the newest segment names a graph");
    const [, newest] = second.manifest.segments;
    assert.deepEqual([newest!.fromSeq, newest!.toSeq], [11, 20]);
    const bytes = await shard.s3.get(newest!.key);
    assert.ok(bytes);
    assert.ok(decodeSegment(bytes, newest!.key).deleted.includes("r9-1"), "the delete is a tombstone");

    await shard.write(20, 25); // a tail the manifest does not hold yet
    const fresh = await shard.freshReplica();
    assert.deepEqual(fresh.state, replay(shard.log, shard.acked));
    assert.equal(fresh.state.has("r9-1"), false);
    assert.equal(fresh.loads, 1);
    assert.equal(fresh.recovery.segmentsLoaded, 2);
    assert.equal(fresh.recovery.graphsRestored, 1, "the graph is loaded, not rebuilt");

    const rewrite = await shard.compact({ maxSegments: 1 });
    assert.ok(rewrite.committed);
    assert.equal(rewrite.manifest.segments.length, 1, "past maxSegments the shard is rewritten as one segment");
    assert.deepEqual([rewrite.manifest.segments[0]!.fromSeq, rewrite.manifest.segments[0]!.toSeq], [1, 25]);
    const rewritten = await shard.s3.get(rewrite.manifest.segments[0]!.key);
    assert.deepEqual(decodeSegment(rewritten!, "rewrite").deleted, [], "a rewrite holds live records only");
    assert.deepEqual((await shard.freshReplica()).state, replay(shard.log, shard.acked));
    const idle = await shard.compact();
    assert.deepEqual([idle.committed, !idle.committed && idle.reason], [false, "up to date"]);
  } finally {
    shard.close();
  }
});

it("a replica whose log was trimmed between reading the manifest and the log loads the newer manifest", async () => {
  const shard = new Shard(services.etcd, services.s3, `race-${randomUUID()}`);
  try {
    await shard.write(0, 6);
    assert.ok((await shard.compact()).committed);
    await shard.write(6, 12);
    // The replica reads generation 1; a compaction commits generation 2 and trims 7..12 before it reads the log.
    let raced = false;
    const racingCatalog: Catalog = {
      get: async (key) => {
        const value = await shard.coordinator.get(key);
        if (key === manifestKey(shard.log) && !raced) {
          raced = true;
          assert.ok((await shard.compact()).committed);
        }
        return value;
      },
      put: (key, value, version) => shard.coordinator.put(key, value, version),
      list: (prefix) => shard.coordinator.list(prefix),
    };
    const fresh = await shard.freshReplica({ catalog: racingCatalog });
    assert.equal(raced, true);
    assert.equal(fresh.loads, 2, "the trimmed log sent the replica back to the manifest");
    assert.equal(fresh.manifest.generation, 2);
    assert.deepEqual(fresh.state, replay(shard.log, shard.acked));
  } finally {
    shard.close();
  }
});

it("a compactor that loses the race commits nothing; GC then deletes exactly the unreferenced objects, after the grace period", async () => {
  const shard = new Shard(services.etcd, services.s3, `gc-${randomUUID()}`);
  const graceMs = 1500;
  try {
    await shard.write(0, 8);
    const folded = (await shard.coordinator.read(shard.log, 1)).map((e) => e.objectKey);
    const putsBefore = shard.objects.puts.length;
    let winner: CompactionResult | undefined;
    // The loser has uploaded its files when another compactor (as if the loser's lease had lapsed) commits first.
    const loser = await shard.compact({
      onStep: async (step) => {
        if (step !== "uploaded" || winner) return;
        const lease = await shard.coordinator.acquire(`${compactorLease(shard.log)}-successor`, "successor", 2_000);
        assert.ok(lease);
        winner = await compactShard({ ...shard.base(), lease, leases: COMPACTOR_LEASE });
        await lease.release();
      },
    });
    assert.deepEqual([loser.committed, !loser.committed && loser.reason], [false, "lost the race"]);
    assert.ok(winner?.committed);
    const { manifest } = await readShardManifest(shard.coordinator, shard.log);
    assert.equal(manifest.generation, 1);
    const winnerKeys = new Set(referencedKeys(manifest));
    const loserKeys = shard.objects.puts.slice(putsBefore).filter((k) => !winnerKeys.has(k));
    assert.equal(loserKeys.length, 2, "the loser's segment and graph");

    await shard.write(8, 10); // live pointers: their batches stay
    const gc = new GarbageCollector({ ...shard.base(), graceMs });
    assert.deepEqual((await gc.collect()).deleted, [], "nothing is deleted the first time it is seen");
    // Generation 2 makes generation 1's graph unreferenced now: it is seen later, so it outlives this grace.
    const third = await shard.compact();
    assert.ok(third.committed);
    const retiredGraph = manifest.segments[0]!.graphKey!;
    await new Promise((resolve) => setTimeout(resolve, graceMs + 100));
    const { deleted } = await gc.collect();
    assert.deepEqual(new Set(deleted), new Set([...loserKeys, ...folded]));
    assert.equal(deleted.includes(retiredGraph), false);
    assert.ok(await shard.s3.get(retiredGraph), "an object unreferenced for less than the grace period stays");
    for (const key of referencedKeys(third.manifest)) assert.ok(await shard.s3.get(key), `${key} is referenced`);
    await new Promise((resolve) => setTimeout(resolve, graceMs + 100));
    const later = await gc.collect();
    assert.ok(later.deleted.includes(retiredGraph));
    assert.deepEqual((await shard.freshReplica()).state, replay(shard.log, shard.acked));
  } finally {
    shard.close();
  }
});

it("a compaction folds at most maxBatches batches, trims only those, and the next one takes the rest", async () => {
  const shard = new Shard(services.etcd, services.s3, `bounded-${randomUUID()}`);
  try {
    await shard.write(0, 7);
    const partial = await shard.compact({ maxBatches: 4 });
    assert.ok(partial.committed);
    assert.equal(partial.manifest.appliedThrough, 4);
    assert.deepEqual(
      (await shard.coordinator.read(shard.log, 1)).map((e) => e.seq),
      [5, 6, 7],
    );
    assert.deepEqual((await shard.freshReplica()).state, replay(shard.log, shard.acked));
    const rest = await shard.compact({ maxBatches: 4 });
    assert.ok(rest.committed);
    assert.equal(rest.manifest.appliedThrough, 7);
    assert.deepEqual((await shard.freshReplica()).state, replay(shard.log, shard.acked));
  } finally {
    shard.close();
  }
});
