/**
 * A new replica of one shard (a query node taking the shard): reads the shard manifest, opens its
 * sealed segments and graph (through a SegmentCache, so a restarted node reads them from its disk),
 * then follows the log from the manifest's appliedThrough + 1.
 *
 * The race with a compactor: between reading the manifest and reading the log, a compactor may commit
 * a newer manifest and trim the pointers this replica needs next. The replica checks that the log
 * still holds appliedThrough + 1 (or nothing was written after it) before it follows, and loads again
 * from the newer manifest when not. A replica that falls behind a trim later reports LogTrimmed to
 * `onError` (commit-log.ts): its owner bootstraps it again.
 */
import type { CollectionSchema } from "../core/schema/schema.js";
import { QuiverError } from "../core/errors/errors.js";
import type { Collection } from "../database/collection.js";
import type { RecoveryReport } from "../database/recovery.js";
import type { Catalog } from "./catalog.js";
import type { CommitLog, LogFollower } from "./commit-log.js";
import type { ObjectStore } from "./object-store.js";
import { type FetchVerified, type ShardImage, openShardImage } from "./shard-image.js";
import { followShard } from "./shard-follower.js";
import { type ShardManifest, readShardManifest } from "./shard-manifest.js";

export interface ShardReplicaOptions {
  log: string;
  schema: CollectionSchema;
  commitLog: CommitLog;
  catalog: Catalog;
  objects: ObjectStore;
  /** How sealed objects are read: a SegmentCache's `get` (bound to it), or straight from the store. */
  fetch: FetchVerified;
  onError?: (error: unknown) => void;
  /** Manifests to try before giving up when compactions keep trimming under it (default 5). */
  maxLoads?: number;
}

export interface ShardReplica extends LogFollower {
  readonly collection: Collection;
  /** The manifest the replica was loaded from. */
  readonly manifest: ShardManifest;
  /** How many manifests it read (more than 1: a compaction trimmed the log under it). */
  readonly loads: number;
  /** What opening the sealed state did (segments loaded, graphs restored rather than rebuilt). */
  readonly recovery: RecoveryReport;
}

export async function openShardReplica(options: ShardReplicaOptions): Promise<ShardReplica> {
  const { log, commitLog } = options;
  const maxLoads = options.maxLoads ?? 5;
  for (let loads = 1; loads <= maxLoads; loads++) {
    const { manifest } = await readShardManifest(options.catalog, log);
    const image: ShardImage = await openShardImage(manifest, options.schema, options.fetch);
    try {
      const next = manifest.appliedThrough + 1;
      const [first] = await commitLog.read(log, next, 1);
      const continues = first ? first.seq === next : (await commitLog.head(log)) < next;
      if (!continues) {
        await image.db.close();
        continue;
      }
      const follower = await followShard(
        log,
        commitLog,
        options.objects,
        image.collection,
        options.onError,
        manifest.appliedThrough,
      );
      return {
        collection: image.collection,
        manifest,
        loads,
        recovery: image.db.recovery,
        get applied() {
          return follower.applied;
        },
        waitFor: (seq) => follower.waitFor(seq),
        async close() {
          await follower.close();
          await image.db.close();
        },
      };
    } catch (error) {
      await image.db.close().catch(() => {});
      throw error;
    }
  }
  throw new QuiverError(
    "UNAVAILABLE",
    `${log}: the log was trimmed under ${maxLoads} manifests in a row while loading; try again`,
  );
}
