/**
 * The public handle to one collection: validates each call completely at the edge, then hands
 * writes to the database's writer and answers reads from the in-memory state.
 */
import { QuiverError } from "../core/errors/errors.js";
import type { CollectionApi } from "../api/types.js";
import type { FilterNode } from "../core/query/filter/ast.js";
import { parseFilter } from "../core/query/filter/parse.js";
import type { Deadline } from "../core/util/deadline.js";
import type { CollectionState } from "./collection-state.js";
import type { Database } from "./database.js";
import {
  countMatching,
  matchingSlots,
  outputRecord,
  scrollPage,
  type Hit,
  type QueryPlan,
  type RecordOutput,
} from "./reads.js";
import type { FusionMethod } from "../core/query/fusion/fuse.js";
import { search } from "./search.js";
import type { CollectionSchema } from "../core/schema/schema.js";
import { validateIds, validateRecords, type RecordInput } from "./validate.js";
import { checkCount, checkQueryTextLength, parseQueryRequest } from "./query-request.js";

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
    const { maxFilterDepth, maxFilterSize } = this.db.limits;
    return parseFilter(input, { maxDepth: maxFilterDepth, maxSize: maxFilterSize, path: "filter" });
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
    if (this.db.embedders.needed(records, this.state().schema))
      records = (await this.db.embedders.records(records, this.state().schema)) as RecordInput[];
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
  async deleteByFilter(filter: Filter, call: CallOptions = {}): Promise<{ deleted: number }> {
    const node = this.filter(filter);
    if (!node) throw QuiverError.fromProblems("INVALID_ARGUMENT", [{ path: "filter", message: "is required" }]);
    return this.db.write(
      true,
      () => {
        // Runs before the delete is logged: the only place a deadline may stop it.
        const state = this.state();
        const ids = Array.from(matchingSlots(state, node, call.deadline).slots, (slot) => state.slotIds[slot]!);
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
  async count(filter?: Filter, call: CallOptions = {}): Promise<number> {
    return countMatching(this.state(), this.filter(filter), call.deadline);
  }

  /** Pages through records in id order. Pass `nextCursor` back until it is null. */
  async scroll(
    req: ScrollRequest = {},
    call: CallOptions = {},
  ): Promise<{ records: RecordOutput[]; nextCursor: string | null }> {
    const limit = checkCount(req.limit, "limit", 1, this.db.limits.maxBatch, 100);
    if (req.cursor !== undefined && typeof req.cursor !== "string") {
      throw QuiverError.fromProblems("INVALID_ARGUMENT", [
        { path: "cursor", message: "must be the nextCursor string of a previous page" },
      ]);
    }
    return scrollPage(
      this.state(),
      req.cursor,
      limit,
      this.filter(req.filter),
      { withPayload: req.withPayload ?? true, withVectors: req.withVectors ?? false },
      call.deadline,
    );
  }

  /**
   * Searches by vector, by text (BM25), or both (hybrid, fused), optionally among the records
   * matching a filter. Vector search is exact until a vector has an HNSW graph, then approximate
   * (`ef` trades speed for accuracy; `exact: true` forces the scan). Validation: query-request.ts.
   * @example
   * const { hits } = await docs.query({ vector: q, limit: 10, filter: { lang: "en", year: { $gte: 2020 } } });
   * const { hits: found } = await docs.query({ text: "crash-safe storage", vector: q, explain: true, groupBy: "docId" });
   */
  async query(req: QueryRequest, call: CallOptions = {}): Promise<QueryResult> {
    // Text in place of the vector is embedded by the vector's bound embedder (src/embed/bind.ts),
    // once its length is known to be within the limit.
    checkQueryTextLength(req, this.db.limits);
    if (this.db.embedders.queryNeeded(req)) req = await this.db.embedders.query(req, this.state().schema);
    const state = this.state();
    const { spec, limit, offset } = parseQueryRequest(state, req, this.db.limits);
    spec.filter = this.filter(req.filter);
    spec.groupBy = req.groupBy;
    spec.deadline = call.deadline;
    const { hits: ranked, plan } = search(state, spec, offset + limit);
    const o = { withPayload: req.withPayload ?? true, withVectors: req.withVectors ?? false };
    const hits: Hit[] = [];
    for (let i = offset; i < ranked.length; i++) {
      const r = ranked[i];
      // Completed in place rather than spread into a new object: a spread per hit cost a quarter of a small query.
      const hit = outputRecord(state, r.slot, o) as Hit;
      hit.score = r.score + 0; // + 0 turns -0 into 0
      if (r.group !== undefined) hit.group = r.group;
      if (req.explain) hit.explain = r.explain;
      hits.push(hit);
    }
    return { hits, plan };
  }
}
