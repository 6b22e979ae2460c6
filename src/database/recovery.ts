/**
 * Opening a database directory: read the manifest, load segments, replay the WAL tail, cut a torn
 * tail, and clear files a crash left behind. Returns the recovered state and a report of what
 * recovery had to do, so that nothing is repaired silently.
 *
 * What a crash can leave is repaired (a torn tail of the newest WAL, files of an interrupted
 * checkpoint). Anything else is damage: a damaged or missing segment or manifest, a bad WAL record
 * with intact records after it, a bad record in a WAL that is not the newest, a gap in the sequence
 * numbers, a record that cannot be applied. Damage fails the open with CORRUPT (naming the file,
 * offset and sequence number) unless the caller asked for `ifCorrupt: "readOnly"`: then recovery
 * loads what it can read, stops replaying at the first damage, removes nothing, and lists the damage
 * in the report. docs/durability.md describes each case.
 */
import { ensureStopWords } from "./stop-words-on-demand.js";
import { QuiverError, isQuiverError } from "../core/errors/errors.js";
import { isScratchFile, type Directory } from "../storage/directory.js";
import { MANIFEST_FILE, decodeManifest, emptyManifest, type Manifest } from "../storage/manifest.js";
import { SEGMENT_VERSION, decodeSegment } from "../storage/segment.js";
import { decodeIndexFile, type IndexSnapshot } from "../storage/index-file.js";
import { parseWalFileName, scanWal, walFileName } from "../storage/wal.js";
import { CollectionState, type StateEnv } from "./collection-state.js";
import { GroupReservation } from "./reserve.js";
import { decodeOp } from "./ops.js";
import { applyOp } from "./apply.js";

/** What to do when stored files are damaged: refuse to open (default), or open read-only. */
export type IfCorrupt = "fail" | "readOnly";

/** One damaged spot, located as precisely as the file kind allows. */
export interface Damage {
  /** What is damaged: the log (repairable by cutting it), a segment, or the manifest. */
  kind: "wal" | "segment" | "manifest";
  file: string;
  /** Byte offset in `file` (WAL records). */
  offset?: number;
  /** Sequence number of the first operation that could not be replayed. */
  seq?: number;
  message: string;
}

/** "wal-000003.log offset 4096 seq 812: ..." */
export function describeDamage(d: Damage): string {
  const where = [d.file, d.offset !== undefined ? `offset ${d.offset}` : "", d.seq !== undefined ? `seq ${d.seq}` : ""];
  return `${where.filter(Boolean).join(" ")}: ${d.message}`;
}

const SEGMENT_OR_INDEX = /^(?:seg-\d+\.qseg|idx-\d+\.qidx)$/;

export interface RecoveryReport {
  segmentsLoaded: number;
  /** HNSW graphs restored from index files rather than rebuilt. */
  graphsRestored: number;
  /** Collections whose full-text postings were loaded from their index file rather than rebuilt. */
  textIndexesRestored: number;
  /** Collections whose payload indexes were loaded from their index file rather than rebuilt. */
  payloadIndexesRestored: number;
  walFilesReplayed: number;
  operationsReplayed: number;
  /** Bytes cut from WAL tails that were incomplete or failed their checksum (never acknowledged). */
  tornBytesTruncated: number;
  /** Files left by an interrupted checkpoint and removed. */
  staleFilesRemoved: string[];
  warnings: string[];
  /** Damage found (only with `ifCorrupt: "readOnly"`; otherwise the open failed). Empty when healthy. */
  damage: Damage[];
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
  /** False when the directory had no MANIFEST (a new database): the caller writes the first one. */
  manifestFound: boolean;
  report: RecoveryReport;
}

/**
 * An allocation failure while loading becomes a precise refusal to open: which collection, where,
 * and (from the slab) how much memory it needs. Nothing has been removed or cut at that point.
 */
function cannotOpen(e: unknown, where: string): unknown {
  if (!isQuiverError(e, "RESOURCE_EXHAUSTED")) return e;
  return new QuiverError(
    "RESOURCE_EXHAUSTED",
    `cannot open the database: ${where}: ${e.message}; nothing on disk was changed: open it where more memory is available`,
    { cause: e },
  );
}

export interface RecoverOptions {
  /** Damaged files: refuse to open (default), or open read-only listing the damage. */
  ifCorrupt?: IfCorrupt;
  /**
   * Change nothing on disk (a reader beside a live writer, follower.ts): keep scratch files, and
   * files that look stale (an older WAL, an unreferenced segment, MANIFEST.tmp), which may be the
   * writer's checkpoint in progress. A torn tail is only reported; it is never cut here anyway.
   */
  readOnly?: boolean;
}

export async function recover(dir: Directory, env: StateEnv, options: RecoverOptions = {}): Promise<Recovered> {
  const ifCorrupt = options.ifCorrupt ?? "fail";
  const report: RecoveryReport = {
    segmentsLoaded: 0,
    graphsRestored: 0,
    textIndexesRestored: 0,
    payloadIndexesRestored: 0,
    walFilesReplayed: 0,
    operationsReplayed: 0,
    tornBytesTruncated: 0,
    staleFilesRemoved: [],
    warnings: [],
    damage: [],
  };
  const damaged = (d: Damage): void => {
    if (ifCorrupt === "fail") throw new QuiverError("CORRUPT", `${describeDamage(d)} (see docs/durability.md)`);
    report.damage.push(d);
  };
  const files = await dir.list();
  // First, so that a directory in a newer format (UNSUPPORTED) is left exactly as it was.
  const { manifest, manifestFound, walUsable } = await readManifest(dir, files, damaged);
  // Scratch files are caches of the previous process (see ScratchFile): the states below recreate
  // theirs from the records, and a dropped collection's must not linger.
  if (!options.readOnly) for (const f of files) if (isScratchFile(f)) await dir.remove(f);

  const collections = new Map<string, CollectionState>();
  const segmentsOf = new Map<string, string[]>();
  const indexFileOf = new Map<string, string>();
  const referenced = new Set<string>();
  const reused = await segmentBuffer(dir, manifest.collections);
  for (const mc of manifest.collections) {
    await ensureStopWords(env, mc.schema);
    const state = new CollectionState(mc.name, mc.uid, mc.schema, env);
    const snapshot = mc.indexFile
      ? await readIndexFile(dir, mc.indexFile, mc.uid, manifest.checkpointSeq, report)
      : null;
    if (mc.indexFile) referenced.add(mc.indexFile);
    const { textNote, payloadNote } = state.beginLoad(snapshot);
    if (textNote)
      report.warnings.push(`${mc.name}: ${mc.indexFile}: ${textNote}; the full-text index is rebuilt from the records`);
    if (payloadNote)
      report.warnings.push(
        `${mc.name}: ${mc.indexFile}: ${payloadNote}; the payload indexes are rebuilt from the records`,
      );
    for (const segName of mc.segments) {
      referenced.add(segName);
      const seg = await readSegment(dir, segName, reused);
      if (typeof seg === "string") damaged({ kind: "segment", file: segName, message: seg });
      else if (seg.uid !== mc.uid)
        damaged({ kind: "segment", file: segName, message: "segment belongs to another collection" });
      else {
        try {
          state.applySegment(seg);
          if (seg.version < SEGMENT_VERSION) state.hasOldSegments = true;
        } catch (e) {
          throw cannotOpen(e, `collection ${mc.name}, segment ${segName}`);
        }
        report.segmentsLoaded++;
      }
    }
    let graphs: ReturnType<CollectionState["endLoad"]>;
    try {
      graphs = state.endLoad(snapshot?.graphs ?? new Map());
    } catch (e) {
      throw cannotOpen(e, `collection ${mc.name}, building its graphs`);
    }
    report.graphsRestored += graphs.restored;
    if (graphs.text === "restored") report.textIndexesRestored++;
    if (graphs.payloadIndexes === "restored") report.payloadIndexesRestored++;
    if (graphs.payloadIndexes === "rebuilt")
      report.warnings.push(
        `${mc.name}: the payload indexes in ${mc.indexFile} did not match the records and were rebuilt`,
      );
    if (graphs.text === "rebuilt")
      report.warnings.push(
        `${mc.name}: the full-text postings in ${mc.indexFile} did not match the records and were rebuilt`,
      );
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

  const replay = walUsable
    ? await replayWals(dir, walNumbers, manifest, collections, env, report, damaged, manifestFound)
    : { seq: manifest.checkpointSeq, wals: [] };

  // Files from an interrupted checkpoint: older WALs, unreferenced segments, a half-written manifest.
  // Damaged directories keep everything: those files may be what a repair needs.
  if (report.damage.length === 0 && !options.readOnly) {
    for (const f of files) {
      const w = parseWalFileName(f);
      const stale =
        (w !== null && w < manifest.walStart) || (SEGMENT_OR_INDEX.test(f) && !referenced.has(f)) || f.endsWith(".tmp");
      if (stale) {
        await dir.remove(f);
        report.staleFilesRemoved.push(f);
      }
    }
    if (report.staleFilesRemoved.length > 0) await dir.syncDir();
  }

  const nextFileNumber = Math.max(manifest.nextFileNumber, maxFileNumber + 1);
  return { manifest, collections, segmentsOf, indexFileOf, nextFileNumber, manifestFound, report, ...replay };
}

/**
 * The manifest, or an empty one for a new database. A directory without a MANIFEST but with
 * segment or index files is damage, not a new database: those files are evidence of data that the
 * lost manifest described, and nothing may be deleted. (Every database writes its first manifest
 * right after its first WAL, so no crash leaves segments without one.)
 */
async function readManifest(
  dir: Directory,
  files: string[],
  damaged: (d: Damage) => void,
): Promise<{ manifest: Manifest; manifestFound: boolean; walUsable: boolean }> {
  if (!files.includes(MANIFEST_FILE)) {
    const evidence = files.filter((f) => SEGMENT_OR_INDEX.test(f)).sort();
    if (evidence.length > 0) {
      const shown = evidence.slice(0, 5).join(", ") + (evidence.length > 5 ? `, ... (${evidence.length} files)` : "");
      damaged({
        kind: "manifest",
        file: MANIFEST_FILE,
        message: `the manifest is missing, yet the directory holds ${shown}; refusing to treat it as a new database`,
      });
    }
    return { manifest: emptyManifest(), manifestFound: false, walUsable: true };
  }
  try {
    return { manifest: decodeManifest(await dir.read(MANIFEST_FILE)), manifestFound: true, walUsable: true };
  } catch (e) {
    if (!isQuiverError(e, "CORRUPT") && !(e instanceof SyntaxError)) throw e;
    damaged({ kind: "manifest", file: MANIFEST_FILE, message: e.message });
    // Without it, neither the segments nor where replay starts are known: nothing is loaded.
    return { manifest: emptyManifest(), manifestFound: true, walUsable: false };
  }
}

/**
 * One buffer for every segment (sized for the largest), when the directory can read into one: a
 * segment's bytes are done with once applied (its strings, payload texts and sparse vectors are
 * copies, its dense rows are copied into the slabs), so the next segment may overwrite them.
 */
async function segmentBuffer(
  dir: Directory,
  collections: readonly { segments: readonly string[] }[],
): Promise<Uint8Array | undefined> {
  if (!dir.readInto || !dir.sizeOf) return undefined;
  let largest = 0;
  for (const c of collections)
    for (const name of c.segments) largest = Math.max(largest, await dir.sizeOf(name).catch(() => 0));
  return largest > 0 ? new Uint8Array(largest) : undefined;
}

/** A segment's content, or why it cannot be read. */
async function readSegment(
  dir: Directory,
  name: string,
  reused: Uint8Array | undefined,
): Promise<ReturnType<typeof decodeSegment> | string> {
  try {
    return decodeSegment(await (reused && dir.readInto ? dir.readInto(name, reused) : dir.read(name)), name);
  } catch (e) {
    if (isQuiverError(e, "NOT_FOUND")) return "segment named by the manifest is missing";
    if (isQuiverError(e, "CORRUPT")) return e.message;
    throw e;
  }
}

/** The sequence number of the first intact record in the first of `numbers` that has one. */
async function firstSeqIn(dir: Directory, numbers: number[]): Promise<number | undefined> {
  for (const n of numbers) {
    try {
      const first = scanWal(await dir.read(walFileName(n)), walFileName(n)).records[0];
      if (first) return first.seq;
    } catch (e) {
      // The replay reports a damaged file when it reaches it; here it only hides what follows.
      if (!isQuiverError(e, "CORRUPT")) throw e;
      return undefined;
    }
  }
  return undefined;
}

/**
 * Replays the WAL files from the manifest's `walStart`, checking that sequence numbers continue
 * without a gap from the checkpoint on. Only the newest file may end in a torn tail (cut and
 * reported); damage anywhere else stops the replay (see `damaged`).
 */
async function replayWals(
  dir: Directory,
  walNumbers: number[],
  manifest: Manifest,
  collections: Map<string, CollectionState>,
  env: StateEnv,
  report: RecoveryReport,
  damaged: (d: Damage) => void,
  manifestFound: boolean,
): Promise<{ seq: number; wals: Recovered["wals"] }> {
  let seq = manifest.checkpointSeq;
  const reservation = new GroupReservation(collections);
  const wals: Recovered["wals"] = [];
  if (manifestFound && walNumbers[0] !== manifest.walStart) {
    damaged({
      kind: "wal",
      file: walFileName(manifest.walStart),
      seq: seq + 1,
      message: "the WAL file the manifest starts replay from is missing",
    });
    return { seq, wals };
  }
  let lastSeen = seq;
  for (const [i, n] of walNumbers.entries()) {
    const name = walFileName(n);
    const newest = i === walNumbers.length - 1;
    let scan: ReturnType<typeof scanWal>;
    try {
      scan = scanWal(await dir.read(name), name, lastSeen);
    } catch (e) {
      if (!isQuiverError(e, "CORRUPT")) throw e;
      damaged({ kind: "wal", file: name, offset: 0, seq: seq + 1, message: e.message });
      return { seq, wals };
    }
    for (const rec of scan.records) {
      lastSeen = rec.seq;
      if (rec.seq <= seq) continue; // already in segments
      const at = { kind: "wal" as const, file: name, offset: rec.offset, seq: seq + 1 };
      if (rec.seq !== seq + 1) {
        damaged({ ...at, message: `operations ${seq + 1} to ${rec.seq - 1} are missing from the log` });
        return { seq, wals };
      }
      let applied: number;
      let op: ReturnType<typeof decodeOp> | undefined;
      try {
        op = decodeOp(rec.op, `${name} seq ${rec.seq}`);
        if (op.type === "create") await ensureStopWords(env, op.schema);
        // Reserved whole first, as when it was written, so a shortfall names the record's full need.
        reservation.reset();
        reservation.add([op]);
        applied = applyOp(op, collections, env, true);
      } catch (e) {
        if (isQuiverError(e, "RESOURCE_EXHAUSTED") && op) {
          const target = op.type === "create" ? op.name : (collections.get(op.uid)?.name ?? op.uid);
          throw cannotOpen(e, `collection ${target}, replaying ${name} seq ${rec.seq}`);
        }
        if (!isQuiverError(e, "CORRUPT")) throw e;
        applied = -1;
      }
      if (applied < 0) {
        damaged({ ...at, message: "the record passes its checksum but cannot be applied" });
        return { seq, wals };
      }
      seq = rec.seq;
      report.operationsReplayed++;
    }
    if (scan.damage) {
      damaged({
        kind: "wal",
        file: name,
        offset: scan.damage.offset,
        seq: seq + 1,
        message: `the record is damaged, yet an intact record (seq ${scan.damage.nextSeq}) follows at offset ${scan.damage.nextValidOffset}: acknowledged writes after it cannot be replayed`,
      });
      return { seq, wals };
    }
    if (scan.tailBytes > 0 && !newest) {
      // A write whose append or fsync failed can leave bytes that a power loss keeps (the cut-back
      // was never synced) in a file the writer has since rotated away from. Such a write was never
      // acknowledged and gave its sequence numbers back, so the next file goes on from lastSeen + 1;
      // a lost acknowledged record would leave a gap there instead.
      const next = await firstSeqIn(dir, walNumbers.slice(i + 1));
      if (next !== undefined && next !== lastSeen + 1) {
        damaged({
          kind: "wal",
          file: name,
          offset: scan.validLength,
          seq: seq + 1,
          message: `${scan.tailBytes} unreadable bytes end a WAL file that is not the newest, and the next file starts at seq ${next}: operations ${lastSeen + 1} to ${next - 1} are lost`,
        });
        return { seq, wals };
      }
      report.warnings.push(
        `${name}: ${scan.tailBytes} unreadable bytes at offset ${scan.validLength} end a WAL file that is not the newest; the log goes on without a gap${next === undefined ? "" : ` (seq ${next})`}, so they are a write that failed and was never acknowledged (left in place, ignored)`,
      );
    }
    if (scan.tailBytes > 0) {
      report.tornBytesTruncated += scan.tailBytes;
      report.warnings.push(
        `${name}: cut ${scan.tailBytes} bytes of an incomplete or unreadable tail at offset ${scan.validLength}, with no intact record after it: a write in flight at a crash, never acknowledged (or, rarely, damage to the very last record)`,
      );
    }
    report.walFilesReplayed++;
    wals.push({ number: n, validLength: scan.validLength });
  }
  return { seq, wals };
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
    report.warnings.push(
      `${name}: ${e.message}; the graphs, full-text postings and payload indexes are rebuilt from the records`,
    );
    return null;
  }
}
