/**
 * Validation of user filters (plain JSON) into the FilterNode AST. Every problem is collected with
 * its path (`filter.$and[1].year.$gte`) so one failed request tells the user everything to fix.
 */

import { QuiverError, type Problem } from "../../errors/errors.js";
import type { Bound, FilterNode, Scalar } from "./ast.js";

export interface ParseFilterOptions {
  /** Deepest nesting of filter objects accepted; the root object is level 1. Default 16. */
  maxDepth?: number;
  /** Name of the filter in problem paths, e.g. `query.filter`. Default `filter`. */
  path?: string;
  /**
   * Largest filter accepted, counted as `filterSize` counts (keys of filter objects plus elements of
   * arrays, so every condition, operator and `$in` value). Past it: LIMIT_EXCEEDED. Default 1,024.
   */
  maxSize?: number;
}

const ALL: FilterNode = { kind: "all" };
const LOGICAL_OPS = "$and, $or, $not";
const FIELD_OPS = "$eq, $ne, $in, $nin, $gt, $gte, $lt, $lte, $exists, $not";
const RANGE_OPS = ["$gt", "$gte", "$lt", "$lte"] as const;

interface Ctx {
  problems: Problem[];
  maxDepth: number;
  maxSize: number;
  size: number;
  /** Where the size first passed maxSize; parsing then stops descending. */
  overAt: string | null;
}

/** Counts `n` more filter terms; false (and the place recorded) once the filter is too large. */
function grow(ctx: Ctx, n: number, at: string): boolean {
  ctx.size += n;
  if (ctx.size <= ctx.maxSize) return true;
  ctx.overAt ??= at;
  return false;
}

/**
 * Validates `input` and returns its AST; throws `INVALID_FILTER` listing every problem found.
 *
 * @example parseFilter({ year: { $gte: 2000 }, tags: "ml" })
 *   // { kind: "and", children: [{ kind: "range", path: ["year"], gte: 2000 }, { kind: "eq", path: ["tags"], value: "ml" }] }
 */
export function parseFilter(input: unknown, opts: ParseFilterOptions = {}): FilterNode {
  const maxDepth = opts.maxDepth ?? 16;
  if (!Number.isInteger(maxDepth) || maxDepth < 1) {
    throw new QuiverError("INVALID_ARGUMENT", `maxDepth must be a positive integer, got ${String(maxDepth)}`);
  }
  const maxSize = opts.maxSize ?? 1024;
  const ctx: Ctx = { problems: [], maxDepth, maxSize, size: 0, overAt: null };
  const node = parseObject(input, opts.path ?? "filter", 1, ctx);
  if (ctx.overAt !== null) {
    // Its own code (422), reported alone: the rest of an oversized filter was not read.
    throw QuiverError.fromProblems("LIMIT_EXCEEDED", [
      {
        path: ctx.overAt,
        message: `the filter has more than ${maxSize} conditions, operators and listed values (maxFilterSize)`,
      },
    ]);
  }
  if (ctx.problems.length > 0) throw QuiverError.fromProblems("INVALID_FILTER", ctx.problems);
  return node;
}

/** A filter object: field conditions and logical operators, implicitly AND-ed. */
function parseObject(input: unknown, at: string, depth: number, ctx: Ctx): FilterNode {
  if (depth > ctx.maxDepth) {
    // Stop descending: the limit exists to bound recursion on hostile input.
    ctx.problems.push({ path: at, message: `filter is nested more than ${ctx.maxDepth} levels deep` });
    return ALL;
  }
  if (!isPlainObject(input)) {
    ctx.problems.push({ path: at, message: `must be a filter object, got ${describe(input)}` });
    return ALL;
  }
  const keys = Object.keys(input);
  if (!grow(ctx, keys.length, at)) return ALL;
  const children: FilterNode[] = [];
  for (const key of keys) {
    const value = input[key];
    const here = `${at}.${key}`;
    if (key === "$and" || key === "$or") {
      children.push(parseList(key, value, here, depth, ctx));
    } else if (key === "$not") {
      children.push({ kind: "not", child: parseObject(value, here, depth + 1, ctx) });
    } else if (key.startsWith("$")) {
      ctx.problems.push({
        path: here,
        message: `unknown operator "${key}"; expected a field name or one of ${LOGICAL_OPS}`,
      });
    } else {
      const path = parseFieldName(key, here, ctx);
      children.push(parseCondition(path, value, here, depth, ctx));
    }
  }
  return combine("and", children);
}

function parseList(op: "$and" | "$or", value: unknown, at: string, depth: number, ctx: Ctx): FilterNode {
  if (!Array.isArray(value) || value.length === 0) {
    ctx.problems.push({
      path: at,
      message: `${op} must be a non-empty array of filter objects, got ${describe(value)}`,
    });
    return ALL;
  }
  if (!grow(ctx, value.length, at)) return ALL;
  const children = value.map((v, i) => parseObject(v, `${at}[${i}]`, depth + 1, ctx));
  return combine(op === "$and" ? "and" : "or", children);
}

/** Builds and/or while dropping what `{}` makes trivial: ALL in an AND, everything in an OR with ALL. */
function combine(kind: "and" | "or", children: FilterNode[]): FilterNode {
  if (kind === "or" && children.some((c) => c.kind === "all")) return ALL;
  const kept = children.filter((c) => c.kind !== "all");
  if (kept.length === 0) return ALL;
  if (kept.length === 1) return kept[0];
  return { kind, children: kept };
}

function parseFieldName(key: string, at: string, ctx: Ctx): string[] {
  const path = key.split(".");
  if (key === "") {
    ctx.problems.push({ path: at, message: "field name is empty" });
  } else if (path.some((s) => s === "")) {
    ctx.problems.push({ path: at, message: `field path "${key}" has an empty segment` });
  } else if (path.some((s) => s.startsWith("$"))) {
    ctx.problems.push({ path: at, message: `field path "${key}" has a segment starting with "$"` });
  }
  return path;
}

/** The value of a field key: a scalar (equality) or an operator object such as `{ $gte: 1 }`. */
function parseCondition(path: string[], value: unknown, at: string, depth: number, ctx: Ctx): FilterNode {
  if (isPlainObject(value)) return parseOperators(path, value, at, depth, ctx);
  if (Array.isArray(value)) {
    ctx.problems.push({
      path: at,
      message: "an array is not a value to compare; use { $in: [...] } to match any of several",
    });
    return ALL;
  }
  return checkScalar(value, at, ctx) ? { kind: "eq", path, value } : ALL;
}

function parseOperators(path: string[], ops: Record<string, unknown>, at: string, depth: number, ctx: Ctx): FilterNode {
  const keys = Object.keys(ops);
  if (keys.length === 0) {
    ctx.problems.push({ path: at, message: `operator object is empty; expected one of ${FIELD_OPS}` });
    return ALL;
  }
  if (!keys.some((k) => k.startsWith("$"))) {
    ctx.problems.push({
      path: at,
      message: `nested objects are not values to compare; use a dotted path such as "${path.join(".")}.${keys[0]}"`,
    });
    return ALL;
  }
  if (!grow(ctx, keys.length, at)) return ALL;
  const children: FilterNode[] = [];
  for (const op of keys) {
    const v = ops[op];
    const here = `${at}.${op}`;
    switch (op) {
      case "$eq":
      case "$ne":
        if (checkScalar(v, here, ctx)) {
          const eq: FilterNode = { kind: "eq", path, value: v };
          children.push(op === "$eq" ? eq : { kind: "not", child: eq });
        }
        break;
      case "$in":
      case "$nin": {
        const values = parseValueList(op, v, here, ctx);
        if (values) {
          const node: FilterNode = { kind: "in", path, values };
          children.push(op === "$in" ? node : { kind: "not", child: node });
        }
        break;
      }
      case "$exists":
        if (typeof v === "boolean") children.push({ kind: "exists", path, value: v });
        else ctx.problems.push({ path: here, message: `$exists must be true or false, got ${describe(v)}` });
        break;
      case "$not":
        if (depth + 1 > ctx.maxDepth) {
          ctx.problems.push({ path: here, message: `filter is nested more than ${ctx.maxDepth} levels deep` });
        } else if (isPlainObject(v) && Object.keys(v).length > 0 && Object.keys(v).every((k) => k.startsWith("$"))) {
          children.push({ kind: "not", child: parseOperators(path, v, here, depth + 1, ctx) });
        } else {
          ctx.problems.push({
            path: here,
            message: `$not on a field must be a non-empty operator object such as { $gt: 5 }, got ${describe(v)}`,
          });
        }
        break;
      case "$gt":
      case "$gte":
      case "$lt":
      case "$lte":
        break; // gathered below into one range node
      default:
        if (op.startsWith("$")) {
          ctx.problems.push({ path: here, message: `unknown operator "${op}"; expected one of ${FIELD_OPS}` });
        } else {
          ctx.problems.push({
            path: here,
            message: `field names cannot be mixed with operators; use a dotted path for "${op}"`,
          });
        }
    }
  }
  const range = parseRange(path, ops, at, ctx);
  if (range) children.push(range);
  return combine("and", children);
}

/** Gathers `$gt`/`$gte`/`$lt`/`$lte` into one node, so one value must satisfy all bounds at once. */
function parseRange(path: string[], ops: Record<string, unknown>, at: string, ctx: Ctx): FilterNode | null {
  const bounds: { gt?: Bound; gte?: Bound; lt?: Bound; lte?: Bound } = {};
  let firstType: string | undefined;
  let firstOp = "";
  let ok = true;
  let any = false;
  for (const op of RANGE_OPS) {
    if (!Object.hasOwn(ops, op)) continue;
    any = true;
    const v = ops[op];
    const here = `${at}.${op}`;
    if (typeof v === "number" ? !Number.isFinite(v) : typeof v !== "string") {
      ctx.problems.push({ path: here, message: `${op} must be a finite number or a string, got ${describe(v)}` });
      ok = false;
      continue;
    }
    if (firstType === undefined) {
      firstType = typeof v;
      firstOp = op;
    } else if (typeof v !== firstType) {
      ctx.problems.push({
        path: here,
        message: `${op} is a ${typeof v} but ${firstOp} is a ${firstType}; range bounds must share one type`,
      });
      ok = false;
      continue;
    }
    bounds[op.slice(1) as "gt" | "gte" | "lt" | "lte"] = v as Bound;
  }
  return any && ok ? { kind: "range", path, ...bounds } : null;
}

function parseValueList(op: string, v: unknown, at: string, ctx: Ctx): Scalar[] | null {
  if (!Array.isArray(v) || v.length === 0) {
    ctx.problems.push({
      path: at,
      message: `${op} must be a non-empty array of strings, numbers, booleans or null, got ${describe(v)}`,
    });
    return null;
  }
  if (!grow(ctx, v.length, at)) return null;
  let ok = true;
  v.forEach((el, i) => {
    if (!checkScalar(el, `${at}[${i}]`, ctx)) ok = false;
  });
  return ok ? (v as Scalar[]).slice() : null;
}

function checkScalar(v: unknown, at: string, ctx: Ctx): v is Scalar {
  if (typeof v === "string" || typeof v === "boolean" || v === null) return true;
  if (typeof v === "number") {
    if (Number.isFinite(v)) return true;
    ctx.problems.push({ path: at, message: `must be a finite number, got ${String(v)}` });
    return false;
  }
  ctx.problems.push({ path: at, message: `must be a string, number, boolean or null, got ${describe(v)}` });
  return false;
}

/**
 * Keys of filter objects plus elements of arrays: the measure `maxSize` bounds, and the work a
 * filter does per record it is checked against (the server bills it so). Stops counting below
 * `maxDepth` levels, as parsing does.
 */
export function filterSize(input: unknown, maxDepth = 64): number {
  if (maxDepth < 0 || typeof input !== "object" || input === null) return 0;
  const values = Array.isArray(input) ? input : Object.values(input);
  let n = values.length;
  for (const v of values) n += filterSize(v, maxDepth - 1);
  return n;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  if (Array.isArray(v)) return v.length === 0 ? "an empty array" : "an array";
  switch (typeof v) {
    case "string":
      return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
    case "number":
    case "boolean":
    case "bigint":
      return `${typeof v} ${String(v)}`;
    case "object":
      return isPlainObject(v) ? "an object" : `a ${v.constructor?.name ?? "non-plain object"}`;
    default:
      return `a ${typeof v}`;
  }
}
