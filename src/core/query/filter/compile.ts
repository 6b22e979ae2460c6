/**
 * A parsed filter compiled once into a tree of closures, for the loops that test it against many
 * payloads (a scan over every record, a graph's candidates). Each leaf on a one-segment path reads
 * its field directly and tests a scalar there inline; anything else (arrays, nested paths, the
 * `null` cases) goes to `matches`, whose semantics the compiled form keeps exactly.
 */

import type { FilterNode, RangeNode } from "./ast.js";
import { rangeType } from "./ast.js";
import { matches } from "./evaluate.js";

/** A compiled filter: true when the payload (undefined = `{}`) satisfies it. */
export type PayloadPredicate = (payload: Record<string, unknown> | undefined) => boolean;

/**
 * The filter as a predicate equal to `(p) => matches(node, p)` on every payload, but faster on the
 * common shapes (a field of a flat payload holding a scalar).
 *
 * @example compileFilter(parseFilter({ price: { $lt: 10 } }))({ price: 3 }) // true
 */
export function compileFilter(node: FilterNode): PayloadPredicate {
  switch (node.kind) {
    case "all":
      return () => true;
    case "and": {
      const parts = node.children.map(compileFilter);
      if (parts.length === 2) {
        const [a, b] = parts;
        return (p) => a(p) && b(p);
      }
      return (p) => {
        for (const part of parts) if (!part(p)) return false;
        return true;
      };
    }
    case "or": {
      const parts = node.children.map(compileFilter);
      return (p) => {
        for (const part of parts) if (part(p)) return true;
        return false;
      };
    }
    case "not": {
      const child = compileFilter(node.child);
      return (p) => !child(p);
    }
    case "eq":
    case "in":
    case "range":
    case "exists":
      return compileLeaf(node);
  }
}

/**
 * A leaf: when the path is one plain key and the value there is a scalar, the test runs inline;
 * an object or array value (fan-out, nested paths) is handed to `matches`. `null` operands and keys
 * that could be inherited from Object.prototype always take the general path.
 */
function compileLeaf(node: Exclude<FilterNode, { kind: "all" | "and" | "or" | "not" }>): PayloadPredicate {
  const general: PayloadPredicate = (p) => matches(node, p);
  if (node.path.length !== 1 || node.path[0] in Object.prototype) return general;
  const key = node.path[0];
  const onScalar = scalarTest(node);
  if (onScalar === null) return general;
  return (p) => {
    if (p === undefined) return general(p);
    const v = p[key];
    // undefined: the field is missing (general settles `$exists: false`, `$ne` and the like).
    if (v === undefined || (typeof v === "object" && v !== null)) return general(p);
    return onScalar(v);
  };
}

/** The leaf's test on a scalar found at its path, or null when the leaf has no fast form. */
function scalarTest(
  node: Exclude<FilterNode, { kind: "all" | "and" | "or" | "not" }>,
): ((v: unknown) => boolean) | null {
  switch (node.kind) {
    case "eq": {
      const want = node.value;
      return want === null ? null : (v) => v === want;
    }
    case "in": {
      if (node.values.includes(null)) return null;
      const set = new Set<unknown>(node.values);
      return (v) => set.has(v);
    }
    case "range":
      return rangeTest(node);
    case "exists":
      // A scalar (null included) is there.
      return node.value ? () => true : () => false;
  }
}

/** Bounds fixed at compile time; a value of another type than the bounds never matches. */
function rangeTest(node: RangeNode): (v: unknown) => boolean {
  const type = rangeType(node);
  const { gt, gte, lt, lte } = node as { gt?: number; gte?: number; lt?: number; lte?: number };
  // The common one-sided and two-sided numeric ranges get a closure with no undefined checks.
  if (type === "number" && gt === undefined && gte === undefined && lte === undefined && lt !== undefined) {
    return (v) => typeof v === "number" && v < lt;
  }
  if (type === "number" && gt === undefined && lt === undefined && gte !== undefined && lte !== undefined) {
    return (v) => typeof v === "number" && v >= gte && v <= lte;
  }
  return (v) => {
    if (typeof v !== type) return false;
    const x = v as number;
    if (gt !== undefined && !(x > gt)) return false;
    if (gte !== undefined && !(x >= gte)) return false;
    if (lt !== undefined && !(x < lt)) return false;
    if (lte !== undefined && !(x <= lte)) return false;
    return true;
  };
}
