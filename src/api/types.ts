/**
 * The one public API as interfaces: what the embedded `Database` / `Collection` classes offer and
 * what the HTTP client (`quiverdb/client`) implements, so code and tests can be written against either.
 * The contract owns its types: the database implements them and this folder imports nothing from it.
 */
import type { CollectionInfo, CollectionSchema } from "../core/schema/schema.js";
import type { Deadline } from "../core/util/deadline.js";
import type { Filter, QueryRequest, QueryResult, RecordOutput, SparseVectorInput } from "./query.js";

/** The shape users pass to `upsert`. `vector` is shorthand when the collection has one named vector. */
export interface RecordInput {
  id: string;
  /**
   * Text instead of numbers embeds it, for a vector bound to an embedder in the schema. A sparse
   * vector is `{ indices, values }` or `{ "17": 0.4, ... }`.
   */
  vectors?: Record<string, ArrayLike<number> | string | SparseVectorInput>;
  vector?: ArrayLike<number> | string;
  payload?: Record<string, unknown>;
}

export interface ReadOptions {
  withPayload?: boolean;
  withVectors?: boolean;
}

export interface ScrollRequest extends ReadOptions {
  /** The `nextCursor` of the previous page; omit for the first page. */
  cursor?: string;
  /** Records per page (default 100). */
  limit?: number;
  filter?: Filter;
}

/**
 * Per-call options of the reads (and of delete by filter). In-process only: the HTTP client does
 * not send them (the server gives each request its own deadline, `--request-timeout-ms`).
 */
export interface CallOptions {
  /**
   * Checked at safe points of the call's long loops; once past, the call rejects with TIMEOUT.
   * A delete by filter checks it only while choosing its records, never after logging them.
   * @example await docs.query(req, { deadline: Deadline.after(2_000, () => performance.now()) });
   */
  deadline?: Deadline;
}

/** Per named vector, for `db.stats()` and `quiver stats`. */
export interface VectorStats {
  name: string;
  count: number;
  /** Dense: `flat` (exact scans) until a graph exists, then `hnsw`. Sparse: `inverted`. */
  index: "flat" | "hnsw" | "inverted";
  quantization?: string;
  /** Where the full f32 vectors are: in memory, or in a scratch file (`originals: "disk"`). */
  originals: "memory" | "disk";
  /** Set when the schema asks for `originals: "disk"` but they are in memory, with the reason. */
  note?: string;
  /**
   * Bytes per vector: the full f32 vector, what a graph traversal reads per comparison, the graph
   * links; `resident`: vector data held in memory (f32 unless on disk, plus codes and correction);
   * `onDisk`: f32 bytes in the scratch file.
   */
  bytesPerVector: { full: number; traversal: number; links: number; resident: number; onDisk: number };
  /** Sparse vectors: the postings (index, weight pairs) their inverted index holds. */
  postings?: number;
}

export interface DatabaseStats {
  /** vectorBytes: memory of the vector slabs (vectors, codes, graphs); vectorDiskBytes: f32 vectors in scratch files. */
  collections: {
    name: string;
    count: number;
    vectorBytes: number;
    vectorDiskBytes: number;
    textBytes: number;
    segments: number;
    vectors: VectorStats[];
  }[];
  /** The distance kernels: `wasm-simd`, or `scalar` (the TypeScript reference, where SIMD is unavailable). */
  kernels: string;
  /**
   * Set when this runtime cannot run the HNSW module (no WebAssembly SIMD, or compiling refused and
   * `wasm.hnsw` not given), with the reason: no graphs are built and every vector query is an exact scan.
   */
  hnswUnavailable?: string;
  walBytes: number;
  lastCheckpointSeq: number;
  seq: number;
}

/**
 * One collection. The request and result types are declared here, in the contract; the embedded
 * classes and the HTTP client both implement it, and the server's body schemas are checked against it.
 */
export interface CollectionApi {
  readonly name: string;
  /** The collection's schema as it was when the handle was obtained. */
  readonly schema: CollectionSchema;
  upsert(records: RecordInput[]): Promise<{ upserted: number }>;
  delete(ids: string[]): Promise<{ deleted: number }>;
  /** `call.deadline` (in-process only, see CallOptions) bounds the reads and the choice of what to delete. */
  deleteByFilter(filter: Filter, call?: CallOptions): Promise<{ deleted: number }>;
  get(ids: string[], opts?: ReadOptions): Promise<RecordOutput[]>;
  count(filter?: Filter, call?: CallOptions): Promise<number>;
  scroll(req?: ScrollRequest, call?: CallOptions): Promise<{ records: RecordOutput[]; nextCursor: string | null }>;
  query(req: QueryRequest, call?: CallOptions): Promise<QueryResult>;
}

/** A database: embedded (`open()`) or remote (`connect()` from `quiverdb/client`). */
export interface DatabaseApi {
  createCollection(name: string, schema: CollectionSchema, opts?: { ifNotExists?: boolean }): Promise<CollectionApi>;
  collection(name: string): Promise<CollectionApi>;
  listCollections(): Promise<CollectionInfo[]>;
  dropCollection(name: string): Promise<boolean>;
  stats(): Promise<DatabaseStats>;
  checkpoint(): Promise<void>;
  /** Embedded: flushes and releases the directory. Remote: ends this client (the server keeps running). */
  close(): Promise<void>;
}
