/**
 * Chroma's `where` (metadata) filters -> Quiver filters on the payload's `metadata` object, and
 * `where_document` as a predicate on the stored document. As in Quiver, `$ne` and `$nin` also match
 * records that lack the key (test/compat/chroma-client.test.ts checks this against Chroma itself).
 * `$contains` / `$not_contains` on documents are exact, case-sensitive substring tests, as Chroma's;
 * regular expressions are not supported (Rust's and JavaScript's syntaxes differ).
 */
import type { Filter } from "../../api/query.js";
import { type Checker, isObject, unsupported } from "../shape.js";

const CHROMA = "Chroma";
const COMPARISONS: Record<string, string> = {
  $eq: "$eq",
  $ne: "$ne",
  $gt: "$gt",
  $gte: "$gte",
  $lt: "$lt",
  $lte: "$lte",
  $in: "$in",
  $nin: "$nin",
};

function scalar(v: unknown): boolean {
  return typeof v === "string" || typeof v === "boolean" || (typeof v === "number" && Number.isFinite(v));
}

function fieldCondition(key: string, cond: unknown, at: string, check: Checker): Filter | undefined {
  const field = `metadata.${key}`;
  if (scalar(cond)) return { [field]: cond };
  if (!isObject(cond) || Object.keys(cond).length !== 1) {
    check.fail(at, "must be a value or one operator, e.g. { $gt: 3 }");
    return undefined;
  }
  const [op, v] = Object.entries(cond)[0];
  if (op === "$contains" || op === "$not_contains") {
    // On a metadata array: whether it holds the value.
    if (!scalar(v)) check.fail(`${at}.${op}`, "must be a string, number or boolean");
    const has = { [field]: v };
    return op === "$contains" ? has : { $not: has };
  }
  if (!(op in COMPARISONS)) {
    check.fail(
      `${at}.${op}`,
      `unknown operator; expected one of ${Object.keys(COMPARISONS).join(", ")}, $contains, $not_contains`,
    );
    return undefined;
  }
  if (op === "$in" || op === "$nin") {
    if (!Array.isArray(v) || v.length === 0 || !v.every(scalar))
      check.fail(`${at}.${op}`, "must be a non-empty array of values");
  } else if (!scalar(v)) check.fail(`${at}.${op}`, "must be a string, number or boolean");
  return { [field]: { [COMPARISONS[op]]: v } };
}

/** A Chroma `where` as a Quiver filter (undefined: no filter). */
export function translateWhere(where: unknown, at: string, check: Checker): Filter | undefined {
  if (where === undefined || where === null) return undefined;
  if (!isObject(where)) {
    check.fail(at, "must be an object");
    return undefined;
  }
  const parts: Filter[] = [];
  for (const [key, value] of Object.entries(where)) {
    if (key === "$and" || key === "$or") {
      if (!Array.isArray(value) || value.length === 0) {
        check.fail(`${at}.${key}`, "must be a non-empty array of where filters");
        continue;
      }
      const inner = value
        .map((w, i) => translateWhere(w, `${at}.${key}[${i}]`, check))
        .filter((f): f is Filter => f !== undefined);
      if (inner.length > 0) parts.push({ [key]: inner });
    } else if (key.startsWith("$"))
      check.fail(`${at}.${key}`, "unknown operator; expected $and, $or or a metadata key");
    else {
      const f = fieldCondition(key, value, `${at}.${key}`, check);
      if (f) parts.push(f);
    }
  }
  if (parts.length === 0) return undefined;
  return parts.length === 1 ? parts[0] : { $and: parts };
}

export type DocumentTest = (document: string | undefined) => boolean;

/** A Chroma `where_document` as a test of a record's document (undefined: no condition). */
export function translateWhereDocument(wd: unknown, at: string, check: Checker): DocumentTest | undefined {
  if (wd === undefined || wd === null) return undefined;
  if (!isObject(wd) || Object.keys(wd).length !== 1) {
    check.fail(at, "must have exactly one operator: $contains, $not_contains, $and or $or");
    return undefined;
  }
  const [op, v] = Object.entries(wd)[0];
  if (op === "$regex" || op === "$not_regex") throw unsupported(CHROMA, `where_document ${op}`);
  if (op === "$contains" || op === "$not_contains") {
    if (typeof v !== "string" || v.length === 0) {
      check.fail(`${at}.${op}`, "must be a non-empty string");
      return undefined;
    }
    return op === "$contains" ? (d) => d?.includes(v) === true : (d) => d === undefined || !d.includes(v);
  }
  if (op === "$and" || op === "$or") {
    if (!Array.isArray(v) || v.length === 0) {
      check.fail(`${at}.${op}`, "must be a non-empty array");
      return undefined;
    }
    const tests = v
      .map((x, i) => translateWhereDocument(x, `${at}.${op}[${i}]`, check))
      .filter((t): t is DocumentTest => t !== undefined);
    return op === "$and" ? (d) => tests.every((t) => t(d)) : (d) => tests.some((t) => t(d));
  }
  check.fail(`${at}.${op}`, "unknown operator; expected $contains, $not_contains, $and or $or");
  return undefined;
}
