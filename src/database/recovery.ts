/**
 * Opening a database directory: read the manifest, load segments, replay the WAL tail, cut a torn
 * tail, and clear files a crash left behind. Returns the recovered state and a report of what
 * recovery had to do, so that nothing is repaired silently.
 */
import { QuiverError, isQuiverError } from "../core/errors/errors.js";
import { isScratchFile, type Directory } from "../storage/directory.js";
import { MANIFEST_FILE, decodeManifest, emptyManifest, type Manifest } from "../storage/manifest.js";
import { decodeSegment } from "../storage/segment.js";
import { decodeIndexFile, type IndexSnapshot } from "../storage/index-file.js";
import { parseWalFileName, scanWal } from "../storage/wal.js";
import { CollectionState, type StateEnv } from "./collection-state.js";
import { decodeOp, type Op } from "./ops.js";

export interface RecoveryReport {
  segmentsLoaded: number;
  /** HNSW graphs restored from index files rather than rebuilt. */
  graphsRestored: number;
  walFilesReplayed: number;
  operationsReplayed: number;
  /** Bytes cut from WAL tails that were incomplete or failed their checksum (never acknowledged). */
  tornBytesTruncated: number;
  /** Files left by an interrupted checkpoint and removed. */
  staleFilesRemoved: string[];
  warnings: string[];
}

export interface Recovered {
  manifest: Manifest;
  collections: Map<string, CollectionState>; // by uid
  segmentsOf: Map<string, string[]>; // by uid
  indexFileOf: Map<string, string>; // by uid
  seq: number;
  /** WAL files to keep, ascending, with their valid lengths; the last one is continued. */
  wals: { number: number; validLength: number }[];
  nextFileNumber: number;
  report: RecoveryReport;
}

/** Applies one logged operation to the state; shared by replay and the live write path. */
export function applyOp(op: Op, collections: Map<string, CollectionState>, env: StateEnv, trackDirty: boolean): number {
  switch (op.type) {
    case "create":
      collections.set(op.uid, new CollectionState(op.name, op.uid, op.schema, env));
      return 0;
    case "drop":
      collections.get(op.uid)?.dispose();
      collections.delete(op.uid);
      return 0;
    case "upsert": {
      const c = collections.get(op.uid);
      if (!c) return -1;
      c.applyUpsert(op.records, trackDirty);
      return op.records.length;
    }
    case "delete": {
      const c = collections.get(op.uid);
      if (!c) return -1;
      return c.applyDelete(op.ids, trackDirty);
    }
  }
}

export interface RecoverOptions {
  /**
   * Change nothing on disk (a reader beside a live writer, follower.ts): keep scratch files, and
   * files that look stale (an older WAL, an unreferenced segment, MANIFEST.tmp), which may be the
   * writer's checkpoint in progress. A torn tail is only reported; it is never cut here anyway.
   */
  readOnly?: boolean;
}

export async function recover(dir: Directory, env: StateEnv, options: RecoverOptions = {}): Promise<Recovered> {
  const report: RecoveryReport = {
    segmentsLoaded: 0,
    graphsRestored: 0,
    walFilesReplayed: 0,
    operationsReplayed: 0,
    tornBytesTruncated: 0,
    staleFilesRemoved: [],
    warnings: [],
  };
  const files = await dir.list();
  // Scratch files are caches of the previous process (see ScratchFile): the states below recreate
  // theirs from the records, and a dropped collection's must not linger.
  if (!options.readOnly) for (const f of files) if (isScratchFile(f)) await dir.remove(f);
  let manifest: Manifest;
  if (files.includes(MANIFEST_FILE)) manifest = decodeManifest(await dir.read(MANIFEST_FILE));
  else manifest = emptyManifest();

  const collections = new Map<string, CollectionState>();
  const segmentsOf = new Map<string, string[]>();
  const indexFileOf = new Map<string, string>();
  const referenced = new Set<string>();
  for (const mc of manifest.collections) {
    const state = new CollectionState(mc.name, mc.uid, mc.schema, env);
    const snapshot = mc.indexFile
      ? await readIndexFile(dir, mc.indexFile, mc.uid, manifest.checkpointSeq, report)
      : null;
    if (mc.indexFile) referenced.add(mc.indexFile);
    state.beginLoad(snapshot?.slotIds ?? null);
    for (const segName of mc.segments) {
      referenced.add(segName);
      let bytes: Uint8Array;
      try {
        bytes = await dir.read(segName);
      } catch (e) {
        if (isQuiverError(e, "NOT_FOUND"))
          throw new QuiverError("CORRUPT", `segment ${segName} named by the manifest is missing`);
        throw e;
      }
      const seg = decodeSegment(bytes, segName);
      if (seg.uid !== mc.uid) throw new QuiverError("CORRUPT", `segment ${segName} belongs to another collection`);
      state.applySegment(seg);
      report.segmentsLoaded++;
    }
    const graphs = state.endLoad(snapshot?.graphs ?? new Map());
    report.graphsRestored += graphs.restored;
    for (const vname of graphs.rebuilt) {
      report.warnings.push(
        `${mc.name}: the graph of vector "${vname}" in ${mc.indexFile} did not match the records and was rebuilt`,
      );
    }
    // Segments hold checkpointed data: nothing in them is dirty.
    state.dirty = new Map();
    collections.set(mc.uid, state);
    segmentsOf.set(mc.uid, [...mc.segments]);
    if (mc.indexFile) indexFileOf.set(mc.uid, mc.indexFile);
  }

  let maxFileNumber = 0;
  const walNumbers: number[] = [];
  for (const f of files) {
    const numbered = /^(?:seg|idx)-(\d+)\.q(?:seg|idx)$/.exec(f);
    const n = parseWalFileName(f) ?? (numbered ? Number(numbered[1]) : null);
    if (n !== null) maxFileNumber = Math.max(maxFileNumber, n);
    const w = parseWalFileName(f);
    if (w !== null && w >= manifest.walStart) walNumbers.push(w);
  }
  walNumbers.sort((a, b) => a - b);

  let seq = manifest.checkpointSeq;
  const wals: Recovered["wals"] = [];
  for (const n of walNumbers) {
    const name = `wal-${String(n).padStart(6, "0")}.log`;
    const scan = scanWal(await dir.read(name), name);
    for (const rec of scan.records) {
      if (rec.seq <= seq) continue; // already in segments, or a duplicate
      applyOp(decodeOp(rec.op, `${name} seq ${rec.seq}`), collections, env, true);
      seq = rec.seq;
      report.operationsReplayed++;
    }
    if (scan.tailBytes > 0) {
      report.tornBytesTruncated += scan.tailBytes;
      report.warnings.push(
        `${name}: cut ${scan.tailBytes} bytes of an incomplete or corrupt tail (writes that were never acknowledged)`,
      );
    }
    report.walFilesReplayed++;
    wals.push({ number: n, validLength: scan.validLength });
  }

  // Files from an interrupted checkpoint: older WALs, unreferenced segments, a half-written manifest.
  for (const f of options.readOnly ? [] : files) {
    const w = parseWalFileName(f);
    const stale =
      (w !== null && w < manifest.walStart) ||
      (/^(?:seg-\d+\.qseg|idx-\d+\.qidx)$/.test(f) && !referenced.has(f)) ||
      f.endsWith(".tmp");
    if (stale) {
      await dir.remove(f);
      report.staleFilesRemoved.push(f);
    }
  }
  if (report.staleFilesRemoved.length > 0) await dir.syncDir();

  const nextFileNumber = Math.max(manifest.nextFileNumber, maxFileNumber + 1);
  return { manifest, collections, segmentsOf, indexFileOf, seq, wals, nextFileNumber, report };
}

/** Reads a collection's index file; a damaged or mismatched one is reported and ignored (graphs are then rebuilt). */
async function readIndexFile(
  dir: Directory,
  name: string,
  uid: string,
  checkpointSeq: number,
  report: RecoveryReport,
): Promise<IndexSnapshot | null> {
  try {
    const snap = decodeIndexFile(await dir.read(name), name);
    // An older checkpoint's file is still right when the collection has not changed since (a
    // checkpoint rewrites it whenever it does); endLoad checks the graphs against the records.
    if (snap.uid !== uid || snap.checkpointSeq > checkpointSeq)
      throw new QuiverError("CORRUPT", `${name} is for another collection or a later checkpoint`);
    return snap;
  } catch (e) {
    if (!isQuiverError(e, "CORRUPT") && !isQuiverError(e, "NOT_FOUND")) throw e;
    report.warnings.push(`${name}: ${e.message}; the graphs are rebuilt from the records`);
    return null;
  }
}
