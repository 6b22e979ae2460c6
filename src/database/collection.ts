/**
 * The public handle to one collection: validates each call completely at the edge, then hands
 * writes to the database's writer and answers reads from the in-memory state.
 */
import { QuiverError } from "../core/errors/errors.js";
import type { CallOptions, CollectionApi, ReadOptions, RecordInput, ScrollRequest } from "../api/types.js";
import type { Filter, Hit, QueryRequest, QueryResult, RecordOutput } from "../api/query.js";
import type { FilterNode } from "../core/query/filter/ast.js";
import { parseFilter } from "../core/query/filter/parse.js";
import type { CollectionState } from "./collection-state.js";
import type { Limits } from "../api/limits.js";
import type { Op } from "./ops.js";
import { countMatching, matchingSlots, outputRecord, scrollPage } from "./reads.js";
import { searchSteps, type Ranked } from "./search.js";
import { runHere, type PlanSteps } from "../core/query/plan/vector-plan.js";
import type { ParallelSearch } from "../core/index/hnsw/parallel.js";
import type { CollectionSchema } from "../core/schema/schema.js";
import { validateIds, validateRecords } from "./validate.js";
import { checkCount, checkQueryTextLength, parseQueryRequest } from "./query-request.js";
import { applyQueryMode } from "./query-mode.js";
import type { TermStats } from "../core/index/bm25/term-stats.js";
import type { FusionParts, ScoresWanted } from "./fusion-parts.js";

/**
 * Rewrites a call's input before it is validated: how a layer above the database accepts other
 * input than the contract's, e.g. text in place of vectors (src/embed/bind.ts). Given to `open()`.
 */
export interface InputHook {
  /** The upsert batch rewritten, or null when it needs nothing (the common case stays synchronous). */
  prepareRecords(records: unknown, schema: CollectionSchema): Promise<unknown> | null;
  /** The query rewritten, or null when it needs nothing; `coll` is the collection it runs on (read only). */
  prepareQuery<T extends { vector?: unknown }>(
    req: T,
    schema: CollectionSchema,
    coll: CollectionApi,
  ): Promise<T> | null;
  /** Whether text can be embedded with the embedder of this name (a query's text then runs hybrid). */
  canEmbed(embedder: string): boolean;
}

/**
 * What a handle needs from its database. The database builds one and keeps it in a private field,
 * so the write path (logging, applying) is reachable only through the validated methods below.
 */
export interface CollectionHost {
  readonly limits: Limits;
  readonly input?: InputHook;
  state(uid: string): CollectionState | undefined;
  /** Submits a write to the single writer (writer.ts); `apply` runs after the WAL commit. */
  write<T>(readsState: boolean, prepare: () => Op[], apply: (ops: Op[]) => T): Promise<T>;
  /** Applies logged operations to memory; returns how many records they changed. */
  applyLogged(ops: Op[]): number;
  /** Throws CLOSED or READ_ONLY when the database cannot take writes (checked before any embedding work). */
  ensureWritable(): void;
  /** The search threads that run queries' graph searches; null: they run on the calling thread. */
  parallel(): ParallelSearch | null;
}

/** A query's call options as a shard of a cluster gets them (src/cluster/shard-read.ts). */
export interface ShardCallOptions extends CallOptions {
  /** Score text with these statistics of the whole sharded collection (summed textStatistics) instead of this one's own. */
  textStats?: TermStats;
}

export class Collection implements CollectionApi {
  readonly #host: CollectionHost;

  /** Handles come from `db.collection(name)` or `db.createCollection(...)`. */
  constructor(
    host: CollectionHost,
    readonly uid: string,
    readonly name: string,
  ) {
    this.#host = host;
  }

  #state(): CollectionState {
    const s = this.#host.state(this.uid);
    if (!s) throw new QuiverError("NOT_FOUND", `collection "${this.name}" has been dropped`);
    return s;
  }

  #filter(input: unknown): FilterNode | undefined {
    if (input === undefined) return undefined;
    const { maxFilterDepth, maxFilterSize } = this.#host.limits;
    return parseFilter(input, { maxDepth: maxFilterDepth, maxSize: maxFilterSize, path: "filter" });
  }

  get schema(): CollectionSchema {
    return structuredClone(this.#state().schema);
  }

  /**
   * Inserts records or replaces them whole (fields not given are removed). Resolves once the batch
   * is durable in the WAL and visible to queries. Duplicate ids within one batch are rejected.
   * @example
   * await docs.upsert([{ id: "a1", vectors: { text: embedding }, payload: { lang: "en" } }]);
   */
  async upsert(records: RecordInput[]): Promise<{ upserted: number }> {
    this.#host.ensureWritable(); // before any embedding work, and for an empty batch too
    // Input hooks run first (text for vectors bound to an embedder is embedded: src/embed/bind.ts).
    const rewritten = this.#host.input?.prepareRecords(records, this.#state().schema);
    if (rewritten) records = (await rewritten) as RecordInput[];
    const valid = validateRecords(records, this.#state().schema, this.#host.limits);
    if (valid.length === 0) return { upserted: 0 };
    return this.#host.write(
      false,
      () => {
        this.#state();
        return [{ type: "upsert", uid: this.uid, records: valid }];
      },
      (ops) => ({ upserted: this.#host.applyLogged(ops) }),
    );
  }

  /** Deletes records by id; resolves with how many existed. */
  async delete(ids: string[]): Promise<{ deleted: number }> {
    this.#host.ensureWritable();
    const valid = validateIds(ids, this.#host.limits);
    if (valid.length === 0) return { deleted: 0 };
    return this.#host.write(
      false,
      () => {
        this.#state();
        return [{ type: "delete", uid: this.uid, ids: valid }];
      },
      (ops) => ({ deleted: this.#host.applyLogged(ops) }),
    );
  }

  /** Deletes every record matching the filter. The ids are resolved and logged atomically. */
  async deleteByFilter(filter: Filter, call: CallOptions = {}): Promise<{ deleted: number }> {
    this.#host.ensureWritable();
    const node = this.#filter(filter);
    if (!node) throw QuiverError.fromProblems("INVALID_ARGUMENT", [{ path: "filter", message: "is required" }]);
    return this.#host.write(
      true,
      () => {
        // Runs before the delete is logged: the only place a deadline may stop it.
        const state = this.#state();
        const ids = Array.from(matchingSlots(state, node, call.deadline).slots, (slot) => state.slotIds[slot]!);
        return ids.length > 0 ? [{ type: "delete", uid: this.uid, ids }] : [];
      },
      (ops) => ({ deleted: this.#host.applyLogged(ops) }),
    );
  }

  /** Records with the given ids, in the order asked; ids that do not exist are left out. */
  async get(ids: string[], opts: ReadOptions = {}): Promise<RecordOutput[]> {
    const valid = validateIds(ids, this.#host.limits);
    const state = this.#state();
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
    return countMatching(this.#state(), this.#filter(filter), call.deadline);
  }

  /** Pages through records in id order. Pass `nextCursor` back until it is null. */
  async scroll(
    req: ScrollRequest = {},
    call: CallOptions = {},
  ): Promise<{ records: RecordOutput[]; nextCursor: string | null }> {
    const limit = checkCount(req.limit, "limit", 1, this.#host.limits.maxBatch, 100);
    if (req.cursor !== undefined && typeof req.cursor !== "string") {
      throw QuiverError.fromProblems("INVALID_ARGUMENT", [
        { path: "cursor", message: "must be the nextCursor string of a previous page" },
      ]);
    }
    return scrollPage(
      this.#state(),
      req.cursor,
      limit,
      this.#filter(req.filter),
      { withPayload: req.withPayload ?? true, withVectors: req.withVectors ?? false },
      call.deadline,
    );
  }

  /**
   * Searches by vector, by text (BM25), or both (hybrid, fused), optionally among the records
   * matching a filter. A text alone runs hybrid where the collection can embed it (query-mode.ts);
   * `mode` chooses. Vector search is exact until a vector has an HNSW graph, then approximate
   * (`ef` trades speed for accuracy; `exact: true` forces the scan). Validation: query-request.ts.
   * @example
   * const { hits } = await docs.query({ vector: q, limit: 10, filter: { lang: "en", year: { $gte: 2020 } } });
   * const { hits: found } = await docs.query({ text: "crash-safe storage", vector: q, explain: true, groupBy: "docId" });
   */
  async query(req: QueryRequest, call: ShardCallOptions = {}): Promise<QueryResult> {
    // Input hooks run first (text in place of the vector is embedded: src/embed/bind.ts), once the
    // query's texts are known to be within maxQueryTextLength (embedding is paid per character).
    checkQueryTextLength(req, this.#host.limits);
    const input = this.#host.input;
    req = applyQueryMode(req, this.#state().schema, (name) => input?.canEmbed(name) ?? false);
    const rewritten = input?.prepareQuery(req, this.#state().schema, this);
    if (rewritten) req = await rewritten;
    const parallel = this.#host.parallel();
    if (!parallel) return this.#answer(req, call, (steps) => runHere(steps));
    // One read section from the plan to the payloads: the query sees one state, as on the calling thread.
    return parallel.read(() => this.#answer(req, call, (steps) => parallel.run(steps)));
  }

  /**
   * This collection's BM25 statistics for a query text (per text field, or the named ones): what a
   * sharded collection sums over its shards to score every shard alike (ShardCallOptions.textStats).
   */
  textStatistics(text: string, fields?: string[]): TermStats {
    return this.#state().text?.termStatistics(text, fields) ?? {};
  }

  /**
   * A shard's part of a z-score or min-max fused query over a sharded collection: per source, its
   * statistics and, for `wanted` ids, its scores (fusion-parts.ts, loaded on demand). `req` is the
   * router's request, already embedded.
   */
  async fusionParts(req: QueryRequest, call: ShardCallOptions, wanted?: ScoresWanted): Promise<FusionParts> {
    const { fusionParts } = await import("./fusion-parts.js");
    const parts = async () =>
      fusionParts(this.#state(), parseQueryRequest(this.#state(), req, this.#host.limits).spec, call, wanted);
    return this.#host.parallel()?.read(parts) ?? parts();
  }

  /** The query, its graph searches run by `run`: here, or in the search threads. */
  async #answer(
    req: QueryRequest,
    call: ShardCallOptions,
    run: (steps: PlanSteps<Ranked>) => Ranked | Promise<Ranked>,
  ): Promise<QueryResult> {
    const state = this.#state();
    const { spec, limit, offset } = parseQueryRequest(state, req, this.#host.limits);
    spec.filter = this.#filter(req.filter);
    spec.groupBy = req.groupBy;
    spec.deadline = call.deadline;
    if (spec.text && call.textStats) spec.text.stats = call.textStats;
    // Score-based fusion's statistics come from a sample loaded on first use (the core stays small).
    if (spec.fusion.method !== "rrf" && [spec.text, spec.vector, spec.sparse].filter(Boolean).length > 1)
      spec.sample = await import("./sample-stats.js");
    const { hits: ranked, plan } = await run(searchSteps(state, spec, offset + limit));
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
