/**
 * Qdrant filters -> Quiver filters (docs/filters.md). `must` becomes `$and`, `should` `$or`,
 * `must_not` `$not` of an `$or`, `min_should` the `$or` of every combination of `min_count`
 * conditions (while there are few), and field conditions become field operators. `has_id` is not a
 * payload condition: it is accepted only as a condition of the top-level `must` (or as the whole
 * filter), and handed back as a list of ids for the caller to intersect with. Everything else that
 * Quiver cannot evaluate exactly (text match, geo, values_count, nested, datetime ranges) is refused
 * as unsupported rather than approximated.
 */
import type { Filter } from "../../api/query.js";
import { type Checker, isObject, type Json, unsupported } from "../shape.js";
import { quiverIds } from "./ids.js";

/** A translated filter: the payload part, and the ids `has_id` restricts it to (undefined: no restriction). */
export interface TranslatedFilter {
  filter: Filter | undefined;
  ids: string[] | undefined;
}

/** Above this many combinations a `min_should` is refused instead of expanded. */
const MAX_MIN_SHOULD_COMBINATIONS = 256;

const QDRANT = "Qdrant";

function and(parts: Filter[]): Filter {
  return parts.length === 1 ? parts[0] : { $and: parts };
}

function or(parts: Filter[]): Filter {
  return parts.length === 1 ? parts[0] : { $or: parts };
}

/** A Qdrant key ("a.b", "list[].field") as a Quiver dotted path, which descends into arrays by itself. */
function path(key: unknown, at: string, check: Checker): string | undefined {
  if (typeof key !== "string" || key.length === 0) {
    check.fail(at, "must be a non-empty string");
    return undefined;
  }
  const stripped = key.replace(/\[\]/g, "");
  if (/[[\]]/.test(stripped)) throw unsupported(QDRANT, `the key "${key}" (array indexes in keys)`);
  return stripped;
}

/** A filter no record matches (a field cannot both exist and not exist). */
function nothing(field: string): Filter {
  return { $and: [{ [field]: { $exists: true } }, { [field]: { $exists: false } }] };
}

/**
 * Holds when a field has some string, number or boolean value (itself or an element of its array),
 * which `$exists` cannot say: it holds for `[]`. Its negation is Qdrant's `is_empty` for fields of
 * scalars and arrays of them (docs/compat-qdrant.md: a field holding only objects counts as empty).
 */
function hasScalar(field: string): Filter {
  return {
    $or: [{ [field]: { $in: [true, false] } }, { [field]: { $gte: "" } }, { [field]: { $gte: -Number.MAX_VALUE } }],
  };
}

function scalar(v: unknown): boolean {
  return typeof v === "string" || typeof v === "boolean" || (typeof v === "number" && Number.isFinite(v));
}

function matchCondition(field: string, match: Json, at: string, check: Checker): Filter | undefined {
  if ("value" in match) {
    if (!scalar(match.value)) check.fail(`${at}.value`, "must be a string, number or boolean");
    return { [field]: match.value };
  }
  if ("any" in match || "except" in match) {
    const op = "any" in match ? "any" : "except";
    const values = match[op];
    if (!Array.isArray(values) || !values.every(scalar)) {
      check.fail(`${at}.${op}`, "must be an array of strings or numbers");
      return undefined;
    }
    // An empty `any` matches nothing and an empty `except` everything, as in Qdrant.
    if (values.length === 0) return op === "any" ? nothing(field) : {};
    return { [field]: { [op === "any" ? "$in" : "$nin"]: values } };
  }
  for (const kind of ["text", "text_any", "phrase"])
    if (kind in match) throw unsupported(QDRANT, `match.${kind} (full-text match in filters)`);
  check.fail(at, "must have one of value, any, except");
  return undefined;
}

function rangeCondition(field: string, range: Json, at: string, check: Checker): Filter | undefined {
  const ops: Json = {};
  for (const [name, op] of [
    ["gt", "$gt"],
    ["gte", "$gte"],
    ["lt", "$lt"],
    ["lte", "$lte"],
  ] as const) {
    const v = range[name];
    if (v === undefined || v === null) continue;
    if (typeof v === "string") throw unsupported(QDRANT, "datetime ranges (range bounds given as strings)");
    if (check.number(v, `${at}.${name}`) !== undefined) ops[op] = v;
  }
  if (Object.keys(ops).length === 0) return {};
  return { [field]: ops };
}

/** One condition of a Qdrant filter clause. */
function condition(c: unknown, at: string, check: Checker): Filter | undefined {
  if (!isObject(c)) {
    check.fail(at, "must be an object");
    return undefined;
  }
  if ("has_id" in c) throw unsupported(QDRANT, "has_id anywhere but directly in the filter's top-level must");
  if ("must" in c || "should" in c || "must_not" in c || "min_should" in c) return clauses(c, at, check);
  if ("is_empty" in c || "is_null" in c) {
    const kind = "is_empty" in c ? "is_empty" : "is_null";
    const inner = check.object(c[kind], `${at}.${kind}`);
    const field = inner && path(inner.key, `${at}.${kind}.key`, check);
    if (field === undefined) return undefined;
    // Quiver's `null` equality holds for null and for a missing field; `$exists` tells them apart.
    return kind === "is_empty"
      ? { $not: hasScalar(field) }
      : { $and: [{ [field]: null }, { [field]: { $exists: true } }] };
  }
  if ("nested" in c) throw unsupported(QDRANT, "nested conditions");
  if ("key" in c) {
    const field = path(c.key, `${at}.key`, check);
    if (field === undefined) return undefined;
    for (const kind of ["geo_bounding_box", "geo_radius", "geo_polygon", "values_count"])
      if (c[kind] !== undefined && c[kind] !== null) throw unsupported(QDRANT, `${kind} conditions`);
    if ("is_empty" in c && c.is_empty !== null && c.is_empty !== undefined)
      throw unsupported(QDRANT, "is_empty inside a field condition");
    const parts: Filter[] = [];
    const match = check.object(c.match, `${at}.match`);
    if (match) {
      const m = matchCondition(field, match, `${at}.match`, check);
      if (m) parts.push(m);
    }
    const range = check.object(c.range, `${at}.range`);
    if (range) {
      const r = rangeCondition(field, range, `${at}.range`, check);
      if (r) parts.push(r);
    }
    if (parts.length === 0) check.fail(at, "a field condition needs match or range");
    return and(parts);
  }
  check.fail(
    at,
    "must be a field condition (key), is_empty, is_null, has_id or a nested filter (must/should/must_not)",
  );
  return undefined;
}

function conditions(list: unknown, at: string, check: Checker): Filter[] {
  // Qdrant also takes a single condition where it expects a list.
  const items = Array.isArray(list) ? list : [list];
  const out: Filter[] = [];
  items.forEach((c, i) => {
    const f = condition(c, Array.isArray(list) ? `${at}[${i}]` : at, check);
    if (f) out.push(f);
  });
  return out;
}

/** Every way of choosing `k` of `items`, in order. */
function combinations<T>(items: T[], k: number): T[][] {
  if (k === 0) return [[]];
  const out: T[][] = [];
  for (let i = 0; i <= items.length - k; i++)
    for (const rest of combinations(items.slice(i + 1), k - 1)) out.push([items[i], ...rest]);
  return out;
}

function binomial(n: number, k: number): number {
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return Math.round(r);
}

/** The must / should / must_not / min_should clauses of one filter object, ANDed. */
function clauses(f: Json, at: string, check: Checker): Filter {
  const parts: Filter[] = [];
  if (f.must !== undefined && f.must !== null) parts.push(...conditions(f.must, `${at}.must`, check));
  if (f.should !== undefined && f.should !== null) {
    const any = conditions(f.should, `${at}.should`, check);
    if (any.length > 0) parts.push(or(any));
  }
  if (f.must_not !== undefined && f.must_not !== null) {
    const none = conditions(f.must_not, `${at}.must_not`, check);
    if (none.length > 0) parts.push({ $not: or(none) });
  }
  if (f.min_should !== undefined && f.min_should !== null) {
    const ms = check.object(f.min_should, `${at}.min_should`);
    const min = ms && check.int(ms.min_count, `${at}.min_should.min_count`);
    const list = ms ? conditions(ms.conditions, `${at}.min_should.conditions`, check) : [];
    if (min !== undefined && min > 0) {
      if (min > list.length) parts.push(nothing("min_should"));
      else if (binomial(list.length, min) > MAX_MIN_SHOULD_COMBINATIONS)
        throw unsupported(
          QDRANT,
          `min_should with more than ${MAX_MIN_SHOULD_COMBINATIONS} combinations of conditions`,
        );
      else parts.push(or(combinations(list, min).map(and)));
    }
  }
  return parts.length === 0 ? {} : and(parts);
}

/**
 * A Qdrant filter (or null/undefined: none) as a Quiver filter plus the ids of a top-level `has_id`.
 * Problems go to `check`; unsupported parts throw UNSUPPORTED at once.
 */
export function translateFilter(input: unknown, at: string, check: Checker): TranslatedFilter {
  if (input === undefined || input === null) return { filter: undefined, ids: undefined };
  if (!isObject(input)) {
    check.fail(at, "must be an object");
    return { filter: undefined, ids: undefined };
  }
  let ids: string[] | undefined;
  let rest = input;
  if (input.must !== undefined && input.must !== null) {
    const must = Array.isArray(input.must) ? input.must : [input.must];
    const others = must.filter((c) => !(isObject(c) && "has_id" in c));
    for (const c of must)
      if (isObject(c) && "has_id" in c) {
        const these = quiverIds(c.has_id, `${at}.must.has_id`, check);
        ids = ids === undefined ? these : ids.filter((id) => these.includes(id));
      }
    rest = { ...input, must: others };
  }
  const filter = clauses(rest, at, check);
  return { filter: Object.keys(filter).length === 0 ? undefined : filter, ids };
}
