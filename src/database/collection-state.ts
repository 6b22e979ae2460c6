/** What a collection's state is built with: the distance kernels and the analyzers' language resources. */
export interface StateEnv {
  kernels: KernelFactory;
  text: TextPlugins;
}

/**
 * The in-memory state of one collection: ids and slots, vector slabs, payloads, payload
 * indexes and the full-text index. The full-text index is derived from the payloads (which the
 * WAL and segments already hold), so it is rebuilt as records are applied, at open as at write. It applies already-validated, already-logged operations and answers reads; it never
 * touches storage. It also tracks which ids changed since the last checkpoint, so a checkpoint
 * can write just that delta as a segment.
 */
import { QuiverError } from "../core/errors/errors.js";
import type { KernelFactory } from "../core/kernels/kernels.js";
import type { TextPlugins } from "../core/analysis/analyzer.js";
import { DEFAULT_BM25, TextIndex } from "../core/index/bm25/text-index.js";
import { VectorSlab } from "../core/vectors/slab.js";
import { PayloadIndexSet } from "../core/payload/indexes.js";
import type { StoredRecord } from "./ops.js";
import type { CollectionSchema } from "../core/schema/schema.js";
import type { SegmentContent } from "../storage/segment.js";

export interface NamedVectorState {
  slab: VectorSlab;
  /** live[slot] = 1 when the slot holds a live record that has this vector. */
  live: Uint8Array;
}

export class CollectionState {
  readonly ids = new Map<string, number>();
  slotIds: (string | undefined)[] = [];
  payloads: (Record<string, unknown> | undefined)[] = [];
  readonly vectors = new Map<string, NamedVectorState>();
  readonly indexes: PayloadIndexSet;
  /** BM25 index of the schema's text fields, or null when it declares none. */
  readonly text: TextIndex | null;
  /** Slots in [0, highWater) have been used at least once; freed ones wait in `free`. */
  highWater = 0;
  private free: number[] = [];
  /** id -> present, for every id changed since the last checkpoint. */
  dirty = new Map<string, boolean>();
  /** Bumped on every change; lets readers cache derived data such as the sorted id list. */
  version = 0;
  private sortedIdsCache: { version: number; ids: string[] } | null = null;

  constructor(
    readonly name: string,
    readonly uid: string,
    readonly schema: CollectionSchema,
    env: StateEnv,
  ) {
    for (const [vname, spec] of Object.entries(schema.vectors)) {
      this.vectors.set(vname, { slab: new VectorSlab(env.kernels, spec.dim, spec.metric), live: new Uint8Array(0) });
    }
    const textFields = schema.text ?? {};
    this.text = Object.keys(textFields).length === 0 ? null : new TextIndex(textFields, { ...DEFAULT_BM25, ...schema.bm25 }, env.text);
    this.indexes = new PayloadIndexSet(
      Object.entries(schema.indexes ?? {}).map(([field, type]) => ({ field, type })),
    );
  }

  get size(): number {
    return this.ids.size;
  }

  private allocateSlot(): number {
    const reused = this.free.pop();
    if (reused !== undefined) return reused;
    const slot = this.highWater++;
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

  /** Inserts or fully replaces each record (a vector or payload field not given is removed). */
  applyUpsert(records: StoredRecord[], trackDirty = true): void {
    for (const r of records) {
      let slot = this.ids.get(r.id);
      if (slot === undefined) {
        slot = this.allocateSlot();
        this.ids.set(r.id, slot);
        this.slotIds[slot] = r.id;
      } else {
        const old = this.payloads[slot];
        if (old) this.indexes.remove(slot, old);
        this.text?.remove(slot);
      }
      const payload = JSON.parse(r.payloadJson) as Record<string, unknown>;
      this.payloads[slot] = payload;
      this.indexes.add(slot, payload);
      this.text?.add(slot, payload);
      for (const [vname, v] of this.vectors) {
        const vec = r.vectors.get(vname);
        if (vec) {
          v.slab.set(slot, vec);
          v.live[slot] = 1;
        } else {
          v.live[slot] = 0;
        }
      }
      if (trackDirty) this.dirty.set(r.id, true);
    }
    this.version++;
  }

  /** Deletes the ids that exist; returns how many did. */
  applyDelete(ids: string[], trackDirty = true): number {
    let deleted = 0;
    for (const id of ids) {
      const slot = this.ids.get(id);
      if (slot === undefined) continue;
      const old = this.payloads[slot];
      if (old) this.indexes.remove(slot, old);
      this.text?.remove(slot);
      this.ids.delete(id);
      this.slotIds[slot] = undefined;
      this.payloads[slot] = undefined;
      for (const v of this.vectors.values()) v.live[slot] = 0;
      this.free.push(slot);
      if (trackDirty) this.dirty.set(id, false);
      deleted++;
    }
    this.version++;
    return deleted;
  }

  /** Loads a segment (at open): its deletions, then its records. */
  applySegment(seg: SegmentContent): void {
    this.applyDelete(seg.deleted, false);
    this.applyUpsert(seg.records, false);
  }

  recordAt(slot: number): StoredRecord {
    const id = this.slotIds[slot];
    if (id === undefined) throw new QuiverError("INTERNAL", `slot ${slot} is empty`);
    const vectors = new Map<string, Float32Array>();
    for (const [vname, v] of this.vectors) if (v.live[slot]) vectors.set(vname, v.slab.get(slot));
    return { id, payloadJson: JSON.stringify(this.payloads[slot] ?? {}), vectors };
  }

  /**
   * Takes the changes since the last checkpoint as a segment and starts a new delta. Called
   * synchronously at the moment the WAL is rotated, so the segment matches the rotated WAL exactly.
   */
  takeDelta(): SegmentContent {
    const deleted: string[] = [];
    const records: StoredRecord[] = [];
    for (const [id, present] of this.dirty) {
      if (present) records.push(this.recordAt(this.ids.get(id)!));
      else deleted.push(id);
    }
    this.dirty = new Map();
    return { uid: this.uid, deleted, records };
  }

  /** Puts back a delta whose checkpoint failed, under newer changes to the same ids. */
  restoreDelta(seg: SegmentContent): void {
    for (const id of seg.deleted) if (!this.dirty.has(id)) this.dirty.set(id, false);
    for (const r of seg.records) if (!this.dirty.has(r.id)) this.dirty.set(r.id, true);
  }

  /** Every live record, for a compacted segment that replaces all earlier ones. */
  takeFull(): SegmentContent {
    const records: StoredRecord[] = [];
    for (const slot of this.ids.values()) records.push(this.recordAt(slot));
    this.dirty = new Map();
    return { uid: this.uid, deleted: [], records };
  }

  sortedIds(): string[] {
    if (this.sortedIdsCache?.version !== this.version) {
      // Code-unit order (not locale order) so cursors are stable across runtimes.
      const ids = [...this.ids.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      this.sortedIdsCache = { version: this.version, ids };
    }
    return this.sortedIdsCache.ids;
  }

  memoryBytes(): number {
    let bytes = 0;
    for (const v of this.vectors.values()) bytes += v.slab.bytesUsed() + v.live.length;
    return bytes;
  }

  /** Approximate bytes held by the full-text index. */
  textBytes(): number {
    return this.text?.memoryBytes() ?? 0;
  }
}
