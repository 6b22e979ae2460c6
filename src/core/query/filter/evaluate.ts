/**
 * Evaluation of a parsed filter against one record's payload. Called once per record during filtered
 * scans, so leaf tests are module-level functions handed to an allocation-free path walker.
 */

import { pathExists, someValueAt } from "../../payload/path.js";
import type { EqNode, FilterNode, InNode, RangeNode, Scalar } from "./ast.js";
import { rangeType } from "./ast.js";

/** Above this many values, `$in` tests a cached Set instead of scanning the list. */
const IN_SET_THRESHOLD = 8;
const inSets = new WeakMap<InNode, ReadonlySet<unknown>>();

/**
 * Whether `payload` satisfies `node`. A missing payload behaves as `{}`: every field is missing.
 * Values of a type other than the operand's never match (`"5"` is not `5`, a string is not in a
 * numeric range), and `$ne`/`$nin`/`$not` are plain negations, so they match missing fields.
 *
 * @example matches(parseFilter({ tags: "ml" }), { tags: ["ml", "db"] }) // true
 */
export function matches(node: FilterNode, payload: Record<string, unknown> | undefined): boolean {
  switch (node.kind) {
    case "all":
      return true;
    case "and":
      for (const child of node.children) if (!matches(child, payload)) return false;
      return true;
    case "or":
      for (const child of node.children) if (matches(child, payload)) return true;
      return false;
    case "not":
      return !matches(node.child, payload);
    case "eq":
      if (someValueAt(payload, node.path, isEqual, node)) return true;
      // MongoDB semantics: `{ a: null }` also matches records without `a`.
      return node.value === null && !pathExists(payload, node.path);
    case "in":
      if (someValueAt(payload, node.path, isAmong, node)) return true;
      return node.values.includes(null) && !pathExists(payload, node.path);
    case "range":
      return someValueAt(payload, node.path, rangeType(node) === "number" ? inNumberRange : inStringRange, node);
    case "exists":
      return pathExists(payload, node.path) === node.value;
  }
}

function isEqual(v: unknown, node: EqNode): boolean {
  return v === node.value;
}

function isAmong(v: unknown, node: InNode): boolean {
  if (node.values.length <= IN_SET_THRESHOLD) return node.values.includes(v as Scalar);
  let set = inSets.get(node);
  if (set === undefined) {
    set = new Set<unknown>(node.values);
    inSets.set(node, set);
  }
  return set.has(v);
}

function inNumberRange(v: unknown, node: RangeNode): boolean {
  return typeof v === "number" && withinBounds(v, node);
}

function inStringRange(v: unknown, node: RangeNode): boolean {
  return typeof v === "string" && withinBounds(v, node);
}

/**
 * `v` has the bounds' type (checked by the callers), so `<` is numeric for numbers and UTF-16
 * code-unit order for strings; the casts only silence TypeScript's union comparison rule.
 */
function withinBounds(v: number | string, node: RangeNode): boolean {
  const x = v as number;
  if (node.gt !== undefined && !(x > (node.gt as number))) return false;
  if (node.gte !== undefined && !(x >= (node.gte as number))) return false;
  if (node.lt !== undefined && !(x < (node.lt as number))) return false;
  if (node.lte !== undefined && !(x <= (node.lte as number))) return false;
  return true;
}
