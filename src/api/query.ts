/**
 * The query part of the contract: the request (vector, text, hybrid, filter, fusion, grouping),
 * the hits, their explanations, and the plan every query reports.
 */
import type { FusionMethod } from "../core/query/fusion/fuse.js";
import type { SparseVectorInput } from "../core/index/sparse/sparse-vector.js";

export type { SparseVectorInput };

/** A sparse vector as returned: indices ascending, `values[i]` the weight of `indices[i]`. */
export interface SparseVectorOutput {
  indices: number[];
  values: number[];
}

/** A returned vector if it is dense (an array), else undefined: for code that only handles dense vectors. */
export function denseOnly(v: number[] | SparseVectorOutput | undefined): number[] | undefined {
  return Array.isArray(v) ? v : undefined;
}

/** Which sources a query runs: the vector, the text (BM25), or both fused. */
export type QueryMode = "vector" | "text" | "hybrid";
export const QUERY_MODES: readonly QueryMode[] = ["vector", "text", "hybrid"];

/** A filter in Quiver's filter language (docs/filters.md), e.g. `{ lang: "en", year: { $gte: 2020 } }`. */
export type Filter = Record<string, unknown>;

/**
 * A picture as a query of an image collection: its encoded bytes (JPEG, PNG, WebP) in base64, or a
 * `data:` URL. Embedded by the image embedder that made the collection's vectors (docs/images.md).
 */
export interface ImageQueryInput {
  base64: string;
}

export interface QueryRequest {
  /**
   * The query vector: an array when the collection has one named vector, else `{ name: array }`.
   * A sparse vector is named: `{ terms: { indices, values } }`. One dense and one sparse vector
   * together (`{ dense: [...], terms: {...} }`) make a hybrid query, fused like text and vector.
   */
  vector?:
    | ArrayLike<number>
    | string
    | Record<string, ArrayLike<number> | string | SparseVectorInput | ImageQueryInput>;
  /** Full-text query, searched with BM25 in every text field, or `{ query, fields }` to choose fields. */
  text?: string | { query: string; fields?: string[] };
  /**
   * Which sources run (a part of the request the mode does not use is not searched). Default: what
   * the request gives, except that a `text` alone runs hybrid on a collection with text fields and
   * a vector bound to an embedder (a document collection), the text's embedding as the vector, and
   * runs on that vector when the collection has no text fields. A vector the mode needs and the
   * request lacks is embedded from `text`. See src/database/query-mode.ts.
   */
  mode?: QueryMode;
  filter?: Filter;
  /** Hits to return (default 10). */
  limit?: number;
  /** Hits to skip first, for paging (default 0). */
  offset?: number;
  /** Include payloads (default true). */
  withPayload?: boolean;
  /** Include vectors (default false). Cosine vectors are returned normalised, as stored. */
  withVectors?: boolean;
  /** How a hybrid query (text and vector) fuses the two rankings; see docs/search.md. Default `{ method: "zscore" }`. */
  fusion?: FusionRequest;
  /** Beam width of a graph (HNSW) search: higher is more accurate and slower (default: the vector's efSearch, 64). */
  ef?: number;
  /** Scan exactly even when the vector has a graph (the true top-k, at the cost of a full scan). */
  exact?: boolean;
  /** Attach to each hit its rank and score in each source (`hit.explain`). */
  explain?: boolean;
  /** A payload field (dotted path): keep only the best hit per distinct value, e.g. one chunk per document. */
  groupBy?: string;
}

export interface FusionRequest {
  /** `zscore` (default): z-normalised score sum; `minmax`: min-max normalised score sum; `rrf`: reciprocal rank fusion. */
  method?: FusionMethod;
  /** RRF's rank constant (default 60). */
  k?: number;
  /** Per-source weights (default 1 each): BM25, the dense vector, the sparse vector. */
  weights?: { text?: number; vector?: number; sparse?: number };
  /** Documents taken from each source before fusing (default 100, or limit + offset if larger). */
  depth?: number;
}

export interface QueryResult {
  hits: Hit[];
  plan: QueryPlan;
}

/** A record as returned to callers. */
export interface RecordOutput {
  id: string;
  payload?: Record<string, unknown>;
  /** Dense vectors as arrays, sparse ones as `{ indices, values }`. */
  vectors?: Record<string, number[] | SparseVectorOutput>;
}

export interface Hit extends RecordOutput {
  /** Higher is closer: the vector similarity (cosine, dot, negated Euclidean distance), the BM25 score, or the fused score. */
  score: number;
  /** With `explain: true`: the hit's 1-based rank and own score in each source (null when that source did not rank it). */
  explain?: HitExplain;
  /** With `groupBy`: the value of the grouping field (absent when the record has none). */
  group?: unknown;
}

/** How a query was executed; returned with every result so slow or surprising queries can be understood. */
export interface QueryPlan {
  /**
   * `exact-scan` / `exact-filtered`: dense vector only; `hnsw-filtered` / `hnsw-acorn`: the graph walked
   * with the filter's match set; `hnsw-lazy`: the graph's candidates tested against the filter as they
   * come (no match set built); `text`: BM25 only; `sparse`: sparse vector only; `hybrid`: two or three
   * of them, fused.
   */
  strategy:
    | "exact-scan"
    | "exact-filtered"
    | "hnsw"
    | "hnsw-filtered"
    | "hnsw-acorn"
    | "hnsw-lazy"
    | "text"
    | "sparse"
    | "hybrid";
  /** The dense named vector searched, else the sparse one, or "" for a text-only query. */
  vector: string;
  /** Vector queries: records that matched the filter (estimated for `hnsw-lazy`; all live records with that vector unfiltered). Text queries: records containing a query term. */
  candidates: number;
  /** Whether payload indexes narrowed the filter before payloads were read. */
  usedIndexes: boolean;
  /** Payloads evaluated against the filter. */
  payloadsChecked: number;
  /** Text and hybrid queries: the fields searched, the query's terms per field after analysis, and the records containing any. */
  text?: { fields: string[]; terms: Record<string, string[]>; matched: number };
  /** Hybrid queries: the fusion used, e.g. `zscore` or `rrf(k=60)`. */
  fusion?: string;
  /**
   * Sparse vector searches: the vector, the query's non-zero entries, the postings in their lists
   * (what a full scan reads), the postings MaxScore read, and the documents it scored in full.
   */
  sparse?: { vector: string; terms: number; postings: number; read: number; scored: number };
  /**
   * Set when this runtime cannot run the HNSW module (no WebAssembly SIMD, or compiling it was refused
   * and it was not passed in): the vector source was an exact scan (scalar kernels without SIMD), and this says why.
   */
  hnswUnavailable?: string;
  /**
   * Filtered vector-only queries: the planner's estimate of the matching records (`from` index
   * statistics, a random sample of payloads with `low`–`high` its ~95% interval, or every payload
   * counted) and the plan it chose on it: `lazy` (the graph's candidates tested as they come),
   * `scan` (every live payload tested once, the k best kept) or `match-set` (the set of matches
   * built, through the indexes when they narrow, then scanned or walked in the graph).
   */
  filter?: {
    estimate: number;
    low: number;
    high: number;
    from: "indexes" | "sample" | "count";
    plan: "lazy" | "scan" | "match-set";
  };
  /** Graph searches: the beam width used, nodes scored, retries with a 4x wider beam, and whether an exact scan had to finish the job. */
  ann?: { ef: number; visited: number; widenings: number; fellBack: boolean };
}

export interface SourceExplain {
  /** 1-based rank in this source's list. */
  rank: number;
  /** The source's own score: BM25, the vector similarity, or the sparse dot product. */
  score: number;
}

export interface HitExplain {
  text?: SourceExplain | null;
  vector?: SourceExplain | null;
  sparse?: SourceExplain | null;
  /** The fusion that produced `score`, for hybrid queries. */
  fusion?: string;
}
