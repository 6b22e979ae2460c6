/**
 * Where each id goes while a collection's segments load with an index file's slot table: back to
 * its slot in the table (the graphs, postings and payload indexes of the file refer to slots), or,
 * for an id the table does not know (one that a later segment deletes), to a slot above it.
 *
 * A compacted segment lists its records in slot order, so a cursor over the table places them
 * without hashing. The records of a delta segment come in any order; for those, the ids of the
 * segment being applied (`batch`) are looked up together in one pass over the table, which costs
 * an eighth of hashing all of a million-id table (measured: 25 against 200 ms). Past
 * MAX_TABLE_SCANS passes the whole table is hashed once instead.
 */

/** Passes over the table for out-of-order ids before the whole table is hashed instead. */
export const MAX_TABLE_SCANS = 4;

export class TableSlots {
  private cursor = 0;
  /** id -> its slot in the table, -1 when the table does not hold it, or its slot above the table. */
  private readonly hints = new Map<string, number>();
  /** Passes over the table: MAX_TABLE_SCANS lookups, then one more that hashes all of it. */
  scans = 0;
  private spill: number;
  /** The ids being applied (a segment's records or its deletions): looked up together on a miss. */
  batch: readonly string[] = [];

  /**
   * `table` is the index file's slot table. `loaded` (each call's argument) is the collection's own
   * slot table as loaded so far: an id is present exactly when it sits at its slot there.
   */
  constructor(readonly table: readonly (string | undefined)[]) {
    this.spill = table.length;
  }

  /** The slot of `id` if it is loaded, else undefined. */
  slotOf(id: string, loaded: readonly (string | undefined)[]): number | undefined {
    // -1 (the table lacks it) finds nothing either: loaded[-1] is undefined.
    const slot = this.atCursor(id, loaded) ? -1 : this.hint(id);
    return loaded[slot] === id ? slot : undefined;
  }

  /** The slot for `id`, which is not loaded: its table slot, or one above the table. */
  place(id: string, loaded: readonly (string | undefined)[]): number {
    if (this.atCursor(id, loaded)) return this.cursor++;
    const slot = this.hint(id);
    if (slot >= 0) return slot;
    this.hints.set(id, this.spill);
    return this.spill++;
  }

  /**
   * Whether `id` is the table's next slot not yet taken. Slots taken out of order are skipped, so
   * that the cursor does not stall on one and send every later in-order id through `hint`.
   */
  private atCursor(id: string, loaded: readonly (string | undefined)[]): boolean {
    const table = this.table;
    // A free slot of the table is undefined in both tables; only a table id takes its slot.
    while (this.cursor < table.length && loaded[this.cursor] === table[this.cursor]) this.cursor++;
    return table[this.cursor] === id;
  }

  /** The table's (or above-table) slot of `id`, -1 if neither holds it. */
  private hint(id: string): number {
    if (!this.hints.has(id) && this.scans <= MAX_TABLE_SCANS) this.resolve(id);
    return this.hints.get(id) ?? -1;
  }

  /** Looks up `id` and the rest of the batch in one pass over the table; past the limit, hashes it all. */
  private resolve(id: string): void {
    const table = this.table;
    // Ids above the table are never in it, so their entries stay; table ids get their slots.
    if (this.scans++ === MAX_TABLE_SCANS) {
      slotsById(table, this.hints);
      return;
    }
    const wanted = new Set<string>([id]);
    for (const b of this.batch) if (!this.hints.has(b)) wanted.add(b);
    for (let slot = 0; slot < table.length && wanted.size > 0; slot++) {
      const tid = table[slot];
      if (tid !== undefined && wanted.delete(tid)) this.hints.set(tid, slot);
    }
    for (const missing of wanted) this.hints.set(missing, -1);
  }
}

/** The slot of every id in a slot table, added to `into`. */
export function slotsById(
  slotIds: readonly (string | undefined)[],
  into = new Map<string, number>(),
): Map<string, number> {
  slotIds.forEach((id, slot) => {
    if (id !== undefined) into.set(id, slot);
  });
  return into;
}
