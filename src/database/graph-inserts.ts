// A write group's graph inserts, held back while its operations are applied and then made in one
// batch per graph, so that a bulk upsert's graph is built by every search thread at once
// (HnswIndex.insertMany, core/index/hnsw/parallel-build.ts). Only the live write path defers, and
// only with two or more threads: replay, followers and a database without threads insert as they apply.

import type { HnswIndex } from "../core/index/hnsw/hnsw.js";
import type { SearchThreads } from "../core/index/hnsw/parallel.js";

/** What a deferred insert needs of a named vector (collection-state.ts's NamedVectorState has it). */
interface GraphOwner {
  /** The vector's graph now: an insert deferred into a graph since replaced is dropped. */
  index: HnswIndex | null;
  /** live[slot] = 1 when the slot holds a live vector. */
  live: Uint8Array;
}

export class DeferredInserts {
  private readonly byIndex = new Map<HnswIndex, { v: GraphOwner; slots: number[] }>();

  /** Slot of `v` (its vector stored, live) to insert into v's graph at flush(). */
  add(v: GraphOwner, index: HnswIndex, slot: number): void {
    const entry = this.byIndex.get(index);
    if (entry) entry.slots.push(slot);
    else this.byIndex.set(index, { v, slots: [slot] });
  }

  /**
   * Inserts what was deferred. A slot that a later operation of the group deleted is skipped; one
   * that it replaced, or that a new record took, is inserted once with the vector it holds now.
   * Rejects with the first failure (a thread's is a QuiverError); the caller then treats the group
   * as logged but not applied.
   */
  async flush(threads: SearchThreads): Promise<void> {
    const batches = [...this.byIndex];
    this.byIndex.clear();
    for (const [index, { v, slots }] of batches) {
      if (v.index !== index) continue;
      await index.insertMany(
        slots.filter((slot) => v.live[slot] === 1),
        threads,
      );
    }
  }
}
