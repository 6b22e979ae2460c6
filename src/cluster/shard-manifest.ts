/**
 * A shard's manifest: which sealed segments (and which HNSW graph) hold the shard's state through
 * log seq `appliedThrough`. It lives in the Catalog under `<log>/manifest` and changes only by
 * compare-and-set on its Catalog version, so two compactors can never both move it from the same
 * state: the loser's objects stay unreferenced until garbage collection removes them.
 *
 * Value (JSON):
 *   generation       1 for the first committed manifest, +1 per commit (0 = none yet)
 *   appliedThrough   every batch with seq <= this is folded into the segments
 *   segments         oldest first; later ones override earlier ones (storage/segment.ts format:
 *                    records, plus the ids deleted since the previous segment as tombstones)
 *     key, sha256    the immutable object and the hex sha256 of its bytes
 *     count          records written in it; fromSeq..toSeq the log range it folds
 *     graphKey       the newest segment only: the collection's graphs as of toSeq
 *                    (storage/index-file.ts format), with graphSha256; null on older segments
 *   image            the embedded collection that wrote the files: its uid (every segment names it)
 *                    and the checkpoint seq its graph file was written at
 *   committedAt      wall-clock ms of the commit (informational)
 */
import { QuiverError } from "../core/errors/errors.js";
import type { Catalog } from "./catalog.js";

export interface ShardSegment {
  key: string;
  sha256: string;
  count: number;
  fromSeq: number;
  toSeq: number;
  graphKey: string | null;
  graphSha256: string | null;
}

export interface ShardManifest {
  generation: number;
  appliedThrough: number;
  segments: ShardSegment[];
  image: { uid: string; checkpointSeq: number } | null;
  committedAt: number;
}

/** A manifest as read, with the Catalog version a compare-and-set must name. */
export interface VersionedManifest {
  manifest: ShardManifest;
  /** Catalog version of the key (0: no manifest yet). */
  version: number;
}

export const manifestKey = (log: string): string => `${log}/manifest`;

/** The state before any compaction: no segments, nothing applied. */
export function emptyShardManifest(): ShardManifest {
  return { generation: 0, appliedThrough: 0, segments: [], image: null, committedAt: 0 };
}

export async function readShardManifest(catalog: Catalog, log: string): Promise<VersionedManifest> {
  const found = await catalog.get(manifestKey(log));
  if (!found) return { manifest: emptyShardManifest(), version: 0 };
  return { manifest: parseShardManifest(found.value, log), version: found.version };
}

/**
 * Commits `next` only if the manifest is still at `expectedVersion` (the one it was derived from);
 * false when another compactor committed first.
 */
export async function commitShardManifest(
  catalog: Catalog,
  log: string,
  expectedVersion: number,
  next: ShardManifest,
): Promise<boolean> {
  return catalog.put(manifestKey(log), JSON.stringify(next), expectedVersion);
}

/** Every object key the manifest references (segments and graph). */
export function referencedKeys(manifest: ShardManifest): string[] {
  return manifest.segments.flatMap((s) => (s.graphKey ? [s.key, s.graphKey] : [s.key]));
}

function parseShardManifest(text: string, log: string): ShardManifest {
  const where = `${manifestKey(log)}`;
  let parsed: ShardManifest;
  try {
    parsed = JSON.parse(text) as ShardManifest;
  } catch (error) {
    throw new QuiverError("CORRUPT", `${where} is not valid JSON`, { cause: error });
  }
  const whole = (n: unknown): boolean => typeof n === "number" && Number.isSafeInteger(n) && n >= 0;
  const segmentOk = (s: ShardSegment): boolean =>
    typeof s?.key === "string" &&
    /^[0-9a-f]{64}$/.test(s.sha256) &&
    whole(s.count) &&
    whole(s.fromSeq) &&
    whole(s.toSeq) &&
    (s.graphKey === null || typeof s.graphKey === "string");
  if (
    !whole(parsed?.generation) ||
    !whole(parsed.appliedThrough) ||
    !Array.isArray(parsed.segments) ||
    !parsed.segments.every(segmentOk) ||
    (parsed.segments.length > 0 && parsed.image === null)
  )
    throw new QuiverError("CORRUPT", `${where} is not a shard manifest`);
  return parsed;
}
