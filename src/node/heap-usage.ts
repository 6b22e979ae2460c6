/**
 * Refuses writes that add records while the JavaScript heap is nearly full (the database's
 * `admitRecords` hook, set by the Node entry's open()): ids, payloads and their indexes live on the
 * heap, and V8 (Node, Deno) ends the process when it cannot grow it; the 10M-record bench run died so
 * at 97.5% of its limit. Bun's JavaScriptCore has no such limit, and its figures under these names
 * measure something else, so under Bun nothing is refused.
 */
import { getHeapStatistics } from "node:v8";
import { QuiverError } from "../core/errors/errors.js";

/**
 * Room a process needs beyond its records: this share of the heap's limit, or HEAP_RESERVE_MIN_BYTES
 * if more. V8's limit counts its young generation (48 MB by default), which long-lived data cannot
 * use; a checkpoint's transient buffers, queries and garbage need the rest (a process with a 160 MB
 * old generation died at 85% of it with a 64 MB reserve: test/database/heap-limit-process.test.ts).
 */
export const HEAP_RESERVE_SHARE = 0.15;
export const HEAP_RESERVE_MIN_BYTES = 128 * 2 ** 20;

export interface HeapUsage {
  used: number;
  limit: number;
}

/** The heap in use and its limit in bytes; null under Bun, or when the runtime reports no limit. */
export function nodeHeapUsage(): HeapUsage | null {
  if (process.versions.bun !== undefined) return null;
  const h = getHeapStatistics();
  return h.heap_size_limit > 0 ? { used: h.used_heap_size, limit: h.heap_size_limit } : null;
}

/**
 * An admitRecords hook over `usage`: throws RESOURCE_EXHAUSTED, naming the heap's use and limit,
 * while less than the reserve is left. Replacements and deletes add no records and are not asked.
 * @example open(path, { admitRecords: heapAdmission() })
 */
export function heapAdmission(usage: () => HeapUsage | null = nodeHeapUsage): (count: number) => void {
  return () => {
    const heap = usage();
    if (!heap || heap.limit - heap.used >= Math.max(HEAP_RESERVE_SHARE * heap.limit, HEAP_RESERVE_MIN_BYTES)) return;
    const mb = (bytes: number) => Math.round(bytes / 2 ** 20);
    throw new QuiverError(
      "RESOURCE_EXHAUSTED",
      `the JavaScript heap holds ${mb(heap.used)} MB of its ${mb(heap.limit)} MB limit, too close to it: writes that add records are refused until it has room; replacements and deletes go on. Give the process a larger heap (node --max-old-space-size=MB) or split the records over several processes (docs/vectors.md)`,
    );
  };
}
