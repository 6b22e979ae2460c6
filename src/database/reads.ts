/**
 * Read paths over a collection's in-memory state: filtered slot selection, records as returned,
 * count and cursor scroll. They change nothing a caller can see (vector search is in search.ts).
 */
import type { FilterNode } from "../core/query/filter/ast.js";
import { matches } from "../core/query/filter/evaluate.js";
import { candidateSlots } from "../core/query/plan/candidates.js";
import { compileFilter, type PayloadPredicate } from "../core/query/filter/compile.js";
import { DEADLINE_STRIDE, type Deadline } from "../core/util/deadline.js";
import type { MatchSet } from "../core/query/plan/vector-plan.js";
import type { CollectionState } from "./collection-state.js";
import type { RecordOutput } from "../api/query.js";
import { sparseToJson } from "../core/index/sparse/sparse-vector.js";

export interface OutputOptions {
  withPayload: boolean;
  withVectors: boolean;
}

export function outputRecord(state: CollectionState, slot: number, opts: OutputOptions): RecordOutput {
  const out: RecordOutput = { id: state.slotIds[slot]! };
  if (opts.withPayload) out.payload = structuredClone(state.payloads.get(slot) ?? {});
  if (opts.withVectors) {
    const vectors: NonNullable<RecordOutput["vectors"]> = {};
    for (const [name, v] of state.vectors) if (v.live[slot]) vectors[name] = Array.from(v.slab.get(slot));
    for (const [name, index] of state.sparse) {
      const v = index.get(slot);
      if (v) vectors[name] = sparseToJson(v);
    }
    out.vectors = vectors;
  }
  return out;
}

/**
 * Calls `visit` with each live record's slot that matches the filter: the index's candidates when
 * the payload indexes narrow it, every slot otherwise; each candidate's payload checked once.
 */
function forEachMatch(
  state: CollectionState,
  filter: FilterNode,
  deadline: Deadline | undefined,
  visit: (slot: number) => void,
  predicate: PayloadPredicate = compileFilter(filter),
): { usedIndexes: boolean; payloadsChecked: number } {
  let checked = 0;
  const payloads = state.payloads;
  const test = (slot: number): void => {
    if (state.slotIds[slot] === undefined) return;
    if (++checked % DEADLINE_STRIDE === 0) deadline?.check();
    if (predicate(payloads.get(slot))) visit(slot);
  };
  // One indexed range (the commonest selective filter) is walked in the index, building no set; a
  // slot reached once per value in range (an array can hold several) is tested once.
  if (filter.kind === "range") {
    const seen = new Uint8Array(Math.ceil(state.highWater / 8));
    const once = (slot: number): void => {
      const bit = 1 << (slot & 7);
      if ((seen[slot >> 3] & bit) !== 0) return;
      seen[slot >> 3] |= bit;
      test(slot);
    };
    if (state.indexes.forEachInRange(filter.path.join("."), filter, once)) {
      return { usedIndexes: true, payloadsChecked: checked };
    }
  }
  const fromIndex = candidateSlots(filter, state.indexes);
  if (fromIndex) for (const slot of fromIndex) test(slot);
  else for (let slot = 0; slot < state.highWater; slot++) test(slot);
  return { usedIndexes: fromIndex !== null, payloadsChecked: checked };
}

/** Slots of live records matching the filter, in ascending slot order. */
export function matchingSlots(
  state: CollectionState,
  filter: FilterNode,
  deadline?: Deadline,
): { slots: Uint32Array; usedIndexes: boolean; payloadsChecked: number } {
  const out: number[] = [];
  const info = forEachMatch(state, filter, deadline, (slot) => out.push(slot));
  const slots = Uint32Array.from(out);
  if (info.usedIndexes) slots.sort();
  return { slots, ...info };
}

/**
 * The live records matching the filter as a match set (bitmap and count): no list, no sort. `predicate`
 * is the filter compiled, when the caller already has it.
 */
export function matchSet(
  state: CollectionState,
  filter: FilterNode,
  deadline?: Deadline,
  predicate?: PayloadPredicate,
): MatchSet & { usedIndexes: boolean; payloadsChecked: number } {
  const bits = new Uint8Array(Math.ceil(state.highWater / 8));
  let count = 0;
  const info = forEachMatch(
    state,
    filter,
    deadline,
    (slot) => {
      bits[slot >> 3] |= 1 << (slot & 7);
      count++;
    },
    predicate,
  );
  return { bits, count, ...info };
}

export function countMatching(state: CollectionState, filter: FilterNode | undefined, deadline?: Deadline): number {
  if (!filter || filter.kind === "all") return state.size;
  return matchingSlots(state, filter, deadline).slots.length;
}

/** First index in sorted `ids` whose id is strictly greater than `after`. */
function upperBound(ids: string[], after: string): number {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ids[mid] <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * One page of records in id order after `cursor`. The cursor is the last id of the previous page,
 * so pages stay correct while records are added or deleted between calls.
 */
export function scrollPage(
  state: CollectionState,
  cursor: string | undefined,
  limit: number,
  filter: FilterNode | undefined,
  opts: OutputOptions,
  deadline?: Deadline,
): { records: RecordOutput[]; nextCursor: string | null } {
  const ids = state.sortedIds();
  const records: RecordOutput[] = [];
  let i = cursor === undefined ? 0 : upperBound(ids, cursor);
  for (let n = 1; i < ids.length && records.length < limit; i++, n++) {
    // A selective filter can walk the whole collection for one page.
    if (n % DEADLINE_STRIDE === 0) deadline?.check();
    const slot = state.ids.get(ids[i])!;
    if (filter && filter.kind !== "all" && !matches(filter, state.payloads.get(slot))) continue;
    records.push(outputRecord(state, slot, opts));
  }
  // Stopped by the limit with ids left: the next page starts after the last record returned.
  const nextCursor = i < ids.length ? records[records.length - 1].id : null;
  return { records, nextCursor };
}
