/**
 * Memory reservation for a write group, before anything is logged: each upsert's new ids and
 * vectors are added to the group's running totals and every affected collection grows to hold them
 * all. A request that does not fit is refused (RESOURCE_EXHAUSTED) while still unlogged, so a logged
 * write never fails to apply for want of memory, and replay never meets one that cannot. So is one
 * that would take a collection past its most records (Limits.maxRecordsPerCollection), and one that
 * adds records when the runtime says it has no room for them (AdmitRecords).
 */
import { MAX_RECORDS_PER_COLLECTION } from "../api/limits.js";
import { QuiverError } from "../core/errors/errors.js";
import type { CollectionState } from "./collection-state.js";
import type { Op } from "./ops.js";

/**
 * Asked with the number of records a request adds before it is logged; throws (RESOURCE_EXHAUSTED) to
 * refuse it. The Node entry's open() refuses while the JavaScript heap is nearly full (node/heap-usage.ts).
 */
export type AdmitRecords = (count: number) => void;

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
    private readonly admitRecords?: AdmitRecords,
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
    /** Records this request adds (not the group's earlier ones), for admitRecords. */
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
    if (added > 0) this.admitRecords?.(added);
    for (const [uid, p] of next) this.collections.get(uid)!.reserve(p.newIds.size, p.vectors);
    for (const [uid, p] of next) this.planned.set(uid, p);
  }
}
