/**
 * What the LangChain and LlamaIndex stores share: how a framework's text and metadata lie in a Quiver
 * record, the collection a store creates, and the searches both run. Both work on `CollectionApi`,
 * which the embedded `Collection` and the HTTP client's collection implement alike, so one store
 * serves `open()` and `connect()` with the same code.
 */
import { QuiverError, isQuiverError, type Problem } from "../core/errors/errors.js";
import type { CollectionSchema, Metric, PayloadIndexType, TextFieldSpec } from "../core/schema/schema.js";
import { DEFAULT_LIMITS } from "../api/limits.js";
import { denseOnly, type Filter, type Hit, type QueryRequest } from "../api/query.js";
import type { CollectionApi, DatabaseApi } from "../api/types.js";
import { maximalMarginalRelevance } from "./mmr.js";

/** Where a store keeps things in a record: the named vector, and the payload field holding the text. */
export interface StoreLayout {
  vectorName: string;
  textKey: string;
}

export interface QuiverStoreOptions {
  /** A database from `open()` (embedded) or `connect()` (`quiverdb/client`), with `collectionName`. */
  db?: DatabaseApi;
  /** The collection; created at the first write when missing, with the embeddings' dimension. */
  collectionName?: string;
  /** Or a collection handle, embedded or remote (then `db` and `collectionName` are not needed). */
  collection?: CollectionApi;
  /** The named vector holding the embeddings (default: the collection's only vector, or `embedding`). */
  vectorName?: string;
  /** The payload field holding the text, a BM25 text field (default `text`); metadata sits beside it. */
  textKey?: string;
  /** For a collection the store creates: the metric (default cosine). */
  metric?: Metric;
  /** For a collection the store creates: how the text field is analyzed (default: the standard analyzer). */
  text?: TextFieldSpec;
  /** For a collection the store creates: payload indexes on metadata fields that filters use often. */
  indexes?: Record<string, PayloadIndexType>;
}

const DEFAULT_VECTOR = "embedding";
const DEFAULT_TEXT_KEY = "text";
/** Upserts are sent in batches of this many records (under the default `maxBatch`, and small HTTP bodies). */
const UPSERT_BATCH = 500;

/**
 * A store's collection, found or created on first use. The layout is settled against the
 * collection's schema once it is known: a named vector that is not there is refused up front.
 */
export class StoreCollection {
  private handle: CollectionApi | null;
  private layoutCache: StoreLayout | null = null;

  constructor(
    private readonly options: QuiverStoreOptions,
    private readonly extraIndexes: Record<string, PayloadIndexType> = {},
  ) {
    this.handle = options.collection ?? null;
    if (!options.collection && (!options.db || !options.collectionName))
      throw new QuiverError("INVALID_ARGUMENT", "a Quiver store needs `collection`, or `db` and `collectionName`", {
        problems: [{ path: "collection", message: "give a collection handle, or db and collectionName" }],
      });
  }

  /** The collection, created with `dim` when it does not exist yet and `dim` is known. */
  async get(dim?: number): Promise<CollectionApi> {
    if (this.handle) return this.handle;
    const { db, collectionName } = this.options as Required<Pick<QuiverStoreOptions, "db" | "collectionName">>;
    try {
      this.handle = await db.collection(collectionName);
    } catch (e) {
      if (!isQuiverError(e, "NOT_FOUND") || dim === undefined) throw e;
      this.handle = await db.createCollection(collectionName, this.schemaFor(dim), { ifNotExists: true });
    }
    return this.handle;
  }

  /** The layout, settled against the collection's schema. */
  async layout(): Promise<StoreLayout> {
    if (this.layoutCache) return this.layoutCache;
    const schema = (await this.get()).schema;
    const names = Object.keys(schema.vectors);
    const vectorName = this.options.vectorName ?? (names.length === 1 ? names[0] : DEFAULT_VECTOR);
    if (!Object.hasOwn(schema.vectors, vectorName))
      throw new QuiverError("INVALID_ARGUMENT", `the collection has no vector named "${vectorName}"`, {
        problems: [{ path: "vectorName", message: `expected one of: ${names.join(", ") || "(none)"}` }],
      });
    this.layoutCache = { vectorName, textKey: this.options.textKey ?? DEFAULT_TEXT_KEY };
    return this.layoutCache;
  }

  /** The schema of a collection the store creates: one vector, the text as a BM25 field, the indexes asked for. */
  schemaFor(dim: number): CollectionSchema {
    return {
      vectors: { [this.options.vectorName ?? DEFAULT_VECTOR]: { dim, metric: this.options.metric ?? "cosine" } },
      text: { [this.options.textKey ?? DEFAULT_TEXT_KEY]: this.options.text ?? {} },
      indexes: { ...this.extraIndexes, ...this.options.indexes },
    };
  }

  /**
   * Writes the records in batches, after checking what a store's caller can get wrong (a metadata
   * field taking the text's place, an embedding of another dimension) for all of them: then nothing
   * is written. Quiver checks each batch whole too, but a batch it refuses leaves earlier ones written.
   */
  async upsert(
    items: { id: string; vector: number[]; text: string; metadata: Record<string, unknown> }[],
    what: string,
  ): Promise<void> {
    if (items.length === 0) return;
    const collection = await this.get(items[0].vector.length);
    const layout = await this.layout();
    const dim = collection.schema.vectors[layout.vectorName].dim;
    const problems: Problem[] = [];
    items.forEach((item, i) => {
      if (item.vector.length !== dim)
        problems.push({
          path: `${what}[${i}].embedding`,
          message: `expected ${dim} numbers (the collection's dimension), got ${item.vector.length}`,
        });
      if (Object.hasOwn(item.metadata, layout.textKey))
        problems.push({
          path: `${what}[${i}].metadata.${layout.textKey}`,
          message: `"${layout.textKey}" holds the text in this store; rename the metadata field or choose another textKey`,
        });
    });
    if (problems.length > 0) {
      const wrongDim = problems.some((p) => p.path.endsWith(".embedding"));
      throw QuiverError.fromProblems(wrongDim ? "DIMENSION_MISMATCH" : "INVALID_ARGUMENT", problems);
    }
    const records = items.map((item) => ({
      id: item.id,
      vectors: { [layout.vectorName]: item.vector },
      payload: { ...item.metadata, [layout.textKey]: item.text },
    }));
    for (let at = 0; at < records.length; at += UPSERT_BATCH)
      await collection.upsert(records.slice(at, at + UPSERT_BATCH));
  }
}

/** A record's payload split back into the text and the metadata. */
export function splitPayload(
  payload: Record<string, unknown> | undefined,
  textKey: string,
): { text: string; metadata: Record<string, unknown> } {
  const { [textKey]: text, ...metadata } = payload ?? {};
  return { text: typeof text === "string" ? text : "", metadata };
}

/** What a store asks of a search, beyond the query request itself. */
export interface SearchOptions {
  /** Hits wanted. */
  k: number;
  /**
   * A check the filter could not express, applied to each hit's payload (the request's filter is then
   * a superset). Hits are fetched in growing pages until k pass or the matches run out.
   */
  residual?: (payload: Record<string, unknown>) => boolean;
}

/**
 * Runs a query and returns up to k hits. With a residual check the pages grow fourfold up to the
 * top-k limit; past it, too few passing hits is an error rather than a silently short answer.
 */
export async function searchHits(collection: CollectionApi, req: QueryRequest, opts: SearchOptions): Promise<Hit[]> {
  const { residual, k } = opts;
  if (!residual) return (await collection.query({ ...req, limit: k })).hits;
  const max = DEFAULT_LIMITS.maxTopK;
  for (let fetch = Math.min(Math.max(k * 4, 32), max); ; fetch = Math.min(fetch * 4, max)) {
    const { hits } = await collection.query({ ...req, limit: fetch, withPayload: true });
    const passing = hits.filter((h) => residual(h.payload ?? {}));
    if (passing.length >= k || hits.length < fetch) return passing.slice(0, k);
    if (fetch === max)
      throw new QuiverError(
        "LIMIT_EXCEEDED",
        `fewer than ${k} of the first ${max} candidates pass the filter's text_match/is_empty conditions; narrow the filter with other conditions`,
        { problems: [{ path: "filters", message: `checked ${max} candidates, ${passing.length} passed` }] },
      );
  }
}

/** Hybrid (BM25 + vector, fused by Quiver) request for a text and its embedding. */
export function hybridRequest(
  layout: StoreLayout,
  text: string,
  vector: number[],
  filter: Filter | undefined,
  fusion: QueryRequest["fusion"],
): QueryRequest {
  return {
    text: { query: text, fields: [layout.textKey] },
    vector: { [layout.vectorName]: vector },
    ...(filter ? { filter } : {}),
    ...(fusion ? { fusion } : {}),
  };
}

/**
 * Maximal marginal relevance: fetches `fetchK` nearest hits with their vectors, then picks k that
 * balance closeness to the query (weight lambda) against closeness to those already picked.
 */
export async function mmrHits(
  collection: CollectionApi,
  layout: StoreLayout,
  query: number[],
  opts: { k: number; fetchK: number; lambda: number; filter?: Filter; residual?: SearchOptions["residual"] },
): Promise<Hit[]> {
  const problems: Problem[] = [];
  if (!(opts.lambda >= 0 && opts.lambda <= 1))
    problems.push({ path: "lambda", message: `must be from 0 to 1, got ${opts.lambda}` });
  if (!Number.isInteger(opts.fetchK) || opts.fetchK < opts.k)
    problems.push({ path: "fetchK", message: `must be an integer of at least k (${opts.k}), got ${opts.fetchK}` });
  if (problems.length > 0) throw QuiverError.fromProblems("INVALID_ARGUMENT", problems);
  const candidates = await searchHits(
    collection,
    {
      vector: { [layout.vectorName]: query },
      withVectors: true,
      withPayload: true,
      ...(opts.filter ? { filter: opts.filter } : {}),
    },
    { k: opts.fetchK, residual: opts.residual },
  );
  const vectors = candidates.map((h) => denseOnly(h.vectors?.[layout.vectorName]) ?? []);
  return maximalMarginalRelevance(query, vectors, opts.k, opts.lambda).map((i) => candidates[i]);
}
