/**
 * Checkpoints: turn the WAL into segments so that the WAL stays short and opening stays fast,
 * without holding up the writes that go on meanwhile.
 *
 * Sequence, each step durable before the next:
 *   1. snapshot (synchronously, between write groups; `takeCheckpoint`): rotate to a new WAL file and
 *      take each changed collection's delta since the last checkpoint, or, past `maxSegments`, its
 *      full live state (compaction), as a copy-on-write list of ids (checkpoint-snapshot.ts), with
 *      its HNSW graphs frozen by one memcpy per region (HnswIndex.freeze), into memory faulted in
 *      beforehand where it was prepared (freeze-room.ts). This is the only part that stops the
 *      writer, and it copies no record;
 *   2. in the background (`writeCheckpoint`), in chunks of about 256 KiB with a yield to the event
 *      loop after each, so writes (into the new WAL) and reads go on between them: each delta as a
 *      new segment file, records read as the chunks need them; the frozen graphs serialized, then
 *      written with the slot table as index files (index-file.ts); each file fsynced;
 *   3. replace the manifest atomically (new segment lists, walStart = the new WAL);
 *   4. remove the old WAL files (only those before the snapshot) and the segments no longer referenced.
 * A crash before step 3 leaves the old manifest, whose WAL files still hold everything; a crash
 * after it leaves stale files that the next open removes. If a step fails before the manifest
 * rename is issued, the deltas are put back so the next checkpoint writes them, the new files are
 * removed, and the old WAL files are kept. Once the rename is issued its outcome is unknown (the
 * new MANIFEST may be on disk, naming the new files, or not): nothing either manifest references
 * may be removed, so a failure from there on throws `CheckpointOutcomeUnknown`, and the database
 * stops writing until a reopen reads whichever manifest is on disk.
 *
 * The slices run between macrotasks: with a file system, each write's I/O gives them their turn; a
 * Directory whose calls all resolve as microtasks (the in-memory one) runs them when the caller
 * next yields to the event loop.
 *
 * Why chunks on the event loop rather than a worker thread: the records and graphs live in the
 * writer's memory (JS objects, one WebAssembly memory per named vector), so handing them to a
 * worker would copy them first, the cost this avoids; and the database layer runs where no worker
 * API is shared by every runtime.
 */
import type { Directory } from "../storage/directory.js";
import { writeFileAtomic } from "../storage/directory.js";
import { DATABASE_FORMAT, MANIFEST_FILE, encodeManifest, type Manifest } from "../storage/manifest.js";
import { QuiverError } from "../core/errors/errors.js";
import { segmentChunks, segmentFileName } from "../storage/segment.js";
import { walFileName } from "../storage/wal.js";
import { indexFileChunks, indexFileName } from "../storage/index-file.js";
import { hnswChunks } from "../core/index/hnsw/serialize.js";
import type { CollectionState, FrozenIndex } from "./collection-state.js";
import type { RecordSnapshot } from "./checkpoint-snapshot.js";
import type { FreezeRoom } from "./freeze-room.js";

export interface CheckpointPlan {
  checkpointSeq: number;
  walStart: number;
  /** Each collection at rotation time, with what was taken from it. */
  collections: {
    state: CollectionState;
    records: RecordSnapshot | null;
    full: boolean;
    previous: string[];
    index: FrozenIndex | null;
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
  room?: FreezeRoom,
): CheckpointPlan {
  const previousFiles = [...segmentsOf.values()].flat().concat([...indexFileOf.values()]);
  const plan: CheckpointPlan = { checkpointSeq, walStart, collections: [], obsoleteWals, previousFiles };
  for (const state of collections) {
    const previous = segmentsOf.get(state.uid) ?? [];
    const previousIndex = indexFileOf.get(state.uid);
    if (state.dirty.size === 0 && !state.hasOldSegments) {
      // No record changed, but the index file lacks what this release loads (payload indexes): a new one alone.
      const index = state.indexFileStale ? state.frozenIndex(checkpointSeq, undefined, room) : null;
      state.indexFileStale = false;
      plan.collections.push({ state, records: null, full: false, previous, index, previousIndex });
      continue;
    }
    state.indexFileStale = false;
    // Compact when segments pile up, when the delta rewrites most of the collection anyway, or to
    // rewrite segments of an older format (read at open, never rewritten there).
    const full = previous.length + 1 > maxSegments || state.dirty.size >= state.size || state.hasOldSegments;
    if (full) state.hasOldSegments = false;
    // One copy of the slot table serves the full snapshot and the index file.
    const slotIds = state.slotIds.slice(0, state.highWater);
    const records = full ? state.takeFull(slotIds) : state.takeDelta();
    // The graphs change with the records: a collection that changed gets a new index file.
    const index = state.frozenIndex(checkpointSeq, slotIds, room);
    plan.collections.push({ state, records, full, previous, index, previousIndex });
  }
  return plan;
}

/** Steps 2-4, in the background. On failure, puts the taken deltas back and rethrows. */
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
      if (c.records) {
        const name = segmentFileName(allocateFileNumber());
        created.push(name);
        await writeChunked(dir, name, segmentChunks(c.state.uid, c.records.deleted, c.records));
        c.state.release(c.records);
        segments = c.full ? [name] : [...c.previous, name];
      }
      segmentsOf.set(c.state.uid, segments);
      let indexFile = c.records ? undefined : c.previousIndex;
      if (c.index) {
        indexFile = indexFileName(allocateFileNumber());
        created.push(indexFile);
        await writeChunked(dir, indexFile, indexFileChunks({ ...c.index, graphs: await serializeGraphs(c.index) }));
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
    for (const c of plan.collections) if (c.records) c.state.release(c.records);
    if (renameIssued) throw new CheckpointOutcomeUnknown(e);
    for (const c of plan.collections) if (c.records) c.state.restoreDelta(c.records);
    for (const name of created) await dir.remove(name).catch(() => undefined);
    throw e;
  }
}

/** The frozen graphs as bytes, serialized a chunk at a time between yields. */
async function serializeGraphs(index: FrozenIndex): Promise<Map<string, Uint8Array[]>> {
  const graphs = new Map<string, Uint8Array[]>();
  for (const [vname, source] of index.graphs) {
    const chunks: Uint8Array[] = [];
    for (const chunk of hnswChunks(source)) {
      chunks.push(chunk);
      await yieldToEventLoop();
    }
    graphs.set(vname, chunks);
  }
  return graphs;
}

/** Creates `name` from chunks produced on demand, yielding to the event loop after each, and fsyncs it. */
async function writeChunked(dir: Directory, name: string, chunks: Iterable<Uint8Array>): Promise<void> {
  const file = await dir.create(name);
  try {
    for (const chunk of chunks) {
      await file.append(chunk);
      await yieldToEventLoop();
    }
    await file.sync();
  } finally {
    await file.close();
  }
}

/**
 * Lets queued writes, reads and timers run. A macrotask, not a microtask: an in-memory directory's
 * appends resolve as microtasks, which would never let anything else in.
 */
const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

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
