/**
 * The JavaScript heap's use and limit, from `node:v8`, for the database's refusal of writes that add
 * records when the heap is nearly full (src/database/reserve.ts, HEAP_RESERVE_SHARE). V8 (Node, Deno) ends
 * the process when its heap reaches the limit; Bun's JavaScriptCore has no such limit, and its figures
 * under these names measure something else, so there the check is off.
 */
import { getHeapStatistics } from "node:v8";
import type { HeapUsage } from "../database/reserve.js";

export const nodeHeapUsage: HeapUsage = () => {
  if (process.versions.bun !== undefined) return null;
  const h = getHeapStatistics();
  return h.heap_size_limit > 0 ? { used: h.used_heap_size, limit: h.heap_size_limit } : null;
};
