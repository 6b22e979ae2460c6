/**
 * Memory reservation for a write group, before anything is logged: each upsert's new ids and
 * vectors are added to the group's running totals and every affected collection grows to hold them
 * all. A request that does not fit is refused (RESOURCE_EXHAUSTED) while still unlogged, so a logged
 * write never fails to apply for want of memory, and replay never meets one that cannot. So is one
 * that would take a collection past its most records (Limits.maxRecordsPerCollection), and one that
 * adds records while the JavaScript heap is nearly full (HEAP_RESERVE_SHARE).
 */
import { MAX_RECORDS_PER_COLLECTION } from "../api/limits.js";
import { QuiverError } from "../core/errors/errors.js";
import type { CollectionState } from "./collection-state.js";
import type { Op } from "./ops.js";

/** The JavaScript heap in use and its limit, in bytes (null when the runtime cannot tell). */
export type HeapUsage = () => { used: number; limit: number } | null;

/**
 * Writes that add records are refused while the heap has less room left than this share of its limit,
 * or HEAP_RESERVE_MIN_BYTES if more. Ids, payloads and their indexes live on the heap, and V8 ends the
 * process when it cannot grow it (the 10M-record bench run died at 97.5% of its limit). The reserve
 * is what a process that goes on still needs: V8's limit counts its young generation (48 MB by
 * default), which long-lived data cannot use; a checkpoint's transient buffers, queries and garbage
 * need the rest (a process with a 160 MB old generation died at 85% of it with a 64 MB reserve, in
 * test/database/heap-limit-process.test.ts). Replacements and deletes are still accepted.
 */
export const HEAP_RESERVE_SHARE = 0.15;
export const HEAP_RESERVE_MIN_BYTES = 128 * 2 ** 20;

interface Planned {
  /** Ids the group adds that the collection does not hold yet. */
  newIds: Set<string>;
  /** Inserts per named vector. */
  vectors: Map<string, number>;
}

export class GroupReservation {
  private planned = new Map<string, Planned>();
  /** Most records per collection: the limit asked for, capped at MAX_RECORDS_PER_COLLECTION. */
  private readonly maxRecords: number;

  constructor(
    private readonly collections: Map<string, CollectionState>,
    maxRecords = MAX_RECORDS_PER_COLLECTION,
    private readonly heapUsage?: HeapUsage,
  ) {
    this.maxRecords = Math.min(maxRecords, MAX_RECORDS_PER_COLLECTION);
  }

  /** Starts a new group: forgets the totals of the previous one. */
  reset(): void {
    this.planned = new Map();
  }

  /**
   * Adds one request's operations to the group and reserves room for the whole group so far. On
   * failure the request's share is forgotten (the caller refuses just that request) and the error,
   * RESOURCE_EXHAUSTED naming the collection and vector, is thrown.
   */
  add(ops: Op[]): void {
    const next = new Map<string, Planned>();
    /** Records this request adds (not the group's earlier ones): only such a request meets the heap check. */
    let added = 0;
    for (const op of ops) {
      if (op.type !== "upsert") continue;
      const state = this.collections.get(op.uid);
      if (!state) continue;
      const before = next.get(op.uid) ?? this.planned.get(op.uid);
      const p: Planned = next.get(op.uid) ?? {
        newIds: new Set(before?.newIds),
        vectors: new Map(before?.vectors),
      };
      for (const r of op.records) {
        if (!state.ids.has(r.id) && !p.newIds.has(r.id)) {
          p.newIds.add(r.id);
          added++;
        }
        for (const vname of r.vectors.keys()) p.vectors.set(vname, (p.vectors.get(vname) ?? 0) + 1);
      }
      next.set(op.uid, p);
    }
    const max = this.maxRecords;
    for (const [uid, p] of next) {
      const state = this.collections.get(uid)!;
      if (state.size + p.newIds.size > max) {
        throw new QuiverError(
          "RESOURCE_EXHAUSTED",
          `collection "${state.name}" holds ${state.size} records; this write would take it to ${state.size + p.newIds.size} (with the writes grouped with it), past its most, ${max} (limits.maxRecordsPerCollection)`,
        );
      }
    }
    const heap = added > 0 ? this.heapUsage?.() : null;
    if (
      heap &&
      heap.limit > 0 &&
      heap.limit - heap.used < Math.max(HEAP_RESERVE_SHARE * heap.limit, HEAP_RESERVE_MIN_BYTES)
    ) {
      const mb = (bytes: number) => Math.round(bytes / 2 ** 20);
      throw new QuiverError(
        "RESOURCE_EXHAUSTED",
        `the JavaScript heap holds ${mb(heap.used)} MB of its ${mb(heap.limit)} MB limit, too close to it: writes that add records are refused until it has room; replacements and deletes go on. Give the process a larger heap (node --max-old-space-size=MB) or split the records over several processes (docs/vectors.md)`,
      );
    }
    for (const [uid, p] of next) this.collections.get(uid)!.reserve(p.newIds.size, p.vectors);
    for (const [uid, p] of next) this.planned.set(uid, p);
  }
}
