/**
 * Collection schema types: named vectors (dimension and metric) and payload index declarations.
 * Pure data, shared by validation, storage formats and the public API.
 */

export type Metric = "cosine" | "dot" | "l2";

export interface VectorSpec {
  /** Number of components, 1 to 65,536. */
  dim: number;
  /** Similarity; every score is "higher = closer": cosine similarity, dot product, or negated Euclidean distance. */
  metric: Metric;
}

export type PayloadIndexType = "keyword" | "number" | "boolean";

export interface CollectionSchema {
  /** One or more named vectors, e.g. `{ text: { dim: 384, metric: "cosine" } }`. */
  vectors: Record<string, VectorSpec>;
  /** Payload fields (dotted paths) to index for filters, e.g. `{ lang: "keyword", year: "number" }`. */
  indexes?: Record<string, PayloadIndexType>;
}

/** What `listCollections()` and `stats()` report per collection. */
export interface CollectionInfo {
  name: string;
  schema: CollectionSchema;
  count: number;
}
