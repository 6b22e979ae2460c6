/**
 * Collection schema types: named vectors (dense: dimension and metric; sparse: index -> weight),
 * payload index declarations and full-text fields. Pure data, shared by validation, storage
 * formats and the public API.
 */
import type { TextFieldSpec } from "../analysis/analyzer.js";

export type { TextFieldSpec };

export type Metric = "cosine" | "dot" | "l2";

/** A dense named vector: a fixed number of float32 components. */
export interface VectorSpec {
  /** `dense` (the default when omitted). */
  kind?: "dense";
  /** Number of components, 1 to 65,536. */
  dim: number;
  /** Similarity; every score is "higher = closer": cosine similarity, dot product, or negated Euclidean distance. */
  metric: Metric;
  /**
   * Name of an embedder the database was opened with (`open(path, { embedders: { local: ... } })`):
   * then `upsert` and `query` accept text in place of this vector and embed it.
   */
  embedder?: string;
  /** With `embedder`: a payload field (dotted path) whose text fills this vector when a record omits it. */
  source?: string;
  /** How this vector is searched; default `{ type: "auto" }`. */
  index?: VectorIndexSpec;
}

/**
 * `auto` (default): exact search until the vector has 10,000 records, then an HNSW graph;
 * `flat`: always exact; `hnsw`: a graph from the first record.
 */
export interface VectorIndexSpec {
  type?: "auto" | "flat" | "hnsw";
  /** Graph links per node (default 16). */
  m?: number;
  /** Beam width while inserting (default 200). */
  efConstruction?: number;
  /** Default beam width of a search (default 64); a query may pass its own `ef`. */
  efSearch?: number;
  /** Codes the graph traversal compares, re-ranked on the full vectors: `int8` (default), `binary` (high-dimensional cosine), `none`. */
  quantization?: "none" | "int8" | "binary";
  /**
   * Where the full-precision (f32) vectors live: `memory` (default), or `disk`, where only the
   * quantized codes stay in memory (int8: dim + 4 bytes per vector instead of 4·dim + dim + 4) and the
   * f32 vectors sit in a scratch file that re-ranking and exact search read through the OS page cache.
   * The graph is then built on the codes (recall within about 0.01 of `memory`) and searches cost
   * some speed. Needs `quantization` `int8` or `binary` (unless `type` is `flat`) and a database on a
   * file system; an in-memory database keeps them in memory (`stats()` says which). The file is a
   * cache rebuilt from the durable records at every open, so it needs no backup and no sync.
   * @example { type: "hnsw", quantization: "int8", originals: "disk" }
   */
  originals?: "memory" | "disk";
}

/**
 * A sparse named vector: index -> weight pairs (e.g. SPLADE, BGE-M3's sparse head, or BM25 term
 * weights computed elsewhere), given as `{ indices, values }` or `{ "17": 0.4, ... }`, searched by
 * dot product through an inverted index (exact top k).
 * @example { terms: { kind: "sparse" } }
 */
export interface SparseVectorSpec {
  kind: "sparse";
  // Absent on a sparse vector; declared so code reading an optional dense option (an embedder,
  // an index) from either kind needs no narrowing, while code needing dim or metric must narrow.
  dim?: never;
  metric?: never;
  embedder?: never;
  source?: never;
  index?: never;
}

/** Either kind of named vector. */
export type NamedVectorSpec = VectorSpec | SparseVectorSpec;

export function isSparseSpec(spec: NamedVectorSpec): spec is SparseVectorSpec {
  return spec.kind === "sparse";
}

/** The schema's dense vectors only (what slabs, graphs and embedders deal with). */
export function denseVectors(schema: CollectionSchema): Record<string, VectorSpec> {
  const out: Record<string, VectorSpec> = {};
  for (const [name, spec] of Object.entries(schema.vectors)) if (!isSparseSpec(spec)) out[name] = spec;
  return out;
}

export type PayloadIndexType = "keyword" | "number" | "boolean";

export interface CollectionSchema {
  /**
   * Named vectors, e.g. `{ text: { dim: 384, metric: "cosine" }, terms: { kind: "sparse" } }`; may be
   * empty (`{}`) when `text` declares a field.
   */
  vectors: Record<string, NamedVectorSpec>;
  /** Payload fields (dotted paths) to index for filters, e.g. `{ lang: "keyword", year: "number" }`. */
  indexes?: Record<string, PayloadIndexType>;
  /** Payload fields (dotted paths) indexed for full-text BM25 search, e.g. `{ title: { analyzer: "english", boost: 2 }, body: {} }`. */
  text?: Record<string, TextFieldSpec>;
  /** BM25 parameters for the text fields (default k1 1.2, b 0.75, as Lucene and Elasticsearch). */
  bm25?: { k1?: number; b?: number };
}

/** What `listCollections()` and `stats()` report per collection. */
export interface CollectionInfo {
  name: string;
  schema: CollectionSchema;
  count: number;
}
