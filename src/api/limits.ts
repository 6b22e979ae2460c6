/**
 * Documented limits on what a database accepts. Every one is checked before anything reaches the
 * WAL; all can be lowered or raised per database through `open(path, { limits })`.
 */

export interface Limits {
  /** Longest record id, in UTF-8 bytes. */
  maxIdBytes: number;
  /** Largest vector dimension a schema may declare. */
  maxDimension: number;
  /** Largest payload, as serialized JSON in UTF-8 bytes. */
  maxPayloadBytes: number;
  /** Deepest nesting of objects and arrays inside a payload. */
  maxPayloadDepth: number;
  /** Most records in one `upsert` or ids in one `delete` / `get`. */
  maxBatch: number;
  /** Largest `limit + offset` of a query. */
  maxTopK: number;
  /** Deepest nesting of a filter. */
  maxFilterDepth: number;
  /** Largest filter: keys of its objects plus elements of its arrays (conditions, operators, `$in` values). */
  maxFilterSize: number;
  /** Most ranked hits a `groupBy` query examines to find its groups (the search deepens 4x at a time up to it). */
  maxGroupScan: number;
  /** Longest query text (`text` / `text.query`), in UTF-16 code units; analysis cost grows with it. */
  maxQueryTextLength: number;
  /** Most collections in one database. */
  maxCollections: number;
  /** Most non-zero entries (index -> weight pairs) in one sparse vector, in a record or a query. */
  maxSparseNonZeros: number;
  /** Most records in one collection; at most MAX_RECORDS_PER_COLLECTION, whatever is asked. */
  maxRecordsPerCollection: number;
}

/**
 * The most records a collection can hold: 2^24, the largest Map a JavaScript engine (V8: Node, Deno,
 * Chromium, workerd) allows, and a collection keeps its ids in one (and its payload indexes' slots in
 * others). A write past it would fail while being applied, after it was logged; it is refused first.
 */
export const MAX_RECORDS_PER_COLLECTION = 2 ** 24;

export const DEFAULT_LIMITS: Limits = {
  maxIdBytes: 512,
  maxDimension: 65_536,
  maxPayloadBytes: 1 << 20,
  maxPayloadDepth: 32,
  maxBatch: 10_000,
  maxTopK: 10_000,
  maxFilterDepth: 16,
  maxFilterSize: 1_024,
  maxGroupScan: 100_000,
  maxQueryTextLength: 16_384,
  maxCollections: 1_000,
  maxSparseNonZeros: 16_384,
  maxRecordsPerCollection: MAX_RECORDS_PER_COLLECTION,
};

/** Collection and vector names: 1 to 64 characters, letters, digits, `_`, `-`, `.`, not starting with `.` or `-`. */
export const NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;
/**
 * Names NAME_PATTERN allows but JavaScript objects treat specially: a store indexed by one of them
 * ("__proto__" swaps an object's prototype) fails in ways no test of ordinary names finds, in this
 * code and in every client that keeps results in plain objects. Refused as collection, vector and
 * embedder names, and as segments of text and index field paths.
 */
export const RESERVED_NAMES: ReadonlySet<string> = new Set(["__proto__", "constructor", "prototype"]);
