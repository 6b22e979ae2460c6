/**
 * Helpers of the cluster storage tests (compaction, replicas, cache, GC) on a real etcd member and
 * s3rver: a shard's services under a fresh prefix, a writer that records what it acknowledged, a
 * compaction under the shard's compactor lease, a fresh replica's whole state, and an ObjectStore
 * that counts GETs.
 */
import { randomUUID } from "node:crypto";
import type { ObjectInfo, ObjectStore } from "../../src/cluster/object-store.js";
import { getVerified } from "../../src/cluster/object-store.js";
import { EtcdCoordinator } from "../../src/cluster/etcd/etcd-coordinator.js";
import { S3ObjectStore } from "../../src/cluster/s3/s3-object-store.js";
import { type CompactorOptions, compactShard, compactorLease } from "../../src/cluster/compactor.js";
import { ShardWriter } from "../../src/cluster/shard-writer.js";
import { type ShardReplicaOptions, openShardReplica } from "../../src/cluster/shard-bootstrap.js";
import type { EtcdMember, S3Stand } from "./cluster-services.js";
import { DIM, type Expected, batchOps, stateOf } from "./shard-workload.js";

/** A graph from the first record (the "auto" default builds one only past a few thousand records). */
export const SCHEMA = { vectors: { v: { dim: DIM, metric: "l2" as const, index: { type: "hnsw" as const } } } };

/** The compactor lease of the storage tests: short, so a killed compactor's lease frees soon. */
export const COMPACTOR_LEASE = { ttlMs: 2_000 };

/** Records every get and put key, passing them on. */
export class CountingStore implements ObjectStore {
  gets: string[] = [];
  puts: string[] = [];
  constructor(private readonly inner: ObjectStore) {}
  put(key: string, bytes: Uint8Array): Promise<void> {
    this.puts.push(key);
    return this.inner.put(key, bytes);
  }
  get(key: string): Promise<Uint8Array | null> {
    this.gets.push(key);
    return this.inner.get(key);
  }
  delete(key: string): Promise<void> {
    return this.inner.delete(key);
  }
  list(prefix: string): Promise<ObjectInfo[]> {
    return this.inner.list(prefix);
  }
}

export class Shard {
  readonly coordinator: EtcdCoordinator;
  readonly s3: S3ObjectStore;
  readonly objects: CountingStore;
  /** Batch indexes (of shard-workload) acknowledged, in order. */
  readonly acked: number[] = [];
  private writer: ShardWriter | null = null;

  /** A log of its own, so its objects (named under the log) are apart from other tests' in the shared bucket. */
  readonly log = `shards/${randomUUID()}/0`;

  constructor(etcd: EtcdMember, s3: S3Stand, prefix: string) {
    this.coordinator = new EtcdCoordinator({ endpoints: [etcd.endpoint], prefix });
    this.s3 = new S3ObjectStore({ endpoint: s3.endpoint, bucket: s3.bucket, credentials: s3.credentials });
    this.objects = new CountingStore(this.s3);
  }

  /** Writes workload batches `from` to `to - 1`, each acknowledged before the next. */
  async write(from: number, to: number): Promise<void> {
    if (!this.writer) {
      const lease = await this.coordinator.acquire(this.log, "test-writer", 30_000);
      if (!lease) throw new Error("the shard's writer lease is taken");
      this.writer = await ShardWriter.open(this.log, lease, this.coordinator, this.objects);
    }
    for (let i = from; i < to; i++) {
      await this.writer.write(batchOps(this.log, i));
      this.acked.push(i);
    }
  }

  /**
   * One compaction under the compactor lease (waiting for a killed holder's lease to expire), held for
   * `COMPACTOR_LEASE` and renewed by the compactor meanwhile.
   */
  async compact(extra: Partial<CompactorOptions> = {}) {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const lease = await this.coordinator.acquire(compactorLease(this.log), "test-compactor", COMPACTOR_LEASE.ttlMs);
      if (lease)
        try {
          return await compactShard({ ...this.base(), lease, leases: COMPACTOR_LEASE, ...extra });
        } finally {
          await lease.release().catch(() => {});
        }
      if (Date.now() > deadline) throw new Error("the compactor lease was never free");
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  base() {
    return {
      log: this.log,
      schema: SCHEMA,
      commitLog: this.coordinator,
      catalog: this.coordinator,
      objects: this.objects,
    };
  }

  /** A fresh replica, caught up with the head, then closed: its state and how it loaded. */
  async freshReplica(extra: Partial<ShardReplicaOptions> = {}) {
    const replica = await openShardReplica({
      ...this.base(),
      fetch: (key, sha256) => getVerified(this.objects, key, sha256, "test"),
      ...extra,
    });
    try {
      await replica.waitFor(await this.coordinator.head(this.log));
      const state: Map<string, Expected> = await stateOf(replica.collection);
      return { state, loads: replica.loads, recovery: replica.recovery, manifest: replica.manifest };
    } finally {
      await replica.close();
    }
  }

  close(): void {
    this.coordinator.close();
    this.s3.close();
  }
}
