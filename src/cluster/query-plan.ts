/**
 * How the router runs one query over a sharded collection: which requests each shard gets and how
 * their answers merge (src/cluster/merge.ts). A single-source query goes to every shard as it is,
 * asking each for `offset + limit` hits. A query fusing several sources (text, a dense vector, a
 * sparse vector) is split into one request per source, `depth` deep as one node's own lists, and the
 * merged lists are fused as one node fuses its own. Reciprocal rank fusion needs nothing more;
 * z-score and min-max also need each source's collection-wide statistics, which every shard gives
 * with its lists and the router sums (BM25's moments; the vectors' id-hash sample,
 * database/sample-stats.ts), and each source's scores of the documents that only the other lists
 * have, asked of their shards in a last round. Ties in fused score go by id.
 * A query with a text source first asks every shard for its BM25 statistics of the query's terms
 * (`text`), and sends their sum with the requests, so every shard scores text as one node would.
 */
import type { QueryRequest, QueryResult } from "../api/query.js";
import { QuiverError } from "../core/errors/errors.js";
import { isSparseSpec } from "../core/schema/schema.js";
import {
  type FusionParts,
  type LevelStats,
  type ScoresWanted,
  type TextMoments,
  sampleMoments,
} from "../database/fusion-parts.js";
import { type MergedSource, type SourceName, fuseLists, mergePlans, mergeTop } from "./merge.js";
import type { ShardedCollection } from "./shard-map.js";

/** One node's default depth of each source's list before fusing (src/database/query-request.ts). */
const DEFAULT_FUSION_DEPTH = 100;

export interface ShardQueryPlan {
  /** Requests sent to every shard. */
  requests: QueryRequest[];
  /** The text whose BM25 statistics the requests need summed over the shards, when one searches text. */
  text?: { query: string; fields?: string[] };
  /** Z-score and min-max: the request whose `fusion` parts (database/fusion-parts.ts) every shard gives. */
  fusion?: QueryRequest;
  /** With `fusion`: per source, the ids of the merged lists' documents that its own list lacks. */
  wanted?(answers: QueryResult[][]): ScoresWanted;
  /**
   * The answer from `answers[i]`: the shards' results of `requests[i]` (the shards that answered);
   * with `fusion`, the shards' statistics and the scores `wanted` (by source, then id).
   */
  merge(answers: QueryResult[][], parts?: FusionAnswers): QueryResult;
}

export interface FusionAnswers {
  stats: FusionParts["stats"][];
  scores: Map<SourceName, Map<string, number | null>>;
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
  if (req.groupBy !== undefined)
    throw QuiverError.fromProblems("INVALID_ARGUMENT", [
      { path: "groupBy", message: `a fused query over ${c.shards} shards cannot be grouped yet` },
    ]);
  const depth = Math.max(needed, req.fusion?.depth ?? DEFAULT_FUSION_DEPTH);
  const fusion = { method, k: req.fusion?.k ?? 60 };
  const lists = (answers: QueryResult[][]) =>
    sources.map((s, i) => ({
      name: s.name,
      hits: mergeTop(
        answers[i].map((a) => a.hits),
        depth,
        false,
      ),
      weight: req.fusion?.weights?.[s.name] ?? 1,
    }));
  return {
    requests: sources.map((s) => ({ ...s.request, limit: depth, offset: 0 })),
    text,
    ...(method !== "rrf" && {
      fusion: { ...req, limit: 1, offset: 0 },
      wanted: (answers) => {
        const merged = lists(answers);
        const all = new Set(merged.flatMap((l) => l.hits.map((h) => h.id)));
        const wanted: ScoresWanted = {};
        for (const l of merged) {
          const own = new Set(l.hits.map((h) => h.id));
          wanted[l.name] = [...all].filter((id) => !own.has(id));
        }
        return wanted;
      },
    }),
    merge: (answers, parts) => {
      const merged: MergedSource[] = lists(answers);
      if (parts)
        for (const l of merged) {
          const stats = parts.stats.map((p) => p[l.name]);
          Object.assign(
            l,
            l.name === "text" ? sumMoments(stats as TextMoments[]) : sampleMoments(stats as LevelStats[]),
          );
          // Text scores a document without a query term 0, as one node does.
          l.scoreOf = new Map(
            [...(parts.scores.get(l.name) ?? [])].map(([id, x]) => [id, x ?? (l.name === "text" ? 0 : undefined)]),
          );
        }
      const plans = answers.flat().map((a) => a.plan);
      const label = method === "rrf" ? `rrf(k=${fusion.k})` : method;
      return {
        hits: fuseLists(merged, fusion, needed, req.explain === true).slice(offset),
        plan: plans.length ? mergePlans(plans, label) : emptyResult().plan,
      };
    },
  };
}

/** One node's BM25 mean and deviation: over every document having a searched field, or every one matched if more. */
function sumMoments(parts: readonly TextMoments[]): { mean: number; std: number } {
  let [sum, sumSq, matched, population] = [0, 0, 0, 0];
  for (const p of parts) {
    sum += p.sum;
    sumSq += p.sumSq;
    matched += p.matched;
    population = Math.max(population, p.population);
  }
  const n = Math.max(population, matched, 1);
  const mean = sum / n;
  return { mean, std: Math.sqrt(Math.max(0, sumSq / n - mean * mean)) };
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
