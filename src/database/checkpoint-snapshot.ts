/**
 * A checkpoint's view of the records at one WAL position, taken without copying them: the snapshot
 * lists which ids it holds, and a record is read from the live state only when the checkpoint writes
 * it. Copy-on-write keeps that consistent while writes go on: before the state changes or removes
 * an id that the snapshot still has to write, it calls `preserve`, which keeps the record as it was.
 *
 * Why this and not a copy: taking a copy of 200k records (a Float32Array and a JSON text each) held
 * the writer for about a second; listing the ids costs one array, and later writes pay only for the
 * few records they change before the checkpoint is written. A columnar segment reads the records in
 * several passes (payloads, then each named vector's column), so a record is kept until the
 * snapshot is released, not only until its first pass. The graphs are frozen by one memcpy per
 * region instead (HnswIndex.freeze): the WebAssembly inserts rewrite neighbours' lists that no hook
 * sees, so copy-on-write would have to live in the module.
 */
import type { StoredRecord } from "../storage/record-codec.js";

/** What a snapshot reads from: the live state of its collection. */
export interface RecordSource {
  slotOf(id: string): number | undefined;
  recordAt(slot: number): StoredRecord;
}

export class RecordSnapshot {
  /** Records of ids changed or removed since the snapshot, kept as they were at it. */
  private readonly preserved = new Map<string, StoredRecord>();
  /** Position of each id in `entries`, for a delta (a full snapshot's entries are indexed by slot). */
  private readonly position: Map<string, number> | null;

  private constructor(
    private readonly source: RecordSource,
    /** The ids to write: by slot for a full snapshot (undefined = free slot), in any order for a delta. */
    private readonly entries: readonly (string | undefined)[],
    private readonly bySlot: boolean,
    readonly deleted: string[],
    /** How many records it holds. */
    readonly count: number,
  ) {
    this.position = bySlot ? null : new Map(entries.map((id, i) => [id!, i]));
  }

  /** Every live record: `slotIds` is a copy of the state's slot table, taken at the snapshot. */
  static full(source: RecordSource, slotIds: (string | undefined)[], count: number): RecordSnapshot {
    return new RecordSnapshot(source, slotIds, true, [], count);
  }

  /** The ids upserted (`present`) and deleted since the last checkpoint. */
  static delta(source: RecordSource, present: string[], deleted: string[]): RecordSnapshot {
    return new RecordSnapshot(source, present, false, deleted, present.length);
  }

  /** The ids the snapshot holds as records, in the order `records` yields them. */
  ids(): string[] {
    return this.entries.filter((id): id is string => id !== undefined);
  }

  /** Called before the state changes or removes `id`: keeps its record if it is still to be written. */
  preserve(id: string): void {
    if (this.preserved.has(id)) return;
    const slot = this.source.slotOf(id);
    if (slot === undefined) return;
    const at = this.bySlot ? slot : this.position!.get(id);
    // A full snapshot's slot may have been reused by another id since: then `id` is not the one it holds.
    if (at === undefined || this.entries[at] !== id) return;
    this.preserved.set(id, this.source.recordAt(slot));
  }

  /** Keeps every record still to be written (the collection is about to go away). */
  preserveAll(): void {
    for (const id of this.entries) if (id !== undefined) this.preserve(id);
  }

  /** The records, read one by one as the checkpoint consumes them; each call is a new pass over the same records. */
  *records(): Generator<StoredRecord> {
    for (let at = 0; at < this.entries.length; at++) {
      const id = this.entries[at];
      if (id === undefined) continue;
      // Unchanged since the snapshot unless preserved (a change would have preserved it first).
      yield this.preserved.get(id) ?? this.source.recordAt(this.bySlot ? at : this.source.slotOf(id)!);
    }
  }
}
