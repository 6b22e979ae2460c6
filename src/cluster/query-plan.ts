/**
 * How the router runs one query over a sharded collection: which requests each shard gets and how
 * their answers merge (src/cluster/merge.ts). A single-source query goes to every shard as it is,
 * asking each for `offset + limit` hits. A query fusing several sources (text, a dense vector, a
 * sparse vector) is split into one request per source, `depth` deep as one node's own lists, and the
 * merged lists are fused by reciprocal rank fusion; the other fusions need collection-wide score
 * statistics, so on several shards they are refused rather than answered differently from one node.
 * A query with a text source first asks every shard for its BM25 statistics of the query's terms
 * (`text`), and sends their sum with the requests, so every shard scores text as one node would.
 */
import type { QueryRequest, QueryResult } from "../api/query.js";
import { QuiverError } from "../core/errors/errors.js";
import { isSparseSpec } from "../core/schema/schema.js";
import { type SourceName, fuseRrf, mergePlans, mergeTop } from "./merge.js";
import type { ShardedCollection } from "./shard-map.js";

/** One node's default depth of each source's list before fusing (src/database/query-request.ts). */
const DEFAULT_FUSION_DEPTH = 100;

export interface ShardQueryPlan {
  /** Requests sent to every shard. */
  requests: QueryRequest[];
  /** The text whose BM25 statistics the requests need summed over the shards, when one searches text. */
  text?: { query: string; fields?: string[] };
  /** The answer from `answers[i]`: the shards' results of `requests[i]` (the shards that answered). */
  merge(answers: QueryResult[][]): QueryResult;
}

interface Source {
  name: SourceName;
  request: QueryRequest;
}

export function planQuery(req: QueryRequest, c: ShardedCollection): ShardQueryPlan {
  const limit = req.limit ?? 10;
  const offset = req.offset ?? 0;
  const needed = limit + offset;
  if (c.shards === 1) return { requests: [req], merge: (answers) => answers[0][0] ?? emptyResult() };
  const sources = sourcesOf(req, c);
  const text = sources.some((s) => s.name === "text") ? textOf(req.text) : undefined;
  if (sources.length <= 1) {
    const single: QueryRequest = { ...req, limit: needed, offset: 0 };
    if (sources[0]?.name === "text") single.mode = "text";
    return {
      requests: [single],
      text,
      merge: ([answers]) => ({
        hits: mergeTop(
          answers.map((a) => a.hits),
          needed,
          req.groupBy !== undefined,
        ).slice(offset),
        plan: answers.length ? mergePlans(answers.map((a) => a.plan)) : emptyResult().plan,
      }),
    };
  }
  const method = req.fusion?.method ?? "zscore";
  const problems = [];
  if (method !== "rrf")
    problems.push({
      path: "fusion.method",
      message: `"${method}" needs collection-wide score statistics, which a query over ${c.shards} shards does not have; use "rrf" (docs/cluster.md)`,
    });
  if (req.groupBy !== undefined)
    problems.push({ path: "groupBy", message: `a fused query over ${c.shards} shards cannot be grouped yet` });
  if (problems.length) throw QuiverError.fromProblems("INVALID_ARGUMENT", problems);
  const depth = Math.max(needed, req.fusion?.depth ?? DEFAULT_FUSION_DEPTH);
  const rrfK = req.fusion?.k ?? 60;
  return {
    requests: sources.map((s) => ({ ...s.request, limit: depth, offset: 0 })),
    text,
    merge: (answers) => {
      const merged = sources.map((s, i) => ({
        name: s.name,
        hits: mergeTop(
          answers[i].map((a) => a.hits),
          depth,
          false,
        ),
        weight: req.fusion?.weights?.[s.name] ?? 1,
      }));
      const plans = answers.flat().map((a) => a.plan);
      return {
        hits: fuseRrf(merged, rrfK, needed, req.explain === true).slice(offset),
        plan: plans.length ? mergePlans(plans, `rrf(k=${rrfK})`) : emptyResult().plan,
      };
    },
  };
}

/** The query text and fields of a request's `text` (undefined when malformed: the shards report it). */
function textOf(text: QueryRequest["text"]): ShardQueryPlan["text"] {
  if (typeof text === "string") return { query: text };
  if (typeof text !== "object" || text === null || typeof text.query !== "string") return undefined;
  const fields =
    Array.isArray(text.fields) && text.fields.every((f) => typeof f === "string") ? text.fields : undefined;
  return { query: text.query, fields };
}

/** The sources a request runs, each as a request of its own. */
function sourcesOf(req: QueryRequest, c: ShardedCollection): Source[] {
  const { vector, text, mode, fusion: _fusion, limit: _limit, offset: _offset, ...common } = req;
  const sources: Source[] = [];
  if (text !== undefined && mode !== "vector")
    sources.push({ name: "text", request: { ...common, text, mode: "text" } });
  if (vector === undefined || mode === "text") return sources;
  if (typeof vector === "string" || Array.isArray(vector) || ArrayBuffer.isView(vector)) {
    sources.push({ name: "vector", request: { ...common, vector } });
    return sources;
  }
  for (const [name, v] of Object.entries(vector as Record<string, unknown>)) {
    const spec = c.schema.vectors[name];
    const kind: SourceName = spec && isSparseSpec(spec) ? "sparse" : "vector";
    sources.push({ name: kind, request: { ...common, vector: { [name]: v } as QueryRequest["vector"] } });
  }
  return sources;
}

function emptyResult(): QueryResult {
  return {
    hits: [],
    plan: { strategy: "exact-scan", vector: "", candidates: 0, usedIndexes: false, payloadsChecked: 0 },
  };
}
