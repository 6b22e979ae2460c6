/**
 * A shard's sealed state opened as an embedded database: the manifest's segment and graph objects are
 * placed in a memory Directory under the file names of an embedded MANIFEST written for them, and the
 * database opens it as it would its own files (storage/ reads the segments, the graphs are restored,
 * not rebuilt). The compactor folds the log on top and checkpoints; a follower serves it and applies
 * the log tail. So the cluster has no segment format of its own.
 */
import type { CollectionSchema } from "../core/schema/schema.js";
import { Database, type DatabaseOptions } from "../database/database.js";
import type { Collection } from "../database/collection.js";
import { writeFileAtomic } from "../storage/directory.js";
import { indexFileName } from "../storage/index-file.js";
import { DATABASE_FORMAT, MANIFEST_FILE, decodeManifest, encodeManifest } from "../storage/manifest.js";
import { MemoryDirectory } from "../storage/memory-directory.js";
import { segmentFileName } from "../storage/segment.js";
import { WalWriter } from "../storage/wal.js";
import type { ShardManifest, ShardSegment } from "./shard-manifest.js";

/** The name of the shard's one collection inside its image. */
export const IMAGE_COLLECTION = "shard";

/** Fetches an object and checks it against its sha256 (through a SegmentCache, or straight from the store). */
export type FetchVerified = (key: string, sha256: string) => Promise<Uint8Array>;

export interface ShardImage {
  db: Database;
  collection: Collection;
  dir: MemoryDirectory;
  /** The manifest segment behind each segment file name of the image. */
  segmentOf: Map<string, ShardSegment>;
}

/** Opens the state `manifest` describes (an empty collection when it has no segments yet). */
export async function openShardImage(
  manifest: ShardManifest,
  schema: CollectionSchema,
  fetch: FetchVerified,
  options: DatabaseOptions = {},
): Promise<ShardImage> {
  const dir = new MemoryDirectory();
  const segmentOf = new Map<string, ShardSegment>();
  // The log is the cluster's; the image's own WAL only buffers until the image is dropped or sealed.
  const dbOptions: DatabaseOptions = { walMaxBytes: Number.MAX_SAFE_INTEGER, ...options };
  if (manifest.image === null) {
    const db = await Database.openDirectory(dir, dbOptions);
    return { db, collection: await db.createCollection(IMAGE_COLLECTION, schema), dir, segmentOf };
  }
  const names = manifest.segments.map((_, i) => segmentFileName(i + 1));
  const graph = manifest.segments.at(-1);
  const graphName = graph?.graphKey ? indexFileName(names.length + 1) : undefined;
  await Promise.all([
    ...manifest.segments.map(async (s, i) => {
      segmentOf.set(names[i]!, s);
      await writeFileAtomic(dir, names[i]!, await fetch(s.key, s.sha256));
    }),
    graphName && graph?.graphKey && graph.graphSha256
      ? fetch(graph.graphKey, graph.graphSha256).then((bytes) => writeFileAtomic(dir, graphName, bytes))
      : undefined,
  ]);
  const next = names.length + 2;
  const embedded = {
    format: DATABASE_FORMAT,
    checkpointSeq: manifest.image.checkpointSeq,
    walStart: next,
    nextFileNumber: next,
    collections: [{ name: IMAGE_COLLECTION, uid: manifest.image.uid, schema, segments: names, indexFile: graphName }],
  };
  // An empty WAL where replay starts: the embedded database opens it and appends the log tail there.
  await (await WalWriter.create(dir, next)).close();
  await writeFileAtomic(dir, MANIFEST_FILE, encodeManifest(embedded));
  const db = await Database.openDirectory(dir, dbOptions);
  return { db, collection: await db.collection(IMAGE_COLLECTION), dir, segmentOf };
}

/** What a checkpoint of the image left: its segment files (oldest first), graph file, uid and seq. */
export async function sealedFiles(
  image: ShardImage,
): Promise<{ segments: string[]; graph: string | null; uid: string; checkpointSeq: number }> {
  await image.db.checkpoint();
  const embedded = decodeManifest(await image.dir.read(MANIFEST_FILE));
  const mc = embedded.collections.find((c) => c.name === IMAGE_COLLECTION)!;
  return { segments: mc.segments, graph: mc.indexFile ?? null, uid: mc.uid, checkpointSeq: embedded.checkpointSeq };
}
