/**
 * The indexer/compactor of one shard: folds the log range after the manifest's appliedThrough into
 * the manifest's segments and commits the result as the next manifest.
 *
 *   1. read the manifest (and its Catalog version v) and the log head;
 *   2. open the sealed state as an embedded database (shard-image.ts) and apply the batches
 *      appliedThrough+1 .. head (or up to `maxBatches` of them) in order;
 *   3. checkpoint it: the embedded database writes the change as one new segment (upserts, plus the
 *      ids deleted since as tombstones, so a delete of a record in an older segment is honoured when
 *      the segments are applied in order), or, past `maxSegments`, one full segment of the live
 *      records only (a rewrite that drops the tombstones); and the graph file of the whole state;
 *   4. PUT those files as immutable objects under fresh keys;
 *   5. commit the manifest by compare-and-set on version v; then, and only then,
 *   6. trim the log pointers up to the new appliedThrough (guarded by the new manifest's version).
 *
 * A crash anywhere leaves either the old manifest (the new objects are unreferenced: garbage
 * collection removes them) or the new one with pointers still untrimmed (the next run trims them).
 * The compare-and-set is the fence: a compactor commits only over the exact manifest it folded from,
 * so a stale or paused one is either still right or rejected. The Lease the caller holds keeps one
 * compactor per shard at a time (so they do not waste work on lost races); the compactor renews it on
 * a timer of its own (`leases`) and yields between runs of the fold, so the renewals go out even while
 * a long graph build runs; a compactor whose lease was lost, or whose PUTs are older than
 * `maxCommitDelayMs` (keep it under the GC grace period, so no object it references could have been
 * collected), does not commit.
 *
 * The fold applies the batches in runs (batch-fold.ts): with `searchThreads`, a run of
 * `FOLD_RUN_RECORDS` records is one upsert whose graph the threads build at once.
 */
import type { SearchThreads } from "../core/index/hnsw/parallel.js";
import type { CollectionSchema } from "../core/schema/schema.js";
import { DEFAULT_LIMITS } from "../api/limits.js";
import { QuiverError } from "../core/errors/errors.js";
import { decodeSegment } from "../storage/segment.js";
import { decodeBatch, sha256Hex } from "./batch.js";
import type { Catalog } from "./catalog.js";
import type { CommitLog, LogEntry } from "./commit-log.js";
import { FoldRun } from "./batch-fold.js";
import { type HeldLease, type KeptLease, type LeaseTimings, keepLease } from "./lease.js";
import { type ObjectStore, getVerified } from "./object-store.js";
import { type FetchVerified, openShardImage, sealedFiles } from "./shard-image.js";
import {
  type ShardManifest,
  type ShardSegment,
  commitShardManifest,
  manifestKey,
  readShardManifest,
} from "./shard-manifest.js";

export interface CompactorOptions {
  log: string;
  schema: CollectionSchema;
  commitLog: CommitLog;
  catalog: Catalog;
  objects: ObjectStore;
  /** The compactor's lease on `compactorLease(log)`, taken (and released) by the caller. */
  lease: HeldLease;
  /** The lease's time to live, and how often the compactor renews it while it runs (default: a third of it). */
  leases: LeaseTimings;
  /**
   * Threads that build the folded graph together (borrowed: the caller closes them); without them the
   * fold inserts on this thread alone.
   */
  searchThreads?: SearchThreads;
  /**
   * Fold at most this many batches per run (default 10,000: their pointers are read from etcd in one
   * response of about 2 MB, and the next run takes the rest).
   */
  maxBatches?: number;
  /** Rewrite the shard as one segment once it would have more than this many (default 8). */
  maxSegments?: number;
  /** Give up without committing when the first PUT is older than this (default 5 min). */
  maxCommitDelayMs?: number;
  /** How sealed objects are read (default: straight from `objects`; a SegmentCache's `get` to cache them). */
  fetch?: FetchVerified;
  /** Called between steps (for fault tests): "folded", "uploaded", "committed". */
  onStep?: (step: "folded" | "uploaded" | "committed") => void | Promise<void>;
  now?: () => number;
}

export type CompactionResult =
  | { committed: true; manifest: ShardManifest; trimmed: boolean }
  | { committed: false; reason: "up to date" | "lost the race" | "lease lost" | "too slow"; manifest: ShardManifest };

/** Batch objects fetched ahead of the one being folded. */
const PREFETCH_BATCHES = 4;

/**
 * Records (upserted or deleted) per fold run. With search threads at least PARALLEL_BUILD_MIN (1,000),
 * so the threads build it, and up to 8,192 (under the 10,000 records of one upsert; in runs of 4,096 the
 * threaded graph's recall@10 fell 0.01 below the one-thread fold's in 2 of 8 trials, at 8,192 in none).
 * This thread links its share synchronously, so the size adapts to keep each run within a quarter of
 * the lease (the renewals wait for it): full size on a small shard, smaller as the graph grows.
 */
export const FOLD_RUN_RECORDS = { threads: { min: 1000, max: 8192 }, alone: { min: 64, max: 512 } };

/** Lets timers (the lease renewals) and I/O run between two synchronous stretches of the fold. */
const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** The Lease name that keeps one compactor per shard. */
export const compactorLease = (log: string): string => `${log}/compactor`;

export async function compactShard(options: CompactorOptions): Promise<CompactionResult> {
  const { log, commitLog, catalog, objects } = options;
  const now = options.now ?? Date.now;
  const fetch = options.fetch ?? ((key, sha256) => getVerified(objects, key, sha256, `${log} segment`));
  const { manifest, version } = await readShardManifest(catalog, log);
  const from = manifest.appliedThrough + 1;
  const head = await commitLog.head(log);
  const to = Math.min(head, manifest.appliedThrough + (options.maxBatches ?? 10_000));
  if (to < from) {
    // A previous run may have committed and died before its trim: finish that.
    if (version > 0) await commitLog.trim(log, manifest.appliedThrough, { key: manifestKey(log), version });
    return { committed: false, reason: "up to date", manifest };
  }
  const entries = await commitLog.read(log, from, to - from + 1);
  if (entries.length !== to - from + 1 || entries.some((e, i) => e.seq !== from + i))
    throw new QuiverError(
      "CORRUPT",
      `${log}: the log does not hold seq ${from} to ${to} after manifest generation ${manifest.generation}`,
    );

  const kept = keepLease(options.lease, options.leases, now);
  try {
    return await fold(options, { manifest, version, entries, from, to }, fetch, kept);
  } finally {
    kept.stop();
  }
}

/** Steps 2 to 6 for the pointers `entries` (seq `from` to `to`) over `manifest` at Catalog version `version`. */
async function fold(
  options: CompactorOptions,
  range: { manifest: ShardManifest; version: number; entries: LogEntry[]; from: number; to: number },
  fetch: FetchVerified,
  kept: KeptLease,
): Promise<CompactionResult> {
  const { log, commitLog, catalog, objects } = options;
  const { manifest, version, entries, from, to } = range;
  const now = options.now ?? Date.now;
  const image = await openShardImage(manifest, options.schema, fetch, {
    maxSegments: options.maxSegments ?? 8,
    searchThreads: options.searchThreads,
  });
  let next: ShardManifest;
  try {
    // The GETs of the next batches overlap the apply of this one (its graph inserts are most of a fold).
    const ahead: Promise<Uint8Array>[] = [];
    let fetched = 0;
    const run = new FoldRun();
    const bounds = options.searchThreads ? FOLD_RUN_RECORDS.threads : FOLD_RUN_RECORDS.alone;
    const budgetMs = options.leases.ttlMs / 4;
    let runRecords = bounds.max;
    /** Applies the run, sizes the next one, lets the renewals out; false when the lease is surely lost. */
    const flush = async (): Promise<boolean> => {
      const size = run.size;
      const started = now();
      await run.applyTo(image.collection);
      const took = Math.max(1, now() - started);
      runRecords = Math.round(Math.min(bounds.max, Math.max(bounds.min, (size * budgetMs) / took)));
      await yieldToLoop();
      return !kept.lost();
    };
    for (const entry of entries) {
      while (ahead.length < PREFETCH_BATCHES && fetched < entries.length) {
        const e = entries[fetched++]!;
        const bytes = getVerified(objects, e.objectKey, e.sha256, `${log} seq ${e.seq}`);
        bytes.catch(() => {}); // awaited in its turn; until then a failure must not go unhandled
        ahead.push(bytes);
      }
      for (const op of decodeBatch(await ahead.shift()!, entry.objectKey)) {
        // One upsert or delete holds at most limits.maxBatch records: a run is applied before it would pass that.
        const n = op.op === "upsert" ? op.records.length : op.ids.length;
        if (run.size > 0 && run.size + n > DEFAULT_LIMITS.maxBatch && !(await flush()))
          return { committed: false, reason: "lease lost", manifest };
        run.add([op]);
      }
      if (run.size >= runRecords && !(await flush())) return { committed: false, reason: "lease lost", manifest };
    }
    await run.applyTo(image.collection);
    const sealed = await sealedFiles(image);
    await options.onStep?.("folded");

    const generation = manifest.generation + 1;
    const firstPut = now();
    const fresh = (kind: string, ext: string): string => `${log}/${kind}/${generation}-${crypto.randomUUID()}.${ext}`;
    const segments: ShardSegment[] = [];
    for (const name of sealed.segments) {
      const kept = image.segmentOf.get(name);
      if (kept) {
        segments.push({ ...kept, graphKey: null, graphSha256: null });
        continue;
      }
      const bytes = await image.dir.read(name);
      const key = fresh("segments", "qseg");
      await objects.put(key, bytes);
      const count = decodeSegment(bytes, key).ids.length;
      // A new segment folds everything since the previous kept one (all of the log when it is a rewrite).
      const fromSeq = segments.length === 0 ? 1 : from;
      segments.push({
        key,
        sha256: await sha256Hex(bytes),
        count,
        fromSeq,
        toSeq: to,
        graphKey: null,
        graphSha256: null,
      });
    }
    if (sealed.graph !== null && segments.length > 0) {
      const bytes = await image.dir.read(sealed.graph);
      const graphKey = fresh("graphs", "qidx");
      await objects.put(graphKey, bytes);
      segments[segments.length - 1] = { ...segments.at(-1)!, graphKey, graphSha256: await sha256Hex(bytes) };
    }
    next = {
      generation,
      appliedThrough: to,
      segments,
      image: { uid: sealed.uid, checkpointSeq: sealed.checkpointSeq },
      committedAt: now(),
    };
    await options.onStep?.("uploaded");

    if (now() - firstPut > (options.maxCommitDelayMs ?? 5 * 60_000))
      return { committed: false, reason: "too slow", manifest };
    try {
      await options.lease.renew();
    } catch {
      return { committed: false, reason: "lease lost", manifest };
    }
    if (!(await commitShardManifest(catalog, log, version, next)))
      return { committed: false, reason: "lost the race", manifest: (await readShardManifest(catalog, log)).manifest };
  } finally {
    await image.db.close();
  }
  await options.onStep?.("committed");
  const trimmed = await commitLog.trim(log, next.appliedThrough, { key: manifestKey(log), version: version + 1 });
  return { committed: true, manifest: next, trimmed };
}
