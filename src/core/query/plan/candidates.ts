/**
 * Narrowing a filter to candidate slots using payload indexes alone, and estimating match counts for
 * the planner. Both over-approximate: the caller re-checks every candidate with `matches`.
 */

import type { PayloadIndexSet } from "../../payload/indexes.js";
import type { FilterNode } from "../filter/ast.js";

/** A slot set and whether it is ours to return (true) or borrowed from an index (false). */
interface Narrowed {
  set: ReadonlySet<number>;
  owned: boolean;
}

/**
 * A superset of the slots matching `node`, computed from indexes only, or null when the indexes
 * cannot narrow it (a `$not`, an unindexed field, `null` equality, `$exists: false`, ...). The
 * returned set is fresh and may be mutated by the caller.
 *
 * @example candidateSlots(parseFilter({ lang: "en", year: { $gte: 2020 } }), indexes) // slots with lang "en" ∩ year ≥ 2020
 */
export function candidateSlots(node: FilterNode, indexes: PayloadIndexSet): Set<number> | null {
  const r = narrow(node, indexes);
  if (r === null) return null;
  return r.owned ? (r.set as Set<number>) : new Set(r.set);
}

function narrow(node: FilterNode, ix: PayloadIndexSet): Narrowed | null {
  switch (node.kind) {
    case "all":
    case "not":
      // A complement needs the set of all slots, which the index does not own; the caller scans.
      return null;
    case "eq": {
      const set = ix.lookupEq(node.path.join("."), node.value);
      return set === null ? null : { set, owned: false };
    }
    case "in": {
      const field = node.path.join(".");
      const sets: ReadonlySet<number>[] = [];
      for (const v of node.values) {
        const set = ix.lookupEq(field, v);
        if (set === null) return null; // e.g. `null` in the list also matches missing fields
        sets.push(set);
      }
      return union(sets);
    }
    case "range": {
      const set = ix.lookupRange(node.path.join("."), node);
      return set === null ? null : { set, owned: true };
    }
    case "exists": {
      const set = node.value ? ix.present(node.path.join(".")) : null;
      return set === null ? null : { set, owned: false };
    }
    case "and": {
      const sets: ReadonlySet<number>[] = [];
      for (const child of node.children) {
        const r = narrow(child, ix);
        if (r !== null) sets.push(r.set);
      }
      return sets.length === 0 ? null : intersect(sets);
    }
    case "or": {
      const sets: ReadonlySet<number>[] = [];
      for (const child of node.children) {
        const r = narrow(child, ix);
        if (r === null) return null; // one unnarrowable branch may match any slot
        sets.push(r.set);
      }
      return union(sets);
    }
  }
}

function union(sets: ReadonlySet<number>[]): Narrowed {
  if (sets.length === 1) return { set: sets[0], owned: false };
  const out = new Set<number>();
  for (const s of sets) for (const slot of s) out.add(slot);
  return { set: out, owned: true };
}

/** Walks the smallest set and probes the others, so the cost is bounded by the most selective child. */
function intersect(sets: ReadonlySet<number>[]): Narrowed {
  if (sets.length === 1) return { set: sets[0], owned: false };
  sets.sort((a, b) => a.size - b.size);
  const [smallest, ...rest] = sets;
  const out = new Set<number>();
  outer: for (const slot of smallest) {
    for (const s of rest) if (!s.has(slot)) continue outer;
    out.add(slot);
  }
  return { set: out, owned: true };
}

/**
 * An upper bound on how many of `total` live records match `node`, from index statistics only and
 * without materializing sets (ranges cost O(log d)); unnarrowable parts count as `total`.
 */
export function estimateMatches(node: FilterNode, indexes: PayloadIndexSet, total: number): number {
  return Math.min(total, estimate(node, indexes, total));
}

function estimate(node: FilterNode, ix: PayloadIndexSet, total: number): number {
  switch (node.kind) {
    case "all":
    case "not":
      return total;
    case "eq":
      return ix.lookupEq(node.path.join("."), node.value)?.size ?? total;
    case "in": {
      const field = node.path.join(".");
      let sum = 0;
      for (const v of node.values) sum += ix.lookupEq(field, v)?.size ?? total;
      return sum;
    }
    case "range":
      return ix.countRange(node.path.join("."), node) ?? total;
    case "exists": {
      const present = ix.present(node.path.join("."));
      if (present === null) return total;
      return node.value ? present.size : Math.max(0, total - present.size);
    }
    case "and": {
      let min = total;
      for (const child of node.children) min = Math.min(min, estimate(child, ix, total));
      return min;
    }
    case "or": {
      let sum = 0;
      for (const child of node.children) sum += estimate(child, ix, total);
      return Math.min(total, sum);
    }
  }
}
