/**
 * Validation of a query request against a collection: every option checked, every problem
 * reported with its path, and the request turned into the SearchSpec that search.ts executes.
 */
import { QuiverError, type Problem } from "../core/errors/errors.js";
import { FUSION_METHODS, type FusionMethod } from "../core/query/fusion/fuse.js";
import type { CollectionState } from "./collection-state.js";
import type { QueryRequest } from "../api/query.js";
import type { Limits } from "../api/limits.js";
import { DEFAULT_FUSION_DEPTH, type SearchSpec } from "./search.js";
import { validateQueryVector } from "./validate.js";

export function checkCount(v: unknown, path: string, min: number, max: number, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    throw QuiverError.fromProblems("INVALID_ARGUMENT", [
      { path, message: `must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}` },
    ]);
  }
  return v;
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
  const problems: Problem[] = [];
  const spec: SearchSpec = { fusion: { method: "zscore", k: 60, weights: [1, 1], depth: DEFAULT_FUSION_DEPTH } };
  if (req.vector === undefined && req.text === undefined) {
    problems.push({ path: "query", message: "needs a vector, a text, or both" });
  }
  if (req.vector !== undefined) spec.vector = queryVector(state, req.vector);
  if (
    req.ef !== undefined &&
    (typeof req.ef !== "number" || !Number.isInteger(req.ef) || req.ef < 1 || req.ef > limits.maxTopK)
  ) {
    problems.push({
      path: "ef",
      message: `must be an integer from 1 to ${limits.maxTopK}, got ${JSON.stringify(req.ef)}`,
    });
  }
  if (req.exact !== undefined && typeof req.exact !== "boolean")
    problems.push({ path: "exact", message: "must be true or false" });
  if (spec.vector) spec.vector.options = { ef: req.ef, exact: req.exact };
  if (req.text !== undefined) spec.text = queryText(state, req.text, problems);
  const textLength = typeof spec.text?.query === "string" ? spec.text.query.length : 0;
  if (textLength > limits.maxQueryTextLength) {
    // Checked apart from the shape problems: asking for too much work is its own code (422).
    throw QuiverError.fromProblems("LIMIT_EXCEEDED", [
      {
        path: typeof req.text === "string" ? "text" : "text.query",
        message: `at most ${limits.maxQueryTextLength} characters (maxQueryTextLength), got ${textLength}`,
      },
    ]);
  }
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

function queryVector(
  state: CollectionState,
  v: unknown,
): { name: string; query: Float32Array; options?: { ef?: number; exact?: boolean } } {
  const names = Object.keys(state.schema.vectors);
  let vectorName: string;
  let raw: unknown;
  let path = "vector";
  if (names.length === 0) {
    throw QuiverError.fromProblems("INVALID_ARGUMENT", [
      { path, message: "this collection has no vectors; search it with text" },
    ]);
  }
  if (Array.isArray(v) || v instanceof Float32Array || v instanceof Float64Array) {
    if (names.length !== 1) {
      throw QuiverError.fromProblems("INVALID_ARGUMENT", [
        { path, message: `this collection has several vectors (${names.join(", ")}): pass { name: [...] }` },
      ]);
    }
    vectorName = names[0];
    raw = v;
  } else if (typeof v === "object" && v !== null && Object.keys(v).length === 1) {
    vectorName = Object.keys(v)[0];
    raw = (v as Record<string, unknown>)[vectorName];
    path = `vector.${vectorName}`;
    if (!Object.hasOwn(state.schema.vectors, vectorName)) {
      throw QuiverError.fromProblems("INVALID_ARGUMENT", [
        { path, message: `unknown vector; this collection has ${names.join(", ")}` },
      ]);
    }
  } else {
    throw QuiverError.fromProblems("INVALID_ARGUMENT", [
      { path, message: "must be an array of numbers, or { name: array } naming one vector" },
    ]);
  }
  const spec = state.schema.vectors[vectorName];
  return { name: vectorName, query: validateQueryVector(raw, spec.dim, spec.metric, path) };
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
      problems.push({ path: "fusion.weights", message: "must be an object { text?, vector? }" });
    } else {
      const w = o.weights as Record<string, unknown>;
      (["text", "vector"] as const).forEach((name, i) => {
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
        if (key !== "text" && key !== "vector")
          problems.push({ path: `fusion.weights.${key}`, message: "unknown source (expected text, vector)" });
    }
  }
  for (const key of Object.keys(o))
    if (!["method", "k", "weights", "depth"].includes(key))
      problems.push({ path: `fusion.${key}`, message: "unknown option (expected method, k, weights, depth)" });
}
