/**
 * Memory for the graphs a checkpoint is about to freeze, allocated and faulted in ahead of it, a
 * slice at a time between writes. The freeze itself runs on the writer, which waits for it: at
 * 1,000,000 vectors it copies about 270 MB, and into new memory that took 240 to 650 ms, nearly all
 * of it the kernel handing over fresh pages (into memory already touched the copy takes 24 ms).
 * Prepared when a checkpoint is asked for (`Database.checkpoint`) or, for automatic ones, when the
 * WAL is three quarters of the way to its limit (database.ts).
 */
import type { HnswIndex } from "../core/index/hnsw/hnsw.js";

/** Memory per graph, for HnswIndex.freeze. */
export type FreezeRoom = WeakMap<HnswIndex, Uint8Array>;

/** Graphs whose copy is smaller than this are copied into new memory: it takes a few milliseconds. */
export const FREEZE_ROOM_MIN_BYTES = 8 << 20;

/** Bytes faulted in per slice, between yields to the event loop (a few milliseconds each). */
const SLICE_BYTES = 4 << 20;

/** What a page fault brings in (4 KiB on every platform Quiver runs on; touching more often is harmless). */
const PAGE_BYTES = 4096;

/**
 * Room for each of `graphs` (those of the collections a checkpoint would write: CollectionState.
 * changedGraphs), with 1/16 + 4 MiB to spare for the nodes added before the checkpoint starts; a
 * graph that outgrows its room is copied into new memory as before.
 */
export async function prepareFreezeRoom(
  graphs: Iterable<HnswIndex>,
  minBytes = FREEZE_ROOM_MIN_BYTES,
): Promise<FreezeRoom> {
  const room: FreezeRoom = new WeakMap();
  for (const index of graphs) {
    const bytes = index.freezeBytes();
    if (bytes < minBytes) continue;
    const memory = new Uint8Array(bytes + (bytes >>> 4) + (4 << 20));
    for (let page = 0; page < memory.length; page += PAGE_BYTES) {
      memory[page] = 0;
      // A macrotask, so that queued writes run between slices.
      if (page % SLICE_BYTES === 0) await new Promise((resolve) => setTimeout(resolve, 0));
    }
    room.set(index, memory);
  }
  return room;
}
