/**
 * The indexer role of a node: for each shard it is assigned (rendezvous over the live indexer-role
 * members, ClusterNode's tick), it compacts the shard once its log past the manifest holds more than
 * `afterBatches` batches, `afterRecords` records or `afterBytes` bytes of batch objects (whichever comes
 * first: a shard of large batches compacts sooner than one of small ones), under the shard's compactor
 * Lease (one compactor per shard; the manifest's compare-and-set fences a stale one, compactor.ts),
 * and runs garbage collection of the shard's objects with its grace period (gc.ts). One job per shard
 * at a time, off the tick: a long compaction does not hold up writer takeovers or replica moves.
 */
import type { SearchThreads } from "../core/index/hnsw/parallel.js";
import type { Catalog } from "./catalog.js";
import type { CommitLog } from "./commit-log.js";
import { type CompactionResult, compactShard, compactorLease } from "./compactor.js";
import { GarbageCollector } from "./gc.js";
import type { LeaseService } from "./lease.js";
import type { ObjectStore } from "./object-store.js";
import type { FetchVerified } from "./shard-image.js";
import { readShardManifest } from "./shard-manifest.js";
import type { ShardedCollection } from "./shard-map.js";

export interface IndexerSettings {
  /** Compact a shard once its log holds more than this many batches past the manifest (default 1,000). */
  afterBatches?: number;
  /** ... or more than this many records upserted plus ids deleted (default 250,000). */
  afterRecords?: number;
  /** ... or more than this many bytes of batch objects (default 512 MiB). */
  afterBytes?: number;
  /** Rewrite a shard as one segment past this many (default 8). */
  maxSegments?: number;
  /** How long an unreferenced object is kept before garbage collection deletes it (default 10 min). */
  gcGraceMs?: number;
  /** Time between garbage-collection passes of a shard (default a tenth of the grace, at least 1 s). */
  gcIntervalMs?: number;
  /**
   * Threads that build one compaction's graph together (made for it, closed after it: batch-fold.ts);
   * none: the fold builds on the node's main thread alone.
   */
  compactThreads?: () => SearchThreads;
}

export interface IndexerOptions extends IndexerSettings {
  nodeId: string;
  catalog: Catalog;
  commitLog: CommitLog;
  leases: LeaseService;
  objects: ObjectStore;
  leaseTtlMs: number;
  fetch: FetchVerified;
  onWarning?: (message: string) => void;
  /** What the indexer does, one line each (a compaction starting and its outcome), for the operator. */
  onEvent?: (message: string) => void;
  /** Each committed or refused compaction (for status and tests). */
  onCompaction?: (log: string, result: CompactionResult) => void;
}

export const COMPACT_DEFAULTS = { afterBatches: 1000, afterRecords: 250_000, afterBytes: 512 * 2 ** 20 };

/**
 * The pointers of a shard's log past its manifest, as an indexer last read them: kept between ticks so
 * that each tick reads only the pointers appended since (a log holds up to thousands of them).
 */
interface PendingLog {
  /** The seq the pointers below were read through. */
  through: number;
  entries: { seq: number; records: number; bytes: number }[];
}

export class ShardIndexer {
  private readonly jobs = new Map<string, Promise<void>>();
  private readonly pending = new Map<string, PendingLog>();
  private readonly collectors = new Map<string, { gc: GarbageCollector; lastPass: number }>();
  /** Compactions this node committed, per shard log. */
  readonly committed = new Map<string, number>();

  constructor(private readonly options: IndexerOptions) {}

  /** Starts a job for each assigned shard that has none running; forgets shards no longer assigned. */
  run(assigned: Map<string, ShardedCollection>): void {
    for (const log of this.collectors.keys()) if (!assigned.has(log)) this.collectors.delete(log);
    for (const log of this.pending.keys()) if (!assigned.has(log)) this.pending.delete(log);
    for (const [log, c] of assigned) {
      if (this.jobs.has(log)) continue;
      const job = this.work(log, c)
        .catch((error) => this.options.onWarning?.(`indexer ${this.options.nodeId} on ${log}: ${String(error)}`))
        .finally(() => this.jobs.delete(log));
      this.jobs.set(log, job);
    }
  }

  /** Waits for the jobs under way (closing the node). */
  async idle(): Promise<void> {
    await Promise.all(this.jobs.values());
  }

  private async work(log: string, c: ShardedCollection): Promise<void> {
    const o = this.options;
    const [head, { manifest }] = await Promise.all([o.commitLog.head(log), readShardManifest(o.catalog, log)]);
    if (await this.due(log, head, manifest.appliedThrough)) await this.compact(log, c, manifest.appliedThrough);
    await this.collectGarbage(log);
  }

  /** Whether the log past `appliedThrough` (to `head`) is over any of the three thresholds. */
  private async due(log: string, head: number, appliedThrough: number): Promise<boolean> {
    const o = this.options;
    if (head - appliedThrough > (o.afterBatches ?? COMPACT_DEFAULTS.afterBatches)) return true;
    let pending = this.pending.get(log);
    if (!pending || pending.through < appliedThrough) pending = { through: appliedThrough, entries: [] };
    pending.entries = pending.entries.filter((e) => e.seq > appliedThrough);
    if (head > pending.through) {
      // Fewer than afterBatches pointers (checked above): one bounded read.
      const fresh = await o.commitLog.read(log, pending.through + 1, head - pending.through);
      for (const e of fresh) pending.entries.push({ seq: e.seq, records: e.records ?? 0, bytes: e.bytes ?? 0 });
      pending.through = fresh.at(-1)?.seq ?? pending.through;
    }
    this.pending.set(log, pending);
    let records = 0;
    let bytes = 0;
    for (const e of pending.entries) {
      records += e.records;
      bytes += e.bytes;
    }
    return (
      records > (o.afterRecords ?? COMPACT_DEFAULTS.afterRecords) ||
      bytes > (o.afterBytes ?? COMPACT_DEFAULTS.afterBytes)
    );
  }

  private async compact(log: string, c: ShardedCollection, appliedThrough: number): Promise<void> {
    const o = this.options;
    const lease = await o.leases.acquire(compactorLease(log), o.nodeId, o.leaseTtlMs);
    if (!lease) return; // another indexer compacts it (an assignment moving): its turn
    // The compactor renews the lease while it folds (a compaction outlasts many lease periods), once
    // more before it commits, and gives up if it was lost meanwhile.
    o.onEvent?.(`${o.nodeId} compacting ${log} after seq ${appliedThrough}`);
    const threads = o.compactThreads?.();
    try {
      const result = await compactShard({
        log,
        schema: c.schema,
        commitLog: o.commitLog,
        catalog: o.catalog,
        objects: o.objects,
        lease,
        leases: { ttlMs: o.leaseTtlMs },
        searchThreads: threads,
        fetch: o.fetch,
        maxSegments: o.maxSegments,
        // Well within the GC grace, so nothing the new manifest names can have been collected.
        maxCommitDelayMs: (o.gcGraceMs ?? 10 * 60_000) / 2,
      });
      if (result.committed) this.committed.set(log, (this.committed.get(log) ?? 0) + 1);
      o.onEvent?.(
        result.committed
          ? `${o.nodeId} compacted ${log}: generation ${result.manifest.generation} through seq ${result.manifest.appliedThrough}`
          : `${o.nodeId} did not compact ${log}: ${result.reason}`,
      );
      o.onCompaction?.(log, result);
    } finally {
      await threads?.close();
      await lease.release().catch(() => {});
    }
  }

  private async collectGarbage(log: string): Promise<void> {
    const o = this.options;
    const grace = o.gcGraceMs ?? 10 * 60_000;
    let entry = this.collectors.get(log);
    if (!entry) {
      entry = {
        gc: new GarbageCollector({
          log,
          catalog: o.catalog,
          commitLog: o.commitLog,
          objects: o.objects,
          graceMs: grace,
        }),
        lastPass: 0,
      };
      this.collectors.set(log, entry);
    }
    if (Date.now() - entry.lastPass < (o.gcIntervalMs ?? Math.max(1000, grace / 10))) return;
    entry.lastPass = Date.now();
    await entry.gc.collect();
  }
}
