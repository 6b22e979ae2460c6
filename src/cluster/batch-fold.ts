/**
 * Batches folded into a collection in runs: the operations of consecutive batches merge into one
 * delete and one upsert with the same end state (the last operation on an id wins: an upsert replaces a
 * record whole, a delete removes it), so the graph inserts of a run of PARALLEL_BUILD_MIN records or
 * more are built by every search thread at once (database/graph-inserts.ts) instead of one at a time.
 * The compactor folds log ranges this way; a replica applies each batch as one such run.
 */
import type { CollectionApi, RecordInput } from "../api/types.js";
import type { BatchOp } from "./batch.js";

export class FoldRun {
  /** Ids whose last operation was a delete, and records whose last was an upsert: disjoint. */
  private readonly deletes = new Set<string>();
  private readonly upserts = new Map<string, RecordInput>();

  /** Records upserted plus ids deleted so far. */
  get size(): number {
    return this.deletes.size + this.upserts.size;
  }

  add(ops: BatchOp[]): void {
    for (const op of ops)
      if (op.op === "upsert")
        for (const r of op.records) {
          this.deletes.delete(r.id);
          this.upserts.delete(r.id); // re-inserted: the map's order is the order of last upserts
          this.upserts.set(r.id, r);
        }
      else
        for (const id of op.ids) {
          this.upserts.delete(id);
          this.deletes.add(id);
        }
  }

  /** Applies the run (deletes first: the two sets are disjoint, so the order only saves work) and empties it. */
  async applyTo(collection: CollectionApi): Promise<void> {
    const deletes = [...this.deletes];
    const upserts = [...this.upserts.values()];
    this.deletes.clear();
    this.upserts.clear();
    if (deletes.length > 0) await collection.delete(deletes);
    if (upserts.length > 0) await collection.upsert(upserts);
  }
}
