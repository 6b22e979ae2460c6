/**
 * Qdrant's searches over a Quiver collection: `query` (nearest, with MMR), `query/batch`,
 * `query/groups`, and the older `search` / `search/batch`. Scores follow Qdrant's convention per
 * distance: Cosine and Dot similarities as Quiver computes them, Euclid the distance itself (Quiver's
 * score is its negation), so `score_threshold` is a lower bound for the former and an upper bound
 * for Euclid. A sparse query (`{ indices, values }`, `using` its name) is Quiver's sparse search, scored
 * by dot product. Queries that are not a nearest-neighbour search by vector answer 501.
 */
import { denseOnly, type QueryRequest, type QueryResult } from "../../api/query.js";
import type { CollectionApi } from "../../api/types.js";
import type { Metric } from "../../core/schema/schema.js";
import { similarity } from "../distance.js";
import { Checker, isObject, type Json, unsupported } from "../shape.js";
import { translateFilter } from "./filter.js";
import { point, readOptions, selection, type Selection } from "./records.js";
import { UNNAMED_VECTOR } from "./collections.js";

const QDRANT = "Qdrant";

/** A Qdrant search as the Quiver query it runs, and what to do with its hits. */
export interface PlannedSearch {
  request: QueryRequest;
  vectorName: string | undefined;
  threshold: number | undefined;
  select: Selection;
  mmr?: { diversity: number; candidates: number; limit: number; offset: number };
}

/** Qdrant's score of a Quiver score for a metric. */
export function qdrantScore(metric: Metric, score: number): number {
  return metric === "l2" ? -score : score;
}

function passes(metric: Metric, score: number, threshold: number | undefined): boolean {
  if (threshold === undefined) return true;
  return metric === "l2" ? score <= threshold : score >= threshold;
}

/** A query vector: dense numbers, or a sparse `{ indices, values }`. */
type QueryVector = number[] | { indices: number[]; values: number[] };

/** The nearest vector of a `query` field: a bare vector, a sparse one, `{ nearest }`, optionally with `mmr`. */
function nearest(q: unknown, check: Checker): { vector: QueryVector | undefined; mmr?: Json } {
  if (Array.isArray(q)) {
    if (Array.isArray(q[0])) throw unsupported(QDRANT, "multivector queries");
    return { vector: check.vector(q, "query") };
  }
  if (typeof q === "number" || typeof q === "string") throw unsupported(QDRANT, "queries by point id");
  if (isObject(q)) {
    if ("nearest" in q) {
      const n = q.nearest;
      if (typeof n === "number" || typeof n === "string") throw unsupported(QDRANT, "queries by point id");
      const mmr = check.object(q.mmr, "query.mmr");
      if (isObject(n)) {
        if (mmr) throw unsupported(QDRANT, "mmr over sparse vectors");
        return { vector: check.sparse(n, "query.nearest") };
      }
      return { vector: check.vector(n, "query.nearest"), mmr };
    }
    if ("indices" in q) return { vector: check.sparse(q, "query") };
    const kind = Object.keys(q)[0] ?? "{}";
    throw unsupported(QDRANT, `the ${kind} query`);
  }
  check.fail("query", "must be a vector or { nearest: vector }");
  return { vector: undefined };
}

function common(
  body: Json,
  check: Checker,
  vector: QueryVector | undefined,
  using: string | undefined,
  defaults: { payload: boolean },
): PlannedSearch {
  if (vector !== undefined && !Array.isArray(vector) && using === undefined)
    check.fail("using", "a sparse query names its sparse vector in `using`");
  if (body.prefetch !== undefined && body.prefetch !== null) throw unsupported(QDRANT, "prefetch");
  if (body.lookup_from !== undefined && body.lookup_from !== null) throw unsupported(QDRANT, "lookup_from");
  const f = translateFilter(body.filter, "filter", check);
  if (f.ids) throw unsupported(QDRANT, "has_id in a search filter");
  const limit = check.int(body.limit ?? body.top, "limit", 1) ?? 10;
  const offset = check.int(body.offset, "offset") ?? 0;
  const threshold = check.number(body.score_threshold, "score_threshold");
  const params = check.object(body.params, "params");
  const select = selection(body, check, { payload: defaults.payload, vectors: false });
  const request: QueryRequest = {
    vector: using === undefined ? (vector as number[] | undefined) : { [using]: vector ?? [] },
    limit,
    offset,
    ...readOptions(select),
  };
  if (f.filter) request.filter = f.filter;
  if (params) {
    const ef = check.int(params.hnsw_ef, "params.hnsw_ef", 1);
    if (ef !== undefined) request.ef = ef;
    if (check.bool(params.exact, "params.exact")) request.exact = true;
  }
  return { request, vectorName: using, threshold, select };
}

/** A `query` body (points/query). */
export function planQuery(body: Json, check: Checker): PlannedSearch {
  const { vector, mmr } = body.query === undefined ? { vector: undefined } : nearest(body.query, check);
  if (body.query === undefined) throw unsupported(QDRANT, "a query without `query` (random or ordered listing)");
  const using = check.string(body.using, "using");
  const planned = common(body, check, vector, using, { payload: false });
  if (mmr) {
    const diversity = check.number(mmr.diversity, "query.mmr.diversity") ?? 0.5;
    if (diversity < 0 || diversity > 1) check.fail("query.mmr.diversity", "must be between 0 and 1");
    const candidates = check.int(mmr.candidates_limit, "query.mmr.candidates_limit", 1) ?? 100;
    const { limit = 10, offset = 0 } = planned.request;
    planned.mmr = { diversity, candidates: Math.max(candidates, limit + offset), limit, offset };
    planned.request = { ...planned.request, limit: planned.mmr.candidates, offset: 0, withVectors: true };
  }
  return planned;
}

/** A `search` body (points/search, the older API). */
export function planSearch(body: Json, check: Checker): PlannedSearch {
  const v = body.vector;
  if (isObject(v)) {
    if ("indices" in v) check.fail("vector", "a sparse vector is searched as { name, vector: { indices, values } }");
    const name = check.string(v.name, "vector.name");
    // A NamedSparseVector: { name, vector: { indices, values } }.
    const vector = isObject(v.vector)
      ? check.sparse(v.vector, "vector.vector")
      : check.vector(v.vector, "vector.vector");
    return common(body, check, vector, name, { payload: false });
  }
  return common(body, check, check.vector(v, "vector"), undefined, { payload: false });
}

/**
 * Maximal marginal relevance over the candidates: each step takes the candidate with the best
 * (1 - diversity) * relevance - diversity * (closest similarity to one already taken).
 */
function mmrSelect(
  result: QueryResult,
  metric: Metric,
  name: string,
  diversity: number,
  take: number,
): QueryResult["hits"] {
  const pool = [...result.hits];
  const chosen: QueryResult["hits"] = [];
  while (chosen.length < take && pool.length > 0) {
    let best = 0;
    let bestValue = Number.NEGATIVE_INFINITY;
    pool.forEach((h, i) => {
      const v = denseOnly(h.vectors?.[name]) ?? [];
      const redundancy =
        chosen.length === 0
          ? 0
          : Math.max(...chosen.map((c) => similarity(metric, v, denseOnly(c.vectors?.[name]) ?? [])));
      const value = (1 - diversity) * h.score - diversity * redundancy;
      if (value > bestValue) {
        bestValue = value;
        best = i;
      }
    });
    chosen.push(pool.splice(best, 1)[0]);
  }
  return chosen;
}

/** Runs a planned search and shapes its hits as Qdrant's scored points. */
export async function runSearch(
  c: CollectionApi,
  planned: PlannedSearch,
  check: Checker,
): Promise<{ points: Json[]; result: QueryResult }> {
  check.done();
  const result = await c.query(planned.request);
  const name = result.plan.vector || planned.vectorName || UNNAMED_VECTOR;
  // A collection handle's schema is a fresh copy on every read: read it once.
  const schema = c.schema;
  const metric = schema.vectors[name]?.metric ?? "cosine";
  let hits = result.hits;
  if (planned.mmr)
    hits = mmrSelect(result, metric, name, planned.mmr.diversity, planned.mmr.limit + planned.mmr.offset).slice(
      planned.mmr.offset,
    );
  // One pass, each point built once in its final shape (no filtered copy, no spread into a second object).
  const points: Json[] = [];
  for (const h of hits) {
    const score = qdrantScore(metric, h.score);
    if (!passes(metric, score, planned.threshold)) continue;
    const p = point(h, schema, planned.select);
    p.version = 0;
    p.score = score;
    points.push(p);
  }
  return { points, result };
}

/**
 * `query/groups`: Quiver's `groupBy` finds the best hit of each of the first `limit` groups, then
 * one filtered query per group fills it up to `group_size` hits.
 */
export async function queryGroups(c: CollectionApi, body: Json): Promise<Json> {
  const check = new Checker();
  if (body.with_lookup !== undefined && body.with_lookup !== null) throw unsupported(QDRANT, "with_lookup");
  const field = check.string(body.group_by, "group_by");
  if (field === undefined) check.fail("group_by", "must be a payload key");
  const size = check.int(body.group_size, "group_size", 1) ?? 3;
  const groups = check.int(body.limit, "limit", 1) ?? 10;
  const planned = planQuery({ ...body, limit: groups, offset: 0 }, check);
  if (planned.mmr) throw unsupported(QDRANT, "mmr in query/groups");
  const key = (field ?? "").replace(/\[\]/g, "");
  const leaders = await runSearch(c, { ...planned, request: { ...planned.request, groupBy: key } }, check);
  const out: Json[] = [];
  for (const hit of leaders.result.hits) {
    const value = hit.group;
    if (typeof value !== "string" && typeof value !== "number") continue;
    const member = { [key]: value };
    const filter = planned.request.filter ? { $and: [planned.request.filter, member] } : member;
    const { points } = await runSearch(c, { ...planned, request: { ...planned.request, filter, limit: size } }, check);
    if (points.length > 0) out.push({ id: value, hits: points });
  }
  return { groups: out };
}
