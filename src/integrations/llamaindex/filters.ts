/**
 * LlamaIndex `MetadataFilters` translated into a Quiver filter. Every operator but two maps exactly;
 * `text_match` (substring) and `is_empty` have no Quiver operator, so they become a superset filter
 * plus a check on each hit's payload (the residual), and the search fetches until k hits pass.
 */
import type { MetadataFilter, MetadataFilters } from "@llamaindex/core/vector-store";
import { QuiverError, type Problem } from "../../core/errors/errors.js";
import { parseFilter } from "../../core/query/filter/parse.js";
import { matches } from "../../core/query/filter/evaluate.js";
import type { Filter } from "../../api/query.js";

export interface TranslatedFilter {
  /** The Quiver filter: exact, or a superset when `residual` is set. */
  filter: Filter | undefined;
  /** The exact check, when the filter alone is only a superset. */
  residual?: (payload: Record<string, unknown>) => boolean;
}

type Predicate = (payload: Record<string, unknown>) => boolean;
/** One translated clause: its Quiver filter (a superset when `check` is set) and its exact check. */
interface Clause {
  filter: Filter;
  check?: Predicate;
}

/** Matches everything a Quiver filter can see: any string, any finite number, any boolean at the path. */
function hasScalar(key: string): Filter[] {
  return [
    { [key]: { $gte: "" } },
    { [key]: { $gte: -Number.MAX_VALUE, $lte: Number.MAX_VALUE } },
    { [key]: { $in: [true, false] } },
  ];
}

/** The values at a dotted path, arrays flattened one level (as Quiver's filters read them). */
function valuesAt(payload: Record<string, unknown>, key: string): unknown[] {
  let values: unknown[] = [payload];
  for (const segment of key.split(".")) {
    const next: unknown[] = [];
    for (const v of values) {
      if (v === null || typeof v !== "object" || Array.isArray(v) || !Object.hasOwn(v, segment)) continue;
      const child = (v as Record<string, unknown>)[segment];
      if (Array.isArray(child)) next.push(...child);
      else next.push(child);
    }
    values = next;
  }
  return values;
}

const isScalar = (v: unknown): v is string | number =>
  typeof v === "string" || (typeof v === "number" && Number.isFinite(v));
const isEqValue = (v: unknown): v is string | number | boolean => isScalar(v) || typeof v === "boolean";
const isScalarList = (v: unknown): v is (string | number)[] => Array.isArray(v) && v.length > 0 && v.every(isScalar);

function clauseOf(f: MetadataFilter, path: string, problems: Problem[]): Clause | null {
  const { key, value, operator } = f;
  const bad = (expected: string): null => {
    problems.push({ path: `${path}.value`, message: `${operator} takes ${expected}, got ${JSON.stringify(value)}` });
    return null;
  };
  if (typeof key !== "string" || key === "") {
    problems.push({ path: `${path}.key`, message: "must be a non-empty string" });
    return null;
  }
  switch (operator) {
    case "==":
    case "contains":
      return isEqValue(value) ? { filter: { [key]: value } } : bad("a string, a number or a boolean");
    case "!=":
      return isEqValue(value) ? { filter: { [key]: { $ne: value } } } : bad("a string, a number or a boolean");
    case ">":
    case ">=":
    case "<":
    case "<=": {
      const op = { ">": "$gt", ">=": "$gte", "<": "$lt", "<=": "$lte" }[operator];
      return isScalar(value) ? { filter: { [key]: { [op]: value } } } : bad("a string or a number");
    }
    case "in":
    case "any":
      return isScalarList(value)
        ? { filter: { [key]: { $in: value } } }
        : bad("a non-empty array of strings or numbers");
    case "nin":
      return isScalarList(value)
        ? { filter: { [key]: { $nin: value } } }
        : bad("a non-empty array of strings or numbers");
    case "all":
      return isScalarList(value)
        ? { filter: { $and: value.map((v) => ({ [key]: v })) } }
        : bad("a non-empty array of strings or numbers");
    case "text_match":
      if (typeof value !== "string" || value === "") return bad("a non-empty string");
      return {
        filter: { [key]: { $gte: "" } },
        check: (p) => valuesAt(p, key).some((v) => typeof v === "string" && v.includes(value)),
      };
    case "is_empty":
      return {
        filter: { $not: { $or: hasScalar(key) } },
        check: (p) => valuesAt(p, key).every((v) => v === null),
      };
    default:
      problems.push({
        path: `${path}.operator`,
        message: `unsupported operator ${JSON.stringify(operator)}; expected one of == != > >= < <= in nin any all contains text_match is_empty`,
      });
      return null;
  }
}

function groupOf(group: MetadataFilters, path: string, problems: Problem[], depth: number): Clause | null {
  const condition = group.condition ?? "and";
  if (condition !== "and" && condition !== "or") {
    problems.push({
      path: `${path}.condition`,
      message: `unsupported condition ${JSON.stringify(condition)}; expected and, or`,
    });
    return null;
  }
  if (!Array.isArray(group.filters)) {
    problems.push({ path: `${path}.filters`, message: "must be an array" });
    return null;
  }
  const clauses: Clause[] = [];
  group.filters.forEach((f, i) => {
    const at = `${path}.filters[${i}]`;
    // LlamaIndex Python nests groups; accept them too, bounded like Quiver's own filter depth.
    const nested = f as unknown as MetadataFilters;
    const clause =
      Array.isArray(nested.filters) && depth < 8 ? groupOf(nested, at, problems, depth + 1) : clauseOf(f, at, problems);
    if (clause) clauses.push(clause);
  });
  if (clauses.length === 0 || clauses.length < group.filters.length) return null;
  const filter = clauses.length === 1 ? clauses[0].filter : { [`$${condition}`]: clauses.map((c) => c.filter) };
  if (clauses.every((c) => !c.check)) return { filter };
  // Some clause is only a superset: check the whole group exactly, each exact clause with Quiver's evaluator.
  const checks = clauses.map((c) => {
    if (c.check) return c.check;
    const node = parseFilter(c.filter);
    return (p: Record<string, unknown>) => matches(node, p);
  });
  const check: Predicate = condition === "and" ? (p) => checks.every((c) => c(p)) : (p) => checks.some((c) => c(p));
  return { filter, check };
}

/**
 * The Quiver filter for LlamaIndex filters (and their AND/OR condition). Every problem is reported
 * at once, with its path, as INVALID_FILTER; nothing is searched with a filter that did not translate.
 */
export function translateFilters(filters: MetadataFilters | undefined): TranslatedFilter {
  if (!filters || (Array.isArray(filters.filters) && filters.filters.length === 0)) return { filter: undefined };
  const problems: Problem[] = [];
  const group = groupOf(filters, "filters", problems, 0);
  if (!group || problems.length > 0)
    throw QuiverError.fromProblems(
      "INVALID_FILTER",
      problems.length > 0 ? problems : [{ path: "filters", message: "no filter" }],
    );
  return { filter: group.filter, residual: group.check };
}
