/**
 * A follower of one shard: follows its CommitLog in order, GETs each batch object, checks it against
 * the sha256 its entry names, and applies its operations to a collection (embedded or any other
 * CollectionApi). An unreadable or mismatching batch stops the follower at that seq, never skips it.
 */
import type { CollectionApi } from "../api/types.js";
import { QuiverError } from "../core/errors/errors.js";
import { decodeBatch, sha256Hex } from "./batch.js";
import { type CommitLog, type LogFollower, followLog } from "./commit-log.js";
import type { ObjectStore } from "./object-store.js";

export async function followShard(
  log: string,
  commitLog: CommitLog,
  objects: ObjectStore,
  collection: CollectionApi,
  onError?: (error: unknown) => void,
): Promise<LogFollower> {
  return followLog(
    commitLog,
    log,
    0,
    async (entry) => {
      const bytes = await objects.get(entry.objectKey);
      if (bytes === null)
        throw new QuiverError("CORRUPT", `${log} seq ${entry.seq}: batch ${entry.objectKey} is missing`);
      if ((await sha256Hex(bytes)) !== entry.sha256)
        throw new QuiverError("CORRUPT", `${log} seq ${entry.seq}: batch ${entry.objectKey} fails its sha256`);
      for (const op of decodeBatch(bytes, entry.objectKey)) {
        if (op.op === "upsert") await collection.upsert(op.records);
        else await collection.delete(op.ids);
      }
    },
    onError,
  );
}
