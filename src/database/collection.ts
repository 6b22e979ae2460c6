/**
 * The public handle to one collection: validates each call completely at the edge, then hands
 * writes to the database's writer and answers reads from the in-memory state.
 */
import { QuiverError } from "../core/errors/errors.js";
import type { FilterNode } from "../core/query/filter/ast.js";
import { parseFilter } from "../core/query/filter/parse.js";
import type { CollectionState } from "./collection-state.js";
import type { Database } from "./database.js";
import { countMatching, exactQuery, matchingSlots, outputRecord, scrollPage, type Hit, type QueryPlan, type RecordOutput } from "./reads.js";
import type { CollectionSchema } from "../core/schema/schema.js";
import { validateIds, validateQueryVector, validateRecords, type RecordInput } from "./validate.js";

/** A filter in Quiver's filter language (docs/filters.md), e.g. `{ lang: "en", year: { $gte: 2020 } }`. */
export type Filter = Record<string, unknown>;

export interface QueryRequest {
  /** The query vector: an array when the collection has one named vector, else `{ name: array }`. */
  vector: ArrayLike<number> | Record<string, ArrayLike<number>>;
  filter?: Filter;
  /** Hits to return (default 10). */
  limit?: number;
  /** Hits to skip first, for paging (default 0). */
  offset?: number;
  /** Include payloads (default true). */
  withPayload?: boolean;
  /** Include vectors (default false). Cosine vectors are returned normalised, as stored. */
  withVectors?: boolean;
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

export class Collection {
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
   * Nearest neighbours of a vector, optionally among records matching a filter. Exact: the
   * result is the true top `limit` (after `offset`) among the matching records.
   * @example
   * const { hits } = await docs.query({ vector: q, limit: 10, filter: { lang: "en", year: { $gte: 2020 } } });
   */
  async query(req: QueryRequest): Promise<QueryResult> {
    const state = this.state();
    if (typeof req !== "object" || req === null) {
      throw QuiverError.fromProblems("INVALID_ARGUMENT", [{ path: "query", message: "must be an object { vector, filter?, limit? }" }]);
    }
    const limit = checkCount(req.limit, "limit", 1, this.db.limits.maxTopK, 10);
    const offset = checkCount(req.offset, "offset", 0, this.db.limits.maxTopK - limit, 0);
    const names = Object.keys(state.schema.vectors);
    let vectorName: string;
    let raw: unknown;
    let path = "vector";
    const v = req.vector as unknown;
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
    const query = validateQueryVector(raw, spec.dim, spec.metric, path);
    const filter = this.filter(req.filter);
    const { slots, scores, plan } = exactQuery(state, vectorName, query, filter, offset + limit);
    const o = { withPayload: req.withPayload ?? true, withVectors: req.withVectors ?? false };
    const hits: Hit[] = [];
    for (let i = offset; i < slots.length; i++) hits.push({ ...outputRecord(state, slots[i], o), score: scores[i] + 0 }); // + 0 turns -0 into 0
    return { hits, plan };
  }
}
