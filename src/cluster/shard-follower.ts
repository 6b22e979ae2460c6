/**
 * A follower of one shard: follows its CommitLog in order, GETs each batch object, checks it against
 * the sha256 its entry names, and applies its operations to a collection (embedded or any other
 * CollectionApi). An unreadable or mismatching batch stops the follower at that seq, never skips it.
 * A follower that starts from a shard manifest (shard-bootstrap.ts) follows from its appliedThrough.
 */
import type { CollectionApi } from "../api/types.js";
import { DEFAULT_LIMITS } from "../api/limits.js";
import { decodeBatch } from "./batch.js";
import { FoldRun } from "./batch-fold.js";
import { type CommitLog, type LogEntry, type LogFollower, followLog } from "./commit-log.js";
import { type ObjectStore, getVerified } from "./object-store.js";

export async function followShard(
  log: string,
  commitLog: CommitLog,
  objects: ObjectStore,
  collection: CollectionApi,
  onError?: (error: unknown) => void,
  afterSeq = 0,
): Promise<LogFollower> {
  return followLog(commitLog, log, afterSeq, (entry) => applyEntry(log, entry, objects, collection), onError);
}

/** GETs the batch `entry` names, checks its sha256 and applies its operations in order. */
export async function applyEntry(
  log: string,
  entry: LogEntry,
  objects: ObjectStore,
  collection: CollectionApi,
): Promise<void> {
  const bytes = await getVerified(objects, entry.objectKey, entry.sha256, `${log} seq ${entry.seq}`);
  await applyBatch(bytes, entry.objectKey, collection);
}

/**
 * Applies the operations of a batch object (already checked against its sha256): as one delete and one
 * upsert with the same end state (batch-fold.ts: two writes to the replica's database instead of one per
 * operation), or in order when together they would pass one write's maxBatch.
 */
export async function applyBatch(bytes: Uint8Array, objectKey: string, collection: CollectionApi): Promise<void> {
  const ops = decodeBatch(bytes, objectKey);
  const run = new FoldRun();
  run.add(ops);
  if (run.size <= DEFAULT_LIMITS.maxBatch) return run.applyTo(collection);
  for (const op of ops) {
    if (op.op === "upsert") await collection.upsert(op.records);
    else await collection.delete(op.ids);
  }
}
