// How a database runs its queries' graph searches in search threads (open(path, { threads })): the
// ParallelSearch of core/index/hnsw/parallel.ts over the threads an adapter gives, and what it must do at
// the end of every exclusive section: ready the lanes of every graph for the threads, and let the threads
// forget the memories of collections that are gone.

import type { SearchThreads } from "../core/index/hnsw/parallel.js";
import { ParallelSearch } from "../core/index/hnsw/parallel.js";
import type { CollectionState } from "./collection-state.js";

/**
 * The database's ParallelSearch over `threads`, its lanes readied once before any query; null (and the
 * threads stopped) when this runtime has no HNSW module: every vector query is then an exact scan on
 * the calling thread, as without threads.
 */
export async function parallelReads(
  threads: SearchThreads,
  hnsw: WebAssembly.Module | null,
  collections: Map<string, CollectionState>,
  warn: (message: string) => void,
): Promise<ParallelSearch | null> {
  if (!hnsw) {
    await threads.close();
    return null;
  }
  const parallel = new ParallelSearch(threads, hnsw, () => readyLanes(collections, threads, warn));
  await parallel.exclusive(() => undefined);
  return parallel;
}

/**
 * Every graph's lanes ready for the threads (sized, offsets current, pending inserts settled). A lane
 * that cannot get its memory leaves that graph's queries failing with INTERNAL until the next write
 * readies it, said once through `warn`; it never fails the write that ends the section.
 */
function readyLanes(
  collections: Map<string, CollectionState>,
  threads: SearchThreads,
  warn: (m: string) => void,
): void {
  const live = new Set<WebAssembly.Memory>();
  for (const state of collections.values()) {
    for (const [name, v] of state.vectors) {
      live.add(v.slab.wasmMemory);
      if (!v.index || v.index.lanesReady(threads.lanes)) continue;
      try {
        v.index.prepareLanes(threads.lanes);
      } catch (e) {
        warn(
          `${state.name}.${name}: no memory for the search threads' lanes (${e instanceof Error ? e.message : String(e)})`,
        );
      }
    }
  }
  threads.retain(live);
}
