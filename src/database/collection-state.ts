/**
 * The in-memory state of one collection: ids and slots, vector slabs, sparse vector indexes,
 * payloads, payload indexes and the full-text index. The full-text index is derived from the payloads (which the
 * WAL and segments already hold), so it is rebuilt as records are applied, at open as at write.
 * So is a named vector's HNSW graph. It applies already-validated, already-logged operations and
 * answers reads; of storage it touches only its scratch files (vectors with `originals: "disk"`),
 * never the WAL, segments or manifest. It also tracks which ids changed since the last checkpoint,
 * so a checkpoint can write just that delta as a segment. Longer than most files because loading
 * (beginLoad, applySegment, endLoad: segments, slot hints, persisted graphs and postings) shares
 * the private slot and index bookkeeping of the write path.
 */
import type { StopWordLoader } from "./stop-words-on-demand.js";
import { QuiverError } from "../core/errors/errors.js";
import type { KernelFactory } from "../core/kernels/kernels.js";
import type { TextPlugins } from "../core/analysis/analyzer.js";
import { DEFAULT_BM25, TextIndex } from "../core/index/bm25/text-index.js";
import { ANALYSIS_VERSION } from "../core/analysis/analyzer.js";
import { VectorSlab, type GrowHook, type RowFile } from "../core/vectors/slab.js";
import { PayloadIndexSet } from "../core/payload/indexes.js";
import { PayloadStore } from "./payload-store.js";
import type { VectorStats } from "../api/types.js";
import type { StoredRecord } from "./ops.js";
import type { CollectionSchema, VectorIndexSpec } from "../core/schema/schema.js";
import type { SegmentColumns } from "../storage/segment.js";
import type { IndexSnapshot } from "../storage/index-file.js";
import type { HnswSnapshotSource } from "../core/index/hnsw/serialize.js";
import { RecordSnapshot, type RecordSource } from "./checkpoint-snapshot.js";
import { SCRATCH_SUFFIX } from "../storage/directory.js";
import { HnswIndex } from "../core/index/hnsw/hnsw.js";
import { TableSlots, slotsById } from "./table-slots.js";
import type { FreezeRoom } from "./freeze-room.js";
import { ANN_MIN_RECORDS } from "../core/query/plan/vector-plan.js";
import { SparseIndex } from "../core/index/sparse/sparse-index.js";
import type { SparseVector } from "../core/index/sparse/sparse-vector.js";
import type { DeferredInserts } from "./graph-inserts.js";

/** What a collection's state is built with: kernels, the compiled HNSW module, analyzers' resources. */
export interface StateEnv {
  kernels: KernelFactory;
  /** Null where the runtime cannot run it: no graph is built, every vector query scans exactly. */
  hnsw: WebAssembly.Module | null;
  /** Why `hnsw` is null, reported by stats() and every vector query's plan. */
  hnswUnavailable?: string;
  text: TextPlugins;
  /** Loads stop-word lists a schema names that `text` lacks (stop-words-on-demand.ts); absent = none are loaded. */
  loadStopWords?: StopWordLoader;
  /** Opens a scratch file (see Directory.openScratch) for `originals: "disk"`; absent = keep them in memory. */
  scratch?: (name: string) => RowFile;
  /** Asked before any vector memory grows (see GrowHook): tests fail allocations on demand. */
  growHook?: GrowHook;
}

/** A collection's graphs frozen for an index file: serialized later, in slices (checkpoint.ts). */
export type FrozenIndex = Omit<IndexSnapshot, "graphs"> & { graphs: Map<string, HnswSnapshotSource> };

/** The scratch file of a collection's i-th named vector (names in schemas may hold any character). */
export const originalsFileName = (uid: string, i: number): string => `vectors-${uid}-${i}${SCRATCH_SUFFIX}`;

export interface NamedVectorState {
  slab: VectorSlab;
  /** live[slot] = 1 when the slot holds a live record that has this vector. */
  live: Uint8Array;
  /** Live records that have this vector. */
  count: number;
  /** The graph, once built: from the first record for `hnsw`, past ANN_MIN_RECORDS for `auto`. */
  index: HnswIndex | null;
  spec: VectorIndexSpec;
  /** Why `originals: "disk"` was asked for but the f32 vectors are in memory. */
  originalsNote?: string;
}

export class CollectionState {
  /**
   * id -> slot; null after an open from an index file, whose table gives every id its slot, until
   * the first access by id (`ids`) builds it: an open that is only searched never hashes its ids.
   */
  private idMap: Map<string, number> | null = new Map();
  /** How many ids are present while idMap is null. */
  private idCount = 0;
  slotIds: (string | undefined)[] = [];
  /** Payloads by slot; those loaded from segments are parsed on first read (payload-store.ts). */
  readonly payloads = new PayloadStore();
  readonly vectors = new Map<string, NamedVectorState>();
  /**
   * Sparse named vectors: each an inverted index holding every record's vector. They live on the
   * JavaScript heap, not in WebAssembly memory, so the write path's reservation does not cover them.
   */
  readonly sparse = new Map<string, SparseIndex>();
  readonly indexes: PayloadIndexSet;
  /** BM25 index of the schema's text fields, or null when it declares none. */
  readonly text: TextIndex | null;
  /** Slots in [0, highWater) have been used at least once; freed ones wait in `free`. */
  highWater = 0;
  private free: number[] = [];
  /** id -> present, for every id changed since the last checkpoint. */
  dirty = new Map<string, boolean>();
  /** Snapshots of checkpoints that are still writing this collection's records (copy-on-write). */
  private readonly snapshots = new Set<RecordSnapshot>();
  /** Loaded from a segment in an older format: the next checkpoint compacts the collection into the current one. */
  hasOldSegments = false;
  /**
   * Opened with payload indexes rebuilt rather than loaded (an index file from before version 3, or
   * one that did not fit): the next checkpoint writes a new index file even if no record changed.
   */
  indexFileStale = false;
  /** Between beginLoad and endLoad graphs are not maintained: endLoad restores or builds them once. */
  private suspendIndexes = false;
  /** Set between beginLoad and endLoad when the full-text postings came from an index file: not maintained while loading. */
  private textLoaded = false;
  /** Likewise for the payload indexes. */
  private payloadIndexesLoaded = false;
  /** Set between beginLoad and endLoad: segments are loading with the slots of an index file. */
  private loading: TableSlots | null = null;
  /** Bumped on every change; lets readers cache derived data such as the sorted id list. */
  version = 0;
  private sortedIdsCache: { version: number; ids: string[] } | null = null;

  constructor(
    readonly name: string,
    readonly uid: string,
    readonly schema: CollectionSchema,
    private readonly env: StateEnv,
  ) {
    // `i` counts every named vector, so a dense vector's scratch file keeps its name whatever the kinds.
    Object.entries(schema.vectors).forEach(([vname, spec], i) => {
      if (spec.kind === "sparse") {
        this.sparse.set(vname, new SparseIndex());
        return;
      }
      let rows: RowFile | null = null;
      let originalsNote: string | undefined;
      if (spec.index?.originals === "disk") {
        // The file is only a cache, so when it cannot be had the vectors simply stay in memory.
        if (!env.scratch)
          originalsNote = "originals: disk needs a database on a file system; full vectors are in memory";
        else {
          try {
            rows = env.scratch(originalsFileName(uid, i));
          } catch (e) {
            originalsNote = `could not open the originals file (${e instanceof Error ? e.message : String(e)}); full vectors are in memory`;
          }
        }
      }
      const named: NamedVectorState = {
        slab: new VectorSlab(env.kernels, spec.dim, spec.metric, rows, {
          label: `${name}.${vname}`,
          growHook: env.growHook,
        }),
        live: new Uint8Array(0),
        count: 0,
        index: null,
        spec: spec.index ?? {},
        originalsNote,
      };
      if (named.spec.type === "hnsw") named.index = this.newIndex(named);
      this.vectors.set(vname, named);
    });
    const textFields = schema.text ?? {};
    this.text =
      Object.keys(textFields).length === 0
        ? null
        : new TextIndex(textFields, { ...DEFAULT_BM25, ...schema.bm25 }, env.text);
    this.indexes = new PayloadIndexSet(Object.entries(schema.indexes ?? {}).map(([field, type]) => ({ field, type })));
  }

  get size(): number {
    return this.idMap?.size ?? this.idCount;
  }

  /** id -> slot of every present id (built from the slot table on first use after an open). */
  get ids(): Map<string, number> {
    this.idMap ??= slotsById(this.slotIds);
    return this.idMap;
  }

  /**
   * The slot of a present id. While segments load with an index file's table and no id map, the
   * id's slot in the table (or above it) holds it exactly when it is present.
   */
  private slotOf(id: string): number | undefined {
    return this.idMap || !this.loading ? this.ids.get(id) : this.loading.slotOf(id, this.slotIds);
  }

  private allocateSlot(id: string): number {
    if (this.loading) return this.growTo(this.loading.place(id, this.slotIds));
    const reused = this.free.pop();
    if (reused !== undefined) return reused;
    return this.growTo(this.highWater);
  }

  /** Makes `slot` addressable in every slab and live mask. */
  private growTo(slot: number): number {
    this.highWater = Math.max(this.highWater, slot + 1);
    // No holes: loading can skip free slots of the index file's table, and a hole in the slot
    // table (unlike an undefined entry) is skipped by map(), which broke every later checkpoint.
    while (this.slotIds.length < this.highWater) this.slotIds.push(undefined);
    for (const v of this.vectors.values()) {
      v.slab.ensureCapacity(this.highWater);
      if (v.live.length < this.highWater) {
        const grown = new Uint8Array(Math.max(64, v.live.length * 2, this.highWater));
        grown.set(v.live);
        v.live = grown;
      }
    }
    return slot;
  }

  /**
   * Makes room for upserting `records` (and any reserved before in the same group: `plannedNew` ids
   * not in the collection yet, `plannedVectors` inserts per named vector), before they are logged:
   * slots in every slab, graph arrays and link pools, and a graph an `auto` vector will get. After
   * it, applying them allocates no WebAssembly memory. Throws RESOURCE_EXHAUSTED naming what ran out;
   * what was grown stays, as room (derived state only: no record changes).
   */
  reserve(plannedNew: number, plannedVectors: Map<string, number>): void {
    const slots = this.highWater + Math.max(0, plannedNew - this.free.length);
    for (const [vname, v] of this.vectors) {
      v.slab.ensureCapacity(slots);
      const inserts = plannedVectors.get(vname) ?? 0;
      if (!v.index && (v.spec.type ?? "auto") === "auto" && v.count + inserts >= ANN_MIN_RECORDS) {
        // The graph that applying would build: built now over the records already there (the
        // planner keeps scanning exactly below ANN_MIN_RECORDS, so building it early changes no answer).
        this.buildIndex(v);
      }
      v.index?.reserve(inserts);
    }
  }

  /** Inserts or fully replaces each record (a vector or payload field not given is removed). */
  /**
   * @param deferred where the graph inserts go instead of being made now (the live write path of a
   * database with search threads: graph-inserts.ts); absent, each vector joins its graph here.
   */
  applyUpsert(records: StoredRecord[], trackDirty = true, deferred?: DeferredInserts): void {
    if (this.snapshots.size > 0) this.preserveForSnapshots(records.map((r) => r.id));
    const touched: (NamedVectorState | number)[] = [];
    // Replaced vectors leave their graphs (each delete repairs its neighbourhood) before any vector
    // is overwritten: the repairs compare neighbours' vectors, which must still be the graph's.
    for (const r of records) {
      const slot = this.ids.get(r.id);
      if (slot === undefined) continue;
      for (const v of this.vectors.values()) if (v.index && v.live[slot]) v.index.delete(slot);
    }
    for (const r of records) {
      let slot = this.ids.get(r.id);
      if (slot === undefined) {
        slot = this.allocateSlot(r.id);
        this.ids.set(r.id, slot);
        this.slotIds[slot] = r.id;
      } else {
        this.unindexPayload(slot, this.declaredIndexes);
        this.text?.remove(slot);
      }
      for (const [vname, index] of this.sparse) {
        index.remove(slot);
        const v = r.sparse.get(vname);
        if (v) index.add(slot, v);
      }
      const payload = JSON.parse(r.payloadJson) as Record<string, unknown>;
      this.payloads.set(slot, payload);
      this.indexes.add(slot, payload);
      this.text?.add(slot, payload);
      for (const [vname, v] of this.vectors) {
        const vec = r.vectors.get(vname);
        // Its graph node (if any) was removed by the pre-pass above.
        if (v.live[slot]) v.count--;
        if (vec) {
          v.slab.set(slot, vec);
          v.live[slot] = 1;
          v.count++;
          touched.push(v, slot);
        } else {
          v.live[slot] = 0;
        }
      }
      if (trackDirty) this.dirty.set(r.id, true);
    }
    for (let i = 0; i < touched.length && !this.suspendIndexes; i += 2) {
      const v = touched[i] as NamedVectorState;
      const slot = touched[i + 1] as number;
      if (!v.index || !v.live[slot]) continue;
      if (deferred) deferred.add(v, v.index, slot);
      else v.index.insert(slot);
    }
    for (const v of this.vectors.values()) this.maybeBuildIndex(v);
    this.version++;
  }

  /** Why this collection has no graphs (the runtime cannot run the HNSW module), or undefined. */
  get hnswUnavailable(): string | undefined {
    return this.env.hnswUnavailable;
  }

  /** A new, empty graph; null where the HNSW module is unavailable (exact scans answer instead). */
  private newIndex(v: NamedVectorState): HnswIndex | null {
    if (!this.env.hnsw) return null;
    return new HnswIndex(this.env.hnsw, v.slab, {
      m: v.spec.m,
      efConstruction: v.spec.efConstruction,
      efSearch: v.spec.efSearch,
      quantization: v.spec.quantization,
    });
  }

  /** `auto` vectors get their graph once they are large enough for it to beat an exact scan. */
  private maybeBuildIndex(v: NamedVectorState): void {
    if (this.suspendIndexes || v.index || (v.spec.type ?? "auto") !== "auto" || v.count < ANN_MIN_RECORDS) return;
    this.buildIndex(v);
  }

  /** A new graph over every live vector. */
  private buildIndex(v: NamedVectorState): void {
    const index = this.newIndex(v);
    if (!index) return;
    try {
      index.reserve(v.count);
      for (let slot = 0; slot < this.highWater; slot++) if (v.live[slot]) index.insert(slot);
    } catch (e) {
      index.dispose();
      throw e;
    }
    v.index = index;
  }

  /** Deletes the ids that exist; returns how many did. */
  applyDelete(ids: string[], trackDirty = true): number {
    if (this.snapshots.size > 0) this.preserveForSnapshots(ids);
    let deleted = 0;
    for (const id of ids) {
      const slot = this.slotOf(id);
      if (slot === undefined) continue;
      this.unindexPayload(slot, this.maintainedIndexes);
      this.maintainedText?.remove(slot);
      for (const index of this.sparse.values()) index.remove(slot);
      if (this.idMap) this.idMap.delete(id);
      else this.idCount--;
      this.slotIds[slot] = undefined;
      this.payloads.set(slot, undefined);
      for (const v of this.vectors.values()) {
        if (!v.live[slot]) continue;
        v.live[slot] = 0;
        v.count--;
        v.index?.delete(slot);
      }
      this.free.push(slot);
      if (trackDirty) this.dirty.set(id, false);
      deleted++;
    }
    this.version++;
    return deleted;
  }

  /**
   * Loads a segment (at open, between beginLoad and endLoad, graphs suspended): its deletions, then
   * its records column by column: ids and slots, payloads kept as text (parsed here only for
   * indexes or postings that were not loaded), then each named vector's rows copied from its
   * contiguous block, with the slabs grown once for the whole segment.
   */
  applySegment(seg: SegmentColumns): void {
    if (this.loading) this.loading.batch = seg.deleted;
    this.applyDelete(seg.deleted, false);
    if (this.loading) this.loading.batch = seg.ids;
    const n = seg.ids.length;
    // Grown once for the segment. With an index file's table, beginLoad made room for its slots and
    // only ids it does not know spill above them (allocateSlot grows for those); room for spill + n
    // here reserved a whole table more than the records needed, doubled.
    if (!this.loading) for (const v of this.vectors.values()) v.slab.ensureCapacity(this.highWater + n);
    const slots = new Uint32Array(n);
    for (let row = 0; row < n; row++) {
      const id = seg.ids[row];
      let slot = this.slotOf(id);
      if (slot === undefined) {
        slot = this.allocateSlot(id);
        if (this.idMap) this.idMap.set(id, slot);
        else this.idCount++;
        this.slotIds[slot] = id;
      } else this.unloadRecord(slot);
      slots[row] = slot;
    }
    this.payloads.load(slots, seg.payloadTexts);
    const indexes = this.maintainedIndexes;
    const text = this.maintainedText;
    if (indexes || text) {
      for (const slot of slots) {
        const payload = this.payloads.get(slot);
        indexes?.add(slot, payload);
        text?.add(slot, payload);
      }
    }
    for (const [vname, column] of seg.sparse) {
      const index = this.sparse.get(vname);
      if (index) for (let i = 0; i < column.rows.length; i++) index.add(slots[column.rows[i]], column.vectors[i]);
    }
    for (const [vname, column] of seg.dense) {
      const v = this.vectors.get(vname);
      if (!v) continue;
      if (column.dim !== v.slab.dim)
        throw new QuiverError(
          "CORRUPT",
          `vector ${vname} has dimension ${column.dim} in a segment, ${v.slab.dim} in the schema`,
        );
      // Runs of rows going to consecutive slots (all of them in a compacted segment opened with its
      // index file, which lists records in slot order) are copied in one block each.
      const m = column.rows.length;
      for (let i = 0; i < m; ) {
        const first = slots[column.rows[i]];
        let n = 1;
        while (i + n < m && slots[column.rows[i + n]] === first + n) n++;
        v.slab.setRows(first, column.data.subarray(i * column.dim, (i + n) * column.dim), n);
        for (let slot = first; slot < first + n; slot++) {
          if (v.live[slot] === 0) v.count++;
          v.live[slot] = 1;
        }
        i += n;
      }
    }
    this.version++;
  }

  /** The full-text index while it follows each change; null while loading persisted postings. */
  private get maintainedText(): TextIndex | null {
    return this.textLoaded ? null : this.text;
  }

  /** The payload indexes while they follow each change; null while loading persisted ones. */
  private get maintainedIndexes(): PayloadIndexSet | null {
    return this.payloadIndexesLoaded ? null : this.declaredIndexes;
  }

  /** The payload indexes, or null when the schema declares none (no payload need be parsed for them). */
  private get declaredIndexes(): PayloadIndexSet | null {
    return this.indexes.declarations.length > 0 ? this.indexes : null;
  }

  /** Takes the payload at `slot` out of `indexes`, if any (reading it only then). */
  private unindexPayload(slot: number, indexes: PayloadIndexSet | null): void {
    const old = indexes && this.payloads.get(slot);
    if (old) indexes!.remove(slot, old);
  }

  /** Takes a loaded record out of every derived structure before a later segment replaces it. */
  private unloadRecord(slot: number): void {
    this.unindexPayload(slot, this.maintainedIndexes);
    this.maintainedText?.remove(slot);
    for (const index of this.sparse.values()) index.remove(slot);
    for (const v of this.vectors.values()) {
      if (v.live[slot]) v.count--;
      v.live[slot] = 0;
    }
  }

  recordAt(slot: number): StoredRecord {
    const id = this.slotIds[slot];
    if (id === undefined) throw new QuiverError("INTERNAL", `slot ${slot} is empty`);
    const vectors = new Map<string, Float32Array>();
    for (const [vname, v] of this.vectors) if (v.live[slot]) vectors.set(vname, v.slab.get(slot));
    const sparse = new Map<string, SparseVector>();
    for (const [vname, index] of this.sparse) {
      const v = index.get(slot);
      if (v) sparse.set(vname, v);
    }
    return { id, payloadJson: this.payloads.json(slot), vectors, sparse };
  }

  /**
   * Takes the changes since the last checkpoint as a snapshot and starts a new delta. Called
   * synchronously at the moment the WAL is rotated, so the snapshot matches the rotated WAL exactly;
   * it reads the records later (checkpoint-snapshot.ts) and must be released when written.
   */
  takeDelta(): RecordSnapshot {
    const deleted: string[] = [];
    const present: string[] = [];
    for (const [id, isPresent] of this.dirty) (isPresent ? present : deleted).push(id);
    this.dirty = new Map();
    return this.track(RecordSnapshot.delta(this.recordSource, present, deleted));
  }

  /** Puts back a delta whose checkpoint failed, under newer changes to the same ids. */
  restoreDelta(snapshot: RecordSnapshot): void {
    for (const id of snapshot.deleted) if (!this.dirty.has(id)) this.dirty.set(id, false);
    for (const id of snapshot.ids()) if (!this.dirty.has(id)) this.dirty.set(id, true);
  }

  /**
   * Every live record, in slot order (see allocateSlot), for a compacted segment that replaces all
   * earlier ones. `slotIds` is the slot table as of now (the index snapshot's, when one is taken
   * too: both are the same copy).
   */
  takeFull(slotIds = this.slotIds.slice(0, this.highWater)): RecordSnapshot {
    this.dirty = new Map();
    return this.track(RecordSnapshot.full(this.recordSource, slotIds, this.ids.size));
  }

  /** Stops preserving records for a snapshot whose checkpoint has written it (or failed). */
  release(snapshot: RecordSnapshot): void {
    this.snapshots.delete(snapshot);
  }

  private track(snapshot: RecordSnapshot): RecordSnapshot {
    this.snapshots.add(snapshot);
    return snapshot;
  }

  private readonly recordSource: RecordSource = {
    slotOf: (id) => this.ids.get(id),
    recordAt: (slot) => this.recordAt(slot),
  };

  /** Before `ids` change: the snapshots of running checkpoints keep the records they still need. */
  private preserveForSnapshots(ids: Iterable<string>): void {
    for (const id of ids) for (const snapshot of this.snapshots) snapshot.preserve(id);
  }

  /**
   * Starts loading segments (at open). With an index file's slot table, ids get back the slots
   * its graphs refer to; graphs are not maintained until endLoad.
   */
  beginLoad(snapshot: IndexSnapshot | null): { textNote?: string; payloadNote?: string } {
    const slotIds = snapshot?.slotIds ?? null;
    // Without a table, slots are allocated in load order as usual.
    this.loading = null;
    const textNote = this.text && snapshot ? this.loadText(snapshot) : undefined;
    const payloadNote = snapshot ? this.loadPayloadIndexes(snapshot) : undefined;
    if (slotIds) {
      this.loading = new TableSlots(slotIds);
      // The table places every id: no id map while loading (see idMap), unless records exist already.
      if (this.highWater === 0) {
        this.idMap = null;
        this.idCount = 0;
      }
    }
    for (const v of this.vectors.values()) {
      v.index?.dispose();
      v.index = null;
      // The table's slots, exactly, in one growth: the graphs restored at endLoad are sized to the
      // slab's capacity, and a geometric step over (up to 1.5x) no longer fits under 4 GiB at 10M.
      if (slotIds) v.slab.ensureCapacity(slotIds.length);
    }
    this.suspendIndexes = true;
    return { ...(textNote ? { textNote } : {}), ...(payloadNote ? { payloadNote } : {}) };
  }

  /**
   * Takes the payload indexes of an index file, or says why they cannot be used (then rebuilt).
   * A file from before version 3 has none: they are rebuilt from the records without a word.
   */
  private loadPayloadIndexes(snapshot: IndexSnapshot): string | undefined {
    if (this.indexes.declarations.length === 0 || snapshot.payload.size === 0) return undefined;
    const failed = this.indexes.restore(snapshot.payload, snapshot.slotIds.length);
    if (failed) return failed;
    this.payloadIndexesLoaded = true;
    return undefined;
  }

  /**
   * Whether payload indexes loaded from an index file can stand for the loaded records: written from
   * the same snapshot as the file's slot table, they do when every id went back to its slot there
   * and no other id is left (an index naming a free slot fails too). Otherwise they are rebuilt.
   */
  private endPayloadIndexLoad(table: readonly (string | undefined)[] | undefined): "restored" | "rebuilt" | "none" {
    if (!this.payloadIndexesLoaded) return "none";
    this.payloadIndexesLoaded = false;
    // Slots past the table held records that a later segment deleted: they must be free now.
    let same = table !== undefined;
    for (let slot = 0; same && slot < this.highWater; slot++) same = this.slotIds[slot] === table![slot];
    if (same && this.indexes.namesOnly((slot) => this.slotIds[slot] !== undefined)) return "restored";
    this.indexes.clear();
    for (let slot = 0; slot < this.highWater; slot++)
      if (this.slotIds[slot] !== undefined) this.indexes.add(slot, this.payloads.get(slot));
    return "rebuilt";
  }

  /** Takes the full-text postings of an index file, or says why they cannot be used (then rebuilt). */
  private loadText(snapshot: IndexSnapshot): string | undefined {
    if (snapshot.text.size === 0) return "it holds no full-text postings";
    if (snapshot.analysisVersion !== ANALYSIS_VERSION)
      return `its full-text postings were made by analysis version ${snapshot.analysisVersion}, this release uses ${ANALYSIS_VERSION}`;
    const failed = this.text!.restore(snapshot.text);
    if (failed) return failed;
    this.textLoaded = true;
    return undefined;
  }

  /**
   * Whether postings loaded from an index file hold exactly the loaded records' text: a document
   * in each field for each live slot with text there, and none elsewhere. Otherwise they are rebuilt.
   */
  private endTextLoad(): "restored" | "rebuilt" | "none" {
    if (!this.textLoaded || !this.text) return "none";
    this.textLoaded = false;
    let documents = 0;
    for (let slot = 0; documents >= 0 && slot < this.highWater; slot++) {
      const n = this.text.documentsMatching(
        slot,
        this.slotIds[slot] === undefined ? undefined : this.payloads.get(slot),
      );
      documents = n < 0 ? -1 : documents + n;
    }
    // Equal counts also rule out documents at slots past the loaded ones.
    if (documents === this.text.documents) return "restored";
    this.text.clear();
    for (let slot = 0; slot < this.highWater; slot++)
      if (this.slotIds[slot] !== undefined) this.text.add(slot, this.payloads.get(slot));
    return "rebuilt";
  }

  /**
   * Ends loading: rebuilds the free list, then restores each graph from its bytes when they match
   * the loaded records, and otherwise builds it from the records. Returns what it had to rebuild.
   */
  endLoad(graphs: Map<string, Uint8Array>): {
    restored: number;
    rebuilt: string[];
    text: "restored" | "rebuilt" | "none";
    payloadIndexes: "restored" | "rebuilt" | "none";
  } {
    const table = this.loading?.table;
    this.loading = null;
    const text = this.endTextLoad();
    const payloadIndexes = this.endPayloadIndexLoad(table);
    this.indexFileStale = this.indexes.declarations.length > 0 && payloadIndexes !== "restored";
    this.suspendIndexes = false;
    this.free = [];
    for (let slot = this.highWater - 1; slot >= 0; slot--) if (this.slotIds[slot] === undefined) this.free.push(slot);
    const rebuilt: string[] = [];
    let restored = 0;
    for (const [vname, v] of this.vectors) {
      const bytes = graphs.get(vname);
      // Without the module a stored graph cannot be read: it is ignored (the next checkpoint writes
      // none), and a runtime that has the module rebuilds it from the records.
      if (bytes && this.env.hnsw) {
        try {
          // The index file's checksum, verified when it was read, covers the graph's bytes.
          const index = HnswIndex.fromBytes(this.env.hnsw, v.slab, bytes, true);
          let same = index.size === v.count;
          for (let slot = 0; same && slot < this.highWater; slot++) same = index.has(slot) === (v.live[slot] === 1);
          if (same) {
            v.index = index;
            restored++;
            continue;
          }
          index.dispose();
        } catch {
          /* a damaged graph is rebuilt below */
        }
        rebuilt.push(vname);
      }
      if (v.spec.type === "hnsw") this.buildIndex(v);
      else this.maybeBuildIndex(v);
    }
    return { restored, rebuilt, text, payloadIndexes };
  }

  /**
   * The graphs the next checkpoint would freeze: all of them when it writes this collection's index
   * file (takeCheckpoint: records changed, segments of an older format to rewrite, or a stale file).
   */
  changedGraphs(): HnswIndex[] {
    if (this.dirty.size === 0 && !this.hasOldSegments && !this.indexFileStale) return [];
    return [...this.vectors.values()].flatMap((v) => (v.index ? [v.index] : []));
  }

  /**
   * The graphs, frozen (copied out of WebAssembly memory, to be serialized later in slices), the
   * full-text postings, the payload indexes and the slot table they refer to, for an index file;
   * null when there are none of them.
   */
  frozenIndex(
    checkpointSeq: number,
    slotIds = this.slotIds.slice(0, this.highWater),
    room?: FreezeRoom,
  ): FrozenIndex | null {
    const graphs = new Map<string, HnswSnapshotSource>();
    for (const [vname, v] of this.vectors) if (v.index) graphs.set(vname, v.index.freeze(room?.get(v.index)));
    if (graphs.size === 0 && !this.text && this.indexes.declarations.length === 0) return null;
    const text = this.text?.toBytes() ?? new Map<string, Uint8Array>();
    const payload = this.indexes.toBytes();
    return { uid: this.uid, checkpointSeq, slotIds, graphs, text, analysisVersion: ANALYSIS_VERSION, payload };
  }

  sortedIds(): string[] {
    if (this.sortedIdsCache?.version !== this.version) {
      // Code-unit order (not locale order) so cursors are stable across runtimes.
      const ids = [...this.ids.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      this.sortedIdsCache = { version: this.version, ids };
    }
    return this.sortedIdsCache.ids;
  }

  vectorStats(): VectorStats[] {
    const sparse = [...this.sparse].map(([name, index]): VectorStats => {
      const bytes = index.memoryBytes();
      const per = index.count > 0 ? Math.round(bytes / index.count) : 0;
      return {
        name,
        count: index.count,
        index: "inverted",
        originals: "memory",
        bytesPerVector: { full: per, traversal: 0, links: 0, resident: per, onDisk: 0 },
        postings: index.postingCount,
      };
    });
    return [...this.dense(), ...sparse];
  }

  private dense(): VectorStats[] {
    return [...this.vectors].map(([name, v]) => {
      const full = v.slab.dim * 4;
      const onDisk = v.slab.rowsResident ? 0 : full;
      const originals = v.slab.rowsResident ? "memory" : "disk";
      const base = { name, count: v.count, originals, ...(v.originalsNote ? { note: v.originalsNote } : {}) } as const;
      if (!v.index)
        return {
          ...base,
          index: "flat",
          bytesPerVector: { full, traversal: full, links: 0, resident: full - onDisk, onDisk },
        };
      const st = v.index.stats();
      const traversal = st.bytesPerVector.traversal;
      // Codes are held beside the f32 vectors, or instead of them when those are on disk.
      const resident = full - onDisk + (st.quantization === "none" ? 0 : traversal);
      return {
        ...base,
        index: "hnsw",
        quantization: st.quantization,
        bytesPerVector: { full, traversal, links: Math.round(st.bytesPerVector.links), resident, onDisk },
      };
    });
  }

  /** Bytes of f32 vectors in scratch files (`originals: "disk"`). */
  diskBytes(): number {
    let bytes = 0;
    for (const v of this.vectors.values()) bytes += v.slab.rowFileBytes();
    return bytes;
  }

  /** Closes (and deletes) the scratch files; the state must not be used afterwards. */
  dispose(): void {
    // A running checkpoint still writes the records as they were when it started.
    for (const snapshot of this.snapshots) snapshot.preserveAll();
    for (const v of this.vectors.values()) v.slab.dispose();
  }

  memoryBytes(): number {
    let bytes = 0;
    for (const v of this.vectors.values()) bytes += v.slab.bytesUsed() + v.live.length;
    for (const index of this.sparse.values()) bytes += index.memoryBytes();
    return bytes;
  }

  /** Approximate bytes held by the full-text index. */
  textBytes(): number {
    return this.text?.memoryBytes() ?? 0;
  }
}
