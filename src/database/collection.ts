/**
 * The public handle to one collection: validates each call completely at the edge, then hands
 * writes to the database's writer and answers reads from the in-memory state.
 */
import { QuiverError } from "../core/errors/errors.js";
import type { CollectionApi } from "../api/types.js";
import type { FilterNode } from "../core/query/filter/ast.js";
import { parseFilter } from "../core/query/filter/parse.js";
import type { CollectionState } from "./collection-state.js";
import type { Database } from "./database.js";
import { countMatching, matchingSlots, outputRecord, scrollPage, type Hit, type QueryPlan, type RecordOutput } from "./reads.js";
import { FUSION_METHODS, type FusionMethod } from "../core/query/fusion/fuse.js";
import type { Problem } from "../core/errors/errors.js";
import { DEFAULT_FUSION_DEPTH, search, type SearchSpec } from "./search.js";
import type { CollectionSchema } from "../core/schema/schema.js";
import { validateIds, validateQueryVector, validateRecords, type RecordInput } from "./validate.js";

/** A filter in Quiver's filter language (docs/filters.md), e.g. `{ lang: "en", year: { $gte: 2020 } }`. */
export type Filter = Record<string, unknown>;

export interface QueryRequest {
  /** The query vector: an array when the collection has one named vector, else `{ name: array }`. */
  vector?: ArrayLike<number> | Record<string, ArrayLike<number>> | string | Record<string, string>;
  /** Full-text query, searched with BM25 in every text field, or `{ query, fields }` to choose fields. */
  text?: string | { query: string; fields?: string[] };
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
  /** Per-source weights (default 1 each). */
  weights?: { text?: number; vector?: number };
  /** Documents taken from each source before fusing (default 100, or limit + offset if larger). */
  depth?: number;
}

export interface QueryResult {
  hits: Hit[];
  plan: QueryPlan;
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

function checkCount(v: unknown, path: string, min: number, max: number, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    throw QuiverError.fromProblems("INVALID_ARGUMENT", [{ path, message: `must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}` }]);
  }
  return v;
}

export class Collection implements CollectionApi {
  constructor(
    private readonly db: Database,
    readonly uid: string,
    readonly name: string,
  ) {}

  private state(): CollectionState {
    const s = this.db.stateByUid(this.uid);
    if (!s) throw new QuiverError("NOT_FOUND", `collection "${this.name}" has been dropped`);
    return s;
  }

  private filter(input: unknown): FilterNode | undefined {
    if (input === undefined) return undefined;
    return parseFilter(input, { maxDepth: this.db.limits.maxFilterDepth, path: "filter" });
  }

  get schema(): CollectionSchema {
    return structuredClone(this.state().schema);
  }

  /**
   * Inserts records or replaces them whole (fields not given are removed). Resolves once the batch
   * is durable in the WAL and visible to queries. Duplicate ids within one batch are rejected.
   * @example
   * await docs.upsert([{ id: "a1", vectors: { text: embedding }, payload: { lang: "en" } }]);
   */
  async upsert(records: RecordInput[]): Promise<{ upserted: number }> {
    // Text for vectors bound to an embedder is embedded first (src/embed/bind.ts); then the batch is submitted.
    if (this.db.embedders.needed(records, this.state().schema)) records = (await this.db.embedders.records(records, this.state().schema)) as RecordInput[];
    const valid = validateRecords(records, this.state().schema, this.db.limits);
    if (valid.length === 0) return { upserted: 0 };
    return this.db.write(
      false,
      () => {
        this.state();
        return [{ type: "upsert", uid: this.uid, records: valid }];
      },
      (ops) => ({ upserted: this.db.applyLogged(ops) }),
    );
  }

  /** Deletes records by id; resolves with how many existed. */
  async delete(ids: string[]): Promise<{ deleted: number }> {
    const valid = validateIds(ids, this.db.limits);
    if (valid.length === 0) return { deleted: 0 };
    return this.db.write(
      false,
      () => {
        this.state();
        return [{ type: "delete", uid: this.uid, ids: valid }];
      },
      (ops) => ({ deleted: this.db.applyLogged(ops) }),
    );
  }

  /** Deletes every record matching the filter. The ids are resolved and logged atomically. */
  async deleteByFilter(filter: Filter): Promise<{ deleted: number }> {
    const node = this.filter(filter);
    if (!node) throw QuiverError.fromProblems("INVALID_ARGUMENT", [{ path: "filter", message: "is required" }]);
    return this.db.write(
      true,
      () => {
        const state = this.state();
        const ids = Array.from(matchingSlots(state, node).slots, (slot) => state.slotIds[slot]!);
        return ids.length > 0 ? [{ type: "delete", uid: this.uid, ids }] : [];
      },
      (ops) => ({ deleted: this.db.applyLogged(ops) }),
    );
  }

  /** Records with the given ids, in the order asked; ids that do not exist are left out. */
  async get(ids: string[], opts: ReadOptions = {}): Promise<RecordOutput[]> {
    const valid = validateIds(ids, this.db.limits);
    const state = this.state();
    const out: RecordOutput[] = [];
    const o = { withPayload: opts.withPayload ?? true, withVectors: opts.withVectors ?? false };
    for (const id of valid) {
      const slot = state.ids.get(id);
      if (slot !== undefined) out.push(outputRecord(state, slot, o));
    }
    return out;
  }

  /** Number of records, or of records matching a filter. */
  async count(filter?: Filter): Promise<number> {
    return countMatching(this.state(), this.filter(filter));
  }

  /** Pages through records in id order. Pass `nextCursor` back until it is null. */
  async scroll(req: ScrollRequest = {}): Promise<{ records: RecordOutput[]; nextCursor: string | null }> {
    const limit = checkCount(req.limit, "limit", 1, this.db.limits.maxBatch, 100);
    if (req.cursor !== undefined && typeof req.cursor !== "string") {
      throw QuiverError.fromProblems("INVALID_ARGUMENT", [{ path: "cursor", message: "must be the nextCursor string of a previous page" }]);
    }
    return scrollPage(this.state(), req.cursor, limit, this.filter(req.filter), {
      withPayload: req.withPayload ?? true,
      withVectors: req.withVectors ?? false,
    });
  }

  /**
   * Searches by vector, by text (BM25), or both (hybrid, fused), optionally among the records
   * matching a filter. Vector search is exact: the true top `limit` (after `offset`).
   * @example
   * const { hits } = await docs.query({ vector: q, limit: 10, filter: { lang: "en", year: { $gte: 2020 } } });
   * const { hits: found } = await docs.query({ text: "crash-safe storage", vector: q, explain: true, groupBy: "docId" });
   */
  async query(req: QueryRequest): Promise<QueryResult> {
    // Text in place of the vector is embedded by the vector's bound embedder (src/embed/bind.ts).
    if (this.db.embedders.queryNeeded(req)) req = await this.db.embedders.query(req, this.state().schema);
    const state = this.state();
    if (typeof req !== "object" || req === null) {
      throw QuiverError.fromProblems("INVALID_ARGUMENT", [{ path: "query", message: "must be an object { vector?, text?, filter?, limit? }" }]);
    }
    const limit = checkCount(req.limit, "limit", 1, this.db.limits.maxTopK, 10);
    const offset = checkCount(req.offset, "offset", 0, this.db.limits.maxTopK - limit, 0);
    const problems: Problem[] = [];
    const spec: SearchSpec = { fusion: { method: "zscore", k: 60, weights: [1, 1], depth: DEFAULT_FUSION_DEPTH } };
    if (req.vector === undefined && req.text === undefined) {
      problems.push({ path: "query", message: "needs a vector, a text, or both" });
    }
    if (req.vector !== undefined) spec.vector = this.queryVector(state, req.vector);
    if (req.ef !== undefined && (typeof req.ef !== "number" || !Number.isInteger(req.ef) || req.ef < 1 || req.ef > this.db.limits.maxTopK)) {
      problems.push({ path: "ef", message: `must be an integer from 1 to ${this.db.limits.maxTopK}, got ${JSON.stringify(req.ef)}` });
    }
    if (req.exact !== undefined && typeof req.exact !== "boolean") problems.push({ path: "exact", message: "must be true or false" });
    if (spec.vector) spec.vector.options = { ef: req.ef, exact: req.exact };
    if (req.text !== undefined) spec.text = this.queryText(state, req.text, problems);
    if (req.fusion !== undefined) this.queryFusion(req.fusion, spec, problems);
    if (req.explain !== undefined && typeof req.explain !== "boolean") problems.push({ path: "explain", message: "must be true or false" });
    if (req.groupBy !== undefined && (typeof req.groupBy !== "string" || req.groupBy.length === 0 || req.groupBy.split(".").some((x) => x.length === 0))) {
      problems.push({ path: "groupBy", message: `must be a payload field name or dotted path, got ${JSON.stringify(req.groupBy)}` });
    }
    const known = ["vector", "text", "filter", "limit", "offset", "withPayload", "withVectors", "fusion", "explain", "groupBy", "ef", "exact"];
    for (const key of Object.keys(req)) if (!known.includes(key)) problems.push({ path: key, message: `unknown option (expected ${known.join(", ")})` });
    if (problems.length > 0) throw QuiverError.fromProblems("INVALID_ARGUMENT", problems);
    spec.filter = this.filter(req.filter);
    spec.groupBy = req.groupBy;
    const { hits: ranked, plan } = search(state, spec, offset + limit);
    const o = { withPayload: req.withPayload ?? true, withVectors: req.withVectors ?? false };
    const hits: Hit[] = [];
    for (let i = offset; i < ranked.length; i++) {
      const r = ranked[i];
      const hit: Hit = { ...outputRecord(state, r.slot, o), score: r.score + 0 }; // + 0 turns -0 into 0
      if (r.group !== undefined) hit.group = r.group;
      if (req.explain) hit.explain = r.explain;
      hits.push(hit);
    }
    return { hits, plan };
  }

  private queryVector(state: CollectionState, v: unknown): { name: string; query: Float32Array; options?: { ef?: number; exact?: boolean } } {
    const names = Object.keys(state.schema.vectors);
    let vectorName: string;
    let raw: unknown;
    let path = "vector";
    if (names.length === 0) {
      throw QuiverError.fromProblems("INVALID_ARGUMENT", [{ path, message: "this collection has no vectors; search it with text" }]);
    }
    if (Array.isArray(v) || v instanceof Float32Array || v instanceof Float64Array) {
      if (names.length !== 1) {
        throw QuiverError.fromProblems("INVALID_ARGUMENT", [{ path, message: `this collection has several vectors (${names.join(", ")}): pass { name: [...] }` }]);
      }
      vectorName = names[0];
      raw = v;
    } else if (typeof v === "object" && v !== null && Object.keys(v).length === 1) {
      vectorName = Object.keys(v)[0];
      raw = (v as Record<string, unknown>)[vectorName];
      path = `vector.${vectorName}`;
      if (!state.schema.vectors[vectorName]) {
        throw QuiverError.fromProblems("INVALID_ARGUMENT", [{ path, message: `unknown vector; this collection has ${names.join(", ")}` }]);
      }
    } else {
      throw QuiverError.fromProblems("INVALID_ARGUMENT", [{ path, message: "must be an array of numbers, or { name: array } naming one vector" }]);
    }
    const spec = state.schema.vectors[vectorName];
    return { name: vectorName, query: validateQueryVector(raw, spec.dim, spec.metric, path) };
  }

  private queryText(state: CollectionState, t: unknown, problems: Problem[]): { query: string; fields?: string[] } | undefined {
    const declared = Object.keys(state.schema.text ?? {});
    if (declared.length === 0) {
      problems.push({ path: "text", message: 'this collection has no text fields; declare some in its schema, e.g. text: { body: {} }' });
      return undefined;
    }
    if (typeof t === "string") return { query: t };
    if (typeof t !== "object" || t === null || Array.isArray(t)) {
      problems.push({ path: "text", message: "must be a string, or { query, fields? }" });
      return undefined;
    }
    const o = t as Record<string, unknown>;
    if (typeof o.query !== "string") problems.push({ path: "text.query", message: `must be a string, got ${JSON.stringify(o.query)}` });
    let fields: string[] | undefined;
    if (o.fields !== undefined) {
      if (!Array.isArray(o.fields) || o.fields.length === 0) {
        problems.push({ path: "text.fields", message: "must be a non-empty array of text field names" });
      } else {
        o.fields.forEach((f, i) => {
          if (typeof f !== "string" || !declared.includes(f)) problems.push({ path: `text.fields[${i}]`, message: `must be one of the text fields (${declared.join(", ")}), got ${JSON.stringify(f)}` });
        });
        fields = o.fields as string[];
      }
    }
    for (const key of Object.keys(o)) if (key !== "query" && key !== "fields") problems.push({ path: `text.${key}`, message: "unknown option (expected query, fields)" });
    return { query: o.query as string, fields };
  }

  private queryFusion(f: unknown, spec: SearchSpec, problems: Problem[]): void {
    if (typeof f !== "object" || f === null || Array.isArray(f)) {
      problems.push({ path: "fusion", message: 'must be an object such as { method: "rrf", k: 60 }' });
      return;
    }
    const o = f as Record<string, unknown>;
    if (o.method !== undefined) {
      if (!FUSION_METHODS.includes(o.method as FusionMethod)) problems.push({ path: "fusion.method", message: `must be one of ${FUSION_METHODS.join(", ")}, got ${JSON.stringify(o.method)}` });
      else spec.fusion.method = o.method as FusionMethod;
    }
    if (o.k !== undefined) {
      if (typeof o.k !== "number" || !Number.isFinite(o.k) || o.k < 0) problems.push({ path: "fusion.k", message: `must be a non-negative number, got ${JSON.stringify(o.k)}` });
      else spec.fusion.k = o.k;
    }
    if (o.depth !== undefined) {
      if (typeof o.depth !== "number" || !Number.isInteger(o.depth) || o.depth < 1 || o.depth > this.db.limits.maxTopK) problems.push({ path: "fusion.depth", message: `must be an integer from 1 to ${this.db.limits.maxTopK}, got ${JSON.stringify(o.depth)}` });
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
          if (typeof x !== "number" || !Number.isFinite(x) || x < 0) problems.push({ path: `fusion.weights.${name}`, message: `must be a non-negative number, got ${JSON.stringify(x)}` });
          else spec.fusion.weights[i] = x;
        });
        for (const key of Object.keys(w)) if (key !== "text" && key !== "vector") problems.push({ path: `fusion.weights.${key}`, message: "unknown source (expected text, vector)" });
      }
    }
    for (const key of Object.keys(o)) if (!["method", "k", "weights", "depth"].includes(key)) problems.push({ path: `fusion.${key}`, message: "unknown option (expected method, k, weights, depth)" });
  }
}
