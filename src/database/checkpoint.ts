/**
 * Checkpoints: turn the WAL into segments so that the WAL stays short and opening stays fast.
 *
 * Sequence, each step durable before the next:
 *   1. (synchronously, between write groups) rotate to a new WAL file and take each collection's
 *      delta since the last checkpoint, or, past `maxSegments`, its full live state (compaction);
 *   2. write each taken delta as a new segment file, and the changed collections' HNSW graphs as
 *      index files (index-file.ts), and fsync them;
 *   3. replace the manifest atomically (new segment lists, walStart = the new WAL);
 *   4. remove the old WAL files and the segments no longer referenced.
 * A crash before step 3 leaves the old manifest, whose WAL files still hold everything; a crash
 * after it leaves stale files that the next open removes. If a step fails before the manifest
 * rename is issued, the deltas are put back so the next checkpoint writes them, the new files are
 * removed, and the old WAL files are kept. Once the rename is issued its outcome is unknown (the
 * new MANIFEST may be on disk, naming the new files, or not): nothing either manifest references
 * may be removed, so a failure from there on throws `CheckpointOutcomeUnknown`, and the database
 * stops writing until a reopen reads whichever manifest is on disk.
 */
import type { Directory } from "../storage/directory.js";
import { writeFileAtomic, writeFileSynced } from "../storage/directory.js";
import { DATABASE_FORMAT, MANIFEST_FILE, encodeManifest, type Manifest } from "../storage/manifest.js";
import { QuiverError } from "../core/errors/errors.js";
import { encodeSegment, segmentFileName, type SegmentContent } from "../storage/segment.js";
import { walFileName } from "../storage/wal.js";
import { encodeIndexFile, indexFileName, type IndexSnapshot } from "../storage/index-file.js";
import type { CollectionState } from "./collection-state.js";

export interface CheckpointPlan {
  checkpointSeq: number;
  walStart: number;
  /** Each collection at rotation time, with what was taken from it. */
  collections: {
    state: CollectionState;
    taken: SegmentContent | null;
    full: boolean;
    previous: string[];
    index: IndexSnapshot | null;
    previousIndex?: string;
  }[];
  /** WAL files made obsolete by this checkpoint once it is published. */
  obsoleteWals: number[];
  /** Every segment and index file the current manifest names, including those of collections dropped since. */
  previousFiles: string[];
}

export interface CheckpointResult {
  manifest: Manifest;
  segmentsOf: Map<string, string[]>;
  indexFileOf: Map<string, string>;
  written: number;
}

/** Step 1: decide, per collection, whether to write a delta, a full compacted segment, or nothing. */
export function takeCheckpoint(
  collections: Iterable<CollectionState>,
  segmentsOf: Map<string, string[]>,
  indexFileOf: Map<string, string>,
  maxSegments: number,
  checkpointSeq: number,
  walStart: number,
  obsoleteWals: number[],
): CheckpointPlan {
  const previousFiles = [...segmentsOf.values()].flat().concat([...indexFileOf.values()]);
  const plan: CheckpointPlan = { checkpointSeq, walStart, collections: [], obsoleteWals, previousFiles };
  for (const state of collections) {
    const previous = segmentsOf.get(state.uid) ?? [];
    const previousIndex = indexFileOf.get(state.uid);
    if (state.dirty.size === 0 && !state.hasOldSegments) {
      plan.collections.push({ state, taken: null, full: false, previous, index: null, previousIndex });
      continue;
    }
    // Compact when segments pile up, when the delta rewrites most of the collection anyway, or to
    // rewrite segments of an older format (read at open, never rewritten there).
    const full = previous.length + 1 > maxSegments || state.dirty.size >= state.size || state.hasOldSegments;
    if (full) state.hasOldSegments = false;
    const taken = full ? state.takeFull() : state.takeDelta();
    // The graphs change with the records: a collection that changed gets a new index file.
    plan.collections.push({ state, taken, full, previous, index: state.indexSnapshot(checkpointSeq), previousIndex });
  }
  return plan;
}

/** Steps 2-4. On failure, puts the taken deltas back and rethrows. */
export async function writeCheckpoint(
  dir: Directory,
  plan: CheckpointPlan,
  allocateFileNumber: () => number,
): Promise<CheckpointResult> {
  const segmentsOf = new Map<string, string[]>();
  const indexFileOf = new Map<string, string>();
  const created: string[] = [];
  let renameIssued = false;
  try {
    for (const c of plan.collections) {
      let segments = c.previous;
      if (c.taken) {
        const name = segmentFileName(allocateFileNumber());
        created.push(name);
        await writeFileSynced(dir, name, encodeSegment(c.taken));
        segments = c.full ? [name] : [...c.previous, name];
      }
      segmentsOf.set(c.state.uid, segments);
      let indexFile = c.taken ? undefined : c.previousIndex;
      if (c.index) {
        indexFile = indexFileName(allocateFileNumber());
        created.push(indexFile);
        await writeFileSynced(dir, indexFile, encodeIndexFile(c.index));
      }
      if (indexFile) indexFileOf.set(c.state.uid, indexFile);
    }
    const manifest: Manifest = {
      format: DATABASE_FORMAT,
      checkpointSeq: plan.checkpointSeq,
      walStart: plan.walStart,
      nextFileNumber: allocateFileNumber(),
      collections: plan.collections.map((c) => ({
        name: c.state.name,
        uid: c.state.uid,
        schema: c.state.schema,
        segments: segmentsOf.get(c.state.uid)!,
        ...(indexFileOf.has(c.state.uid) ? { indexFile: indexFileOf.get(c.state.uid)! } : {}),
      })),
    };
    // writeFileAtomic syncs the directory, which also makes the new segment names durable.
    await writeFileAtomic(dir, MANIFEST_FILE, encodeManifest(manifest), () => {
      renameIssued = true;
    });
    // Published. Removing garbage may fail harmlessly: the next open removes what is left.
    // Obsolete: segments replaced by compaction, and those of collections dropped since.
    const kept = new Set([...segmentsOf.values()].flat().concat([...indexFileOf.values()]));
    const obsolete = plan.previousFiles.filter((s) => !kept.has(s));
    try {
      for (const n of plan.obsoleteWals) await dir.remove(walFileName(n));
      for (const s of obsolete) await dir.remove(s);
    } catch {
      /* stale files are collected at the next open */
    }
    return { manifest, segmentsOf, indexFileOf, written: created.length };
  } catch (e) {
    if (renameIssued) throw new CheckpointOutcomeUnknown(e);
    for (const c of plan.collections) if (c.taken) c.state.restoreDelta(c.taken);
    for (const name of created) await dir.remove(name).catch(() => undefined);
    throw e;
  }
}

/** The manifest rename was issued and then something failed: which manifest is on disk is unknown. */
export class CheckpointOutcomeUnknown extends QuiverError {
  constructor(cause: unknown) {
    super(
      "IO",
      `checkpoint failed after the manifest was replaced (${cause instanceof Error ? cause.message : String(cause)}); its files are kept and the database accepts no more writes until it is reopened`,
      { cause },
    );
  }
}
