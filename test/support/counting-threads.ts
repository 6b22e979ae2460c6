/**
 * NodeSearchThreads that count what the helper threads of a parallel build did (the slots each link
 * call linked, and the queue length it was handed), so a test can tell a build was really parallel.
 */
import { NodeSearchThreads } from "../../src/index.js";
import type { SearchThreads } from "../../src/core/index/hnsw/parallel.js";

export function countingThreads(size: number): { threads: SearchThreads; linked: number[]; queued: number[] } {
  const inner = new NodeSearchThreads(size);
  const linked: number[] = [];
  const queued: number[] = [];
  const threads: SearchThreads = {
    size,
    lanes: inner.lanes,
    searchLane: (...args) => inner.searchLane(...args),
    async link(thread, memory, module, call) {
      queued.push(call.queue[1]);
      const n = await inner.link(thread, memory, module, call);
      linked.push(n);
      return n;
    },
    retain: (live) => inner.retain(live),
    close: () => inner.close(),
  };
  return { threads, linked, queued };
}
