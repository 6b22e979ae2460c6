/**
 * Validation of a query request against a collection: every option checked, every problem
 * reported with its path, and the request turned into the SearchSpec that search.ts executes.
 */
import { QuiverError, type Problem } from "../core/errors/errors.js";
import { FUSION_METHODS, type FusionMethod } from "../core/query/fusion/fuse.js";
import type { CollectionState } from "./collection-state.js";
import type { QueryRequest } from "../api/query.js";
import type { Limits } from "../api/limits.js";
import { DEFAULT_FUSION_DEPTH, SOURCES, type SearchSpec } from "./search.js";
import { validateQueryVector } from "./validate.js";
import { toSparseVector } from "../core/index/sparse/sparse-vector.js";

/** An integer option from `min` to `max`: malformed or below `min` is INVALID_ARGUMENT, above `max` (a limit) LIMIT_EXCEEDED. */
export function checkCount(v: unknown, path: string, min: number, max: number, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v === "number" && Number.isInteger(v) && v > max && max >= min) {
    throw QuiverError.fromProblems("LIMIT_EXCEEDED", [
      { path, message: `must be an integer from ${min} to ${max}, got ${v}` },
    ]);
  }
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    throw QuiverError.fromProblems("INVALID_ARGUMENT", [
      { path, message: `must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}` },
    ]);
  }
  return v;
}

/**
 * Refuses a query whose texts (`text` / `text.query`, and a `vector` given as text to embed) are
 * longer than maxQueryTextLength: analysis and embedding cost grows with them. Checked before the
 * shape of the request, and before any embedding is paid for; its own code (422).
 */
export function checkQueryTextLength(req: QueryRequest, limits: Limits): void {
  if (typeof req !== "object" || req === null) return;
  const problems: Problem[] = [];
  const over = (text: unknown, path: string) => {
    if (typeof text === "string" && text.length > limits.maxQueryTextLength)
      problems.push({
        path,
        message: `at most ${limits.maxQueryTextLength} characters (maxQueryTextLength), got ${text.length}`,
      });
  };
  const { text, vector } = req as { text?: unknown; vector?: unknown };
  over(text, "text");
  if (typeof text === "object" && text !== null) over((text as { query?: unknown }).query, "text.query");
  over(vector, "vector");
  if (typeof vector === "object" && vector !== null && !Array.isArray(vector) && !ArrayBuffer.isView(vector))
    for (const [name, v] of Object.entries(vector)) over(v, `vector.${name}`);
  if (problems.length > 0) throw QuiverError.fromProblems("LIMIT_EXCEEDED", problems);
}

/** The checked request (the filter is parsed by the caller, which owns the filter limits). */
export function parseQueryRequest(
  state: CollectionState,
  req: QueryRequest,
  limits: Limits,
): { spec: SearchSpec; limit: number; offset: number } {
  if (typeof req !== "object" || req === null) {
    throw QuiverError.fromProblems("INVALID_ARGUMENT", [
      { path: "query", message: "must be an object { vector?, text?, filter?, limit? }" },
    ]);
  }
  const limit = checkCount(req.limit, "limit", 1, limits.maxTopK, 10);
  const offset = checkCount(req.offset, "offset", 0, limits.maxTopK - limit, 0);
  checkQueryTextLength(req, limits);
  const problems: Problem[] = [];
  const spec: SearchSpec = {
    fusion: { method: "zscore", k: 60, weights: [...SOURCES.map(() => 1)], depth: DEFAULT_FUSION_DEPTH },
    maxGroupScan: limits.maxGroupScan,
  };
  if (req.vector === undefined && req.text === undefined) {
    problems.push({ path: "query", message: "needs a vector, a text, or both" });
  }
  if (req.vector !== undefined) {
    const given = queryVectors(state, req.vector, limits, problems);
    spec.vector = given.dense;
    spec.sparse = given.sparse;
  }
  checkCount(req.ef, "ef", 1, limits.maxTopK, 0);
  if (req.exact !== undefined && typeof req.exact !== "boolean")
    problems.push({ path: "exact", message: "must be true or false" });
  if (spec.vector) spec.vector.options = { ef: req.ef, exact: req.exact };
  if (req.text !== undefined) spec.text = queryText(state, req.text, problems);
  if (req.fusion !== undefined) queryFusion(req.fusion, spec, problems, limits);
  if (req.explain !== undefined && typeof req.explain !== "boolean")
    problems.push({ path: "explain", message: "must be true or false" });
  if (
    req.groupBy !== undefined &&
    (typeof req.groupBy !== "string" || req.groupBy.length === 0 || req.groupBy.split(".").some((x) => x.length === 0))
  ) {
    problems.push({
      path: "groupBy",
      message: `must be a payload field name or dotted path, got ${JSON.stringify(req.groupBy)}`,
    });
  }
  const known = [
    "vector",
    "text",
    "filter",
    "limit",
    "offset",
    "withPayload",
    "withVectors",
    "fusion",
    "explain",
    "groupBy",
    "ef",
    "exact",
  ];
  for (const key of Object.keys(req))
    if (!known.includes(key)) problems.push({ path: key, message: `unknown option (expected ${known.join(", ")})` });
  if (problems.length > 0) throw QuiverError.fromProblems("INVALID_ARGUMENT", problems);
  return { spec, limit, offset };
}

type DenseQuery = NonNullable<SearchSpec["vector"]>;
type SparseQuery = NonNullable<SearchSpec["sparse"]>;

/**
 * The query's vectors: an array for the collection's one (dense) vector, or an object naming at
 * most one dense and at most one sparse vector (both together make a hybrid query).
 */
function queryVectors(
  state: CollectionState,
  v: unknown,
  limits: Limits,
  problems: Problem[],
): { dense?: DenseQuery; sparse?: SparseQuery } {
  const names = Object.keys(state.schema.vectors);
  const path = "vector";
  if (names.length === 0) {
    throw QuiverError.fromProblems("INVALID_ARGUMENT", [
      { path, message: "this collection has no vectors; search it with text" },
    ]);
  }
  if (Array.isArray(v) || v instanceof Float32Array || v instanceof Float64Array) {
    if (names.length !== 1 || state.schema.vectors[names[0]].kind === "sparse") {
      throw QuiverError.fromProblems("INVALID_ARGUMENT", [
        {
          path,
          message:
            names.length !== 1
              ? `this collection has several vectors (${names.join(", ")}): pass { name: [...] }`
              : `${names[0]} is a sparse vector: pass { ${names[0]}: { indices, values } }`,
        },
      ]);
    }
    const spec = state.schema.vectors[names[0]];
    return { dense: { name: names[0], query: validateQueryVector(v, spec.dim!, spec.metric!, path) } };
  }
  const given = typeof v === "object" && v !== null ? Object.keys(v) : [];
  if (given.length === 0 || given.length > 2) {
    throw QuiverError.fromProblems("INVALID_ARGUMENT", [
      {
        path,
        message: "must be an array of numbers, or { name: vector } naming one vector (or one dense and one sparse)",
      },
    ]);
  }
  const out: { dense?: DenseQuery; sparse?: SparseQuery } = {};
  for (const name of given) {
    const p = `vector.${name}`;
    const raw = (v as Record<string, unknown>)[name];
    if (!Object.hasOwn(state.schema.vectors, name)) {
      problems.push({ path: p, message: `unknown vector; this collection has ${names.join(", ")}` });
      continue;
    }
    const spec = state.schema.vectors[name];
    const kind = spec.kind === "sparse" ? "sparse" : "dense";
    if (out[kind]) {
      problems.push({ path: p, message: `a query takes one ${kind} vector; ${out[kind].name} is already given` });
      continue;
    }
    if (spec.kind !== "sparse") {
      out.dense = { name, query: validateQueryVector(raw, spec.dim, spec.metric, p) };
      continue;
    }
    const s = toSparseVector(raw, p, limits.maxSparseNonZeros, problems);
    if (s.tooLarge) throw QuiverError.fromProblems("LIMIT_EXCEEDED", problems);
    if (s.vector) out.sparse = { name, query: s.vector };
  }
  return out;
}

function queryText(
  state: CollectionState,
  t: unknown,
  problems: Problem[],
): { query: string; fields?: string[] } | undefined {
  const declared = Object.keys(state.schema.text ?? {});
  if (declared.length === 0) {
    problems.push({
      path: "text",
      message: "this collection has no text fields; declare some in its schema, e.g. text: { body: {} }",
    });
    return undefined;
  }
  if (typeof t === "string") return { query: t };
  if (typeof t !== "object" || t === null || Array.isArray(t)) {
    problems.push({ path: "text", message: "must be a string, or { query, fields? }" });
    return undefined;
  }
  const o = t as Record<string, unknown>;
  if (typeof o.query !== "string")
    problems.push({ path: "text.query", message: `must be a string, got ${JSON.stringify(o.query)}` });
  let fields: string[] | undefined;
  if (o.fields !== undefined) {
    if (!Array.isArray(o.fields) || o.fields.length === 0) {
      problems.push({ path: "text.fields", message: "must be a non-empty array of text field names" });
    } else {
      o.fields.forEach((f, i) => {
        if (typeof f !== "string" || !declared.includes(f))
          problems.push({
            path: `text.fields[${i}]`,
            message: `must be one of the text fields (${declared.join(", ")}), got ${JSON.stringify(f)}`,
          });
      });
      fields = o.fields as string[];
    }
  }
  for (const key of Object.keys(o))
    if (key !== "query" && key !== "fields")
      problems.push({ path: `text.${key}`, message: "unknown option (expected query, fields)" });
  return { query: o.query as string, fields };
}

function queryFusion(f: unknown, spec: SearchSpec, problems: Problem[], limits: Limits): void {
  if (typeof f !== "object" || f === null || Array.isArray(f)) {
    problems.push({ path: "fusion", message: 'must be an object such as { method: "rrf", k: 60 }' });
    return;
  }
  const o = f as Record<string, unknown>;
  if (o.method !== undefined) {
    if (!FUSION_METHODS.includes(o.method as FusionMethod))
      problems.push({
        path: "fusion.method",
        message: `must be one of ${FUSION_METHODS.join(", ")}, got ${JSON.stringify(o.method)}`,
      });
    else spec.fusion.method = o.method as FusionMethod;
  }
  if (o.k !== undefined) {
    if (typeof o.k !== "number" || !Number.isFinite(o.k) || o.k < 0)
      problems.push({ path: "fusion.k", message: `must be a non-negative number, got ${JSON.stringify(o.k)}` });
    else spec.fusion.k = o.k;
  }
  if (o.depth !== undefined) {
    if (typeof o.depth !== "number" || !Number.isInteger(o.depth) || o.depth < 1 || o.depth > limits.maxTopK)
      problems.push({
        path: "fusion.depth",
        message: `must be an integer from 1 to ${limits.maxTopK}, got ${JSON.stringify(o.depth)}`,
      });
    else spec.fusion.depth = o.depth;
  }
  if (o.weights !== undefined) {
    if (typeof o.weights !== "object" || o.weights === null || Array.isArray(o.weights)) {
      problems.push({ path: "fusion.weights", message: `must be an object { ${SOURCES.join("?, ")}? }` });
    } else {
      const w = o.weights as Record<string, unknown>;
      SOURCES.forEach((name, i) => {
        const x = w[name];
        if (x === undefined) return;
        if (typeof x !== "number" || !Number.isFinite(x) || x < 0)
          problems.push({
            path: `fusion.weights.${name}`,
            message: `must be a non-negative number, got ${JSON.stringify(x)}`,
          });
        else spec.fusion.weights[i] = x;
      });
      for (const key of Object.keys(w))
        if (!(SOURCES as readonly string[]).includes(key))
          problems.push({ path: `fusion.weights.${key}`, message: `unknown source (expected ${SOURCES.join(", ")})` });
    }
  }
  for (const key of Object.keys(o))
    if (!["method", "k", "weights", "depth"].includes(key))
      problems.push({ path: `fusion.${key}`, message: "unknown option (expected method, k, weights, depth)" });
}
