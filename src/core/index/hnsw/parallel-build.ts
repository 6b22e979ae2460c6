// Parallel graph build: many inserts into one HNSW graph linked by several threads at once, hnswlib-style.
// The writer stages every slot serially (level, pool block, codes: the module's stage(), which allocates
// nothing that reserve() did not), then the slots are linked concurrently by the search threads and the
// writer's own thread, each claiming the next slot of a shared queue and linking it with its own scratch
// (a search lane) under per-slot list locks (the module's link()). Readers are held off meanwhile (the
// write path's exclusive section), and nothing in the slab's memory grows or moves during the phase.
//
// The queue is an Int32Array over a SharedArrayBuffer, outside the slab's memory, so a build asks the
// memory for nothing after the write was logged:
//   [0] next   the next entry to claim (Atomics.add)
//   [1] count  entries in the queue
//   [2 + 2i]   entry i's slot,  [3 + 2i] its level (stage()'s answer)

import type { HnswExports } from "../../kernels/boundary.generated.js";

/**
 * Graph inserts below this many in one write group are made on the writer's thread alone, as without
 * threads (the same graph, insert by insert): small writes keep one deterministic path, and handing
 * a group to the threads costs a message each way. 1000 is the batch of `quiver import` and of most
 * bulk loaders (about 0.1 to 0.5 s of inserts at efConstruction 200), where the build dominates.
 */
export const PARALLEL_BUILD_MIN = 1000;

/** What a thread runs of a parallel build: link() on queued slots, with lane `lane` (0: the header's scratch). */
export interface LinkCall {
  hdr: number;
  lane: number;
  queue: Int32Array;
}

/** A queue of `capacity` entries to fill with push() (see the header for its layout). */
export function newLinkQueue(capacity: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(4 * (2 + 2 * capacity)));
}

export function pushLink(queue: Int32Array, slot: number, level: number): void {
  const i = queue[1];
  queue[2 + 2 * i] = slot;
  queue[3 + 2 * i] = level;
  queue[1] = i + 1;
}

/**
 * Links queued slots until none is left to claim; returns how many this thread linked. The one loop
 * every participant runs: the writer's thread and each search thread (src/node/search-thread.ts).
 */
export function linkClaimed(x: HnswExports, call: LinkCall): number {
  const q = call.queue;
  const count = Atomics.load(q, 1);
  let linked = 0;
  for (;;) {
    const i = Atomics.add(q, 0, 1);
    if (i >= count) return linked;
    x.link(call.hdr, call.lane, q[2 + 2 * i], q[3 + 2 * i]);
    linked++;
  }
}
