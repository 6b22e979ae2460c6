/**
 * The cluster as the one public API (DatabaseApi), so the HTTP server, the client, keys, metering
 * and MCP work on it unchanged. Collections live in the Catalog; writes are validated as one node
 * validates them, grouped by shard and sent to each shard's writer (this node, or the lease owner
 * found in etcd), and acknowledged with the seq of every shard written (a read-your-writes token);
 * reads go to a replica of every shard (the next one in rendezvous order when one cannot answer)
 * and are merged (src/cluster/merge.ts).
 */
import type { Filter, QueryRequest, QueryResult, RecordOutput } from "../api/query.js";
import type {
  CallOptions,
  CollectionApi,
  DatabaseApi,
  DatabaseStats,
  ReadOptions,
  RecordInput,
  ScrollRequest,
} from "../api/types.js";
import { QuiverError, isQuiverError } from "../core/errors/errors.js";
import type { CollectionInfo, CollectionSchema } from "../core/schema/schema.js";
import type { InputHook } from "../database/collection.js";
import { applyQueryMode } from "../database/query-mode.js";
import type { BatchOp } from "./batch.js";
import type { Catalog } from "./catalog.js";
import type { LeaseService } from "./lease.js";
import { type ClusterNode, sleep } from "./node.js";
import type { PeerClient } from "./peers.js";
import { type FusionAnswers, planQuery } from "./query-plan.js";
import type { FusionParts, ScoresWanted } from "../database/fusion-parts.js";
import type { SourceName } from "./merge.js";
import type { ShardRead } from "./shard-read.js";
import { type TermStats, sumTermStats } from "../core/index/bm25/term-stats.js";
import { MAX_SHARDS, type ShardedCollection, collectionKey, groupByShard, rendezvous, shardLog } from "./shard-map.js";

/** What a request asked of the cluster besides its body (HTTP headers: docs/cluster.md). */
export interface RequestScope {
  /** Per shard, the seq a read must see (the `seqs` a write returned). */
  minSeq?: Record<string, number>;
  /** Answer without shards that cannot be reached, naming them, instead of failing (503). */
  allowPartial?: boolean;
}

export interface RouterOptions {
  node: ClusterNode;
  peers: PeerClient;
  catalog: Catalog;
  leases: LeaseService;
  /** Rejects a name or schema (every problem with its path) exactly as one node would; the schema as stored. */
  validateSchema(name: string, schema: CollectionSchema): CollectionSchema;
  /** Rejects records (every problem with its path) exactly as one node would. */
  validateRecords(schema: CollectionSchema, records: unknown): void;
  validateIds(ids: unknown): void;
  /** Rejects a query whose texts are longer than one node accepts (before anything is embedded). */
  checkQueryText?(req: QueryRequest): void;
  /**
   * Text in place of vectors, embedded on this node before routing, with the embedders it was
   * started with (src/embed/bind.ts's EmbedderRegistry, as `open()` binds it on one node).
   */
  input?: InputHook;
  /** Shards of a collection created without `shards` (over HTTP, say); default 1. */
  defaultShards?: number;
  /** The current request's scope (the adapter reads it from headers); none for calls made in code. */
  requestScope?: () => RequestScope | undefined;
  /** How long a read keeps trying when no replica of a shard can answer (default one lease period). */
  readRetryMs?: number;
  /** How long a write keeps looking for its shard's writer (default 3 lease periods + 5 s). */
  writeTimeoutMs?: number;
}

/** A query answer that left out shards it could not reach (allowPartial). */
export type ClusterQueryResult = QueryResult & { partial?: { missingShards: number[]; reasons: string[] } };

export class ClusterDatabase implements DatabaseApi {
  /** Per shard log, the address of the node that last wrote it for this router. */
  private readonly writerAddress = new Map<string, string>();

  constructor(readonly options: RouterOptions) {}

  async createCollection(
    name: string,
    schema: CollectionSchema,
    opts: { ifNotExists?: boolean; shards?: number } = {},
  ): Promise<CollectionApi> {
    const shards = opts.shards ?? this.options.defaultShards ?? 1;
    if (!Number.isInteger(shards) || shards < 1 || shards > MAX_SHARDS)
      throw QuiverError.fromProblems("INVALID_ARGUMENT", [
        { path: "shards", message: `must be an integer from 1 to ${MAX_SHARDS}, got ${JSON.stringify(shards)}` },
      ]);
    const valid = this.options.validateSchema(name, schema);
    const key = collectionKey(name);
    for (;;) {
      const current = await this.options.catalog.get(key);
      const existing = current && (JSON.parse(current.value) as ShardedCollection);
      if (existing && !existing.dropped) {
        if (opts.ifNotExists) return new ClusterCollection(this, existing);
        throw new QuiverError("ALREADY_EXISTS", `collection "${name}" already exists`);
      }
      const version = current?.version ?? 0;
      const created: ShardedCollection = { name, schema: valid, shards, generation: version + 1 };
      if (await this.options.catalog.put(key, JSON.stringify(created), version)) {
        await this.options.node.tickNow();
        return new ClusterCollection(this, created);
      }
    }
  }

  async collection(name: string): Promise<CollectionApi> {
    return new ClusterCollection(this, await this.described(name));
  }

  /** The collection's Catalog entry (read again when this node has not seen it yet). */
  async described(name: string): Promise<ShardedCollection> {
    const found =
      (await this.options.node.collections()).get(name) ?? (await this.options.node.collections(true)).get(name);
    if (!found) throw new QuiverError("NOT_FOUND", `collection "${name}" does not exist`);
    return found;
  }

  async listCollections(): Promise<CollectionInfo[]> {
    const all = [...(await this.options.node.collections(true)).values()].sort((a, b) => (a.name < b.name ? -1 : 1));
    return Promise.all(
      all.map(async (c) => ({ name: c.name, schema: c.schema, count: await new ClusterCollection(this, c).count() })),
    );
  }

  async dropCollection(name: string): Promise<boolean> {
    const key = collectionKey(name);
    for (;;) {
      const current = await this.options.catalog.get(key);
      const existing = current && (JSON.parse(current.value) as ShardedCollection);
      if (!current || !existing || existing.dropped) return false;
      if (await this.options.catalog.put(key, JSON.stringify({ ...existing, dropped: true }), current.version)) {
        await this.options.node.collections(true);
        return true;
      }
    }
  }

  async stats(): Promise<DatabaseStats> {
    const infos = await this.listCollections();
    return {
      collections: infos.map((c) => ({
        name: c.name,
        count: c.count,
        vectorBytes: 0,
        vectorDiskBytes: 0,
        textBytes: 0,
        segments: 0,
        vectors: [],
      })),
      kernels: "cluster",
      walBytes: 0,
      lastCheckpointSeq: 0,
      seq: 0,
    };
  }

  /** Nothing to do: every acknowledged write is already in the object store and etcd. */
  async checkpoint(): Promise<void> {}

  /** The node is closed by its owner (the adapter), not by a client of this API. */
  async close(): Promise<void> {}

  scope(): RequestScope {
    return this.options.requestScope?.() ?? {};
  }

  /** Commits `ops` to one shard through its writer, looking the writer up again while it moves. */
  async writeShard(c: ShardedCollection, shard: number, ops: BatchOp[]): Promise<number> {
    const { node, leases, peers } = this.options;
    const log = shardLog(c, shard);
    const deadline = Date.now() + (this.options.writeTimeoutMs ?? node.leaseTtlMs * 3 + 5000);
    for (let attempt = 0; ; attempt++) {
      // The writer last seen for the shard is tried first, without asking etcd: a node that no
      // longer writes it answers UNAVAILABLE (and a stale one is fenced), and then etcd is asked.
      let address = this.writerAddress.get(log);
      try {
        const held = node.heldWriter(log);
        if (held) return await held.write(ops);
        if (address === undefined) {
          const owner = await leases.owner(log);
          address = owner ? node.membership.members().find((m) => m.id === owner.holder)?.address : undefined;
          if (address === undefined)
            throw new QuiverError("UNAVAILABLE", `shard ${shard} of "${c.name}" has no live writer now`);
          this.writerAddress.set(log, address);
        }
        return (await peers.call<{ seq: number }>(address, "write", { log, ops })).seq;
      } catch (error) {
        if (!isQuiverError(error, "UNAVAILABLE")) throw error;
        if (address !== undefined && this.writerAddress.get(log) === address) this.writerAddress.delete(log);
        if (Date.now() > deadline)
          throw new QuiverError(
            "UNAVAILABLE",
            `shard ${shard} of "${c.name}" (${log}) is not writable: ${error.message}`,
            {
              cause: error,
            },
          );
        await sleep(Math.min(50 * 2 ** attempt, 500));
      }
    }
  }

  /**
   * Runs `read` on a replica of the shard, trying the query nodes in rendezvous order, and trying
   * them all again for up to a lease period while none can answer: a collection just created, or a
   * shard whose replicas are moving, is served again within that time.
   */
  async readShard<T>(c: ShardedCollection, shard: number, read: ShardRead): Promise<T> {
    const { node, peers } = this.options;
    const log = shardLog(c, shard);
    const minSeq = this.scope().minSeq?.[String(shard)] ?? 0;
    const deadline = Date.now() + (this.options.readRetryMs ?? node.leaseTtlMs);
    for (;;) {
      const queriers = node.membership.members("query");
      const reasons: string[] = [];
      for (const id of rendezvous(
        log,
        queriers.map((m) => m.id),
      )) {
        try {
          if (id === node.id) return (await node.readShard(log, read, minSeq)) as T;
          const member = queriers.find((m) => m.id === id) as { address: string };
          return await peers.call<T>(member.address, "read", { log, read, minSeq });
        } catch (error) {
          if (!isQuiverError(error, "UNAVAILABLE")) throw error;
          reasons.push(`${id}: ${error.message}`);
        }
      }
      if (Date.now() > deadline)
        throw new QuiverError(
          "UNAVAILABLE",
          `shard ${shard} of "${c.name}" cannot be read: ${reasons.length ? reasons.join("; ") : "no live query node"}`,
        );
      await sleep(100);
    }
  }
}

class ClusterCollection implements CollectionApi {
  constructor(
    private readonly db: ClusterDatabase,
    private readonly c: ShardedCollection,
  ) {}

  get name(): string {
    return this.c.name;
  }

  get schema(): CollectionSchema {
    return this.c.schema;
  }

  private shards(): number[] {
    return Array.from({ length: this.c.shards }, (_, i) => i);
  }

  /** Writes per-shard operations in parallel; the seqs are the read-your-writes token. */
  private async write(groups: Map<number, BatchOp[]>): Promise<Record<string, number>> {
    const seqs: Record<string, number> = {};
    await Promise.all(
      [...groups].map(async ([shard, ops]) => {
        seqs[String(shard)] = await this.db.writeShard(this.c, shard, ops);
      }),
    );
    return seqs;
  }

  async upsert(records: RecordInput[]): Promise<{ upserted: number; seqs: Record<string, number> }> {
    // Text for vectors bound to an embedder is embedded here, once, so every replica stores the same vector.
    const embedded = this.db.options.input?.prepareRecords(records, this.c.schema);
    if (embedded) records = (await embedded) as RecordInput[];
    this.db.options.validateRecords(this.c.schema, records);
    const groups = groupByShard(records, (r) => r.id, this.c.shards);
    const seqs = await this.write(
      new Map([...groups].map(([shard, part]) => [shard, [{ op: "upsert", records: part } as BatchOp]])),
    );
    return { upserted: records.length, seqs };
  }

  async delete(ids: string[]): Promise<{ deleted: number; seqs: Record<string, number> }> {
    this.db.options.validateIds(ids);
    const unique = [...new Set(ids)];
    // The count, as one node reports it: the ids that existed (read just before the delete).
    const existing = await this.get(unique, { withPayload: false });
    const groups = groupByShard(unique, (id) => id, this.c.shards);
    const seqs = await this.write(
      new Map([...groups].map(([shard, part]) => [shard, [{ op: "delete", ids: part } as BatchOp]])),
    );
    return { deleted: existing.length, seqs };
  }

  async deleteByFilter(filter: Filter): Promise<{ deleted: number }> {
    const ids: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.scroll({ filter, cursor, limit: 1000, withPayload: false });
      ids.push(...page.records.map((r) => r.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
    if (ids.length === 0) return { deleted: 0 };
    return this.delete(ids);
  }

  async get(ids: string[], opts?: ReadOptions): Promise<RecordOutput[]> {
    this.db.options.validateIds(ids);
    const groups = groupByShard(ids, (id) => id, this.c.shards);
    const found = new Map<string, RecordOutput>();
    await Promise.all(
      [...groups].map(async ([shard, part]) => {
        const records = await this.db.readShard<RecordOutput[]>(this.c, shard, {
          kind: "get",
          ids: part,
          options: opts,
        });
        for (const r of records) found.set(r.id, r);
      }),
    );
    return ids.flatMap((id) => (found.has(id) ? [found.get(id) as RecordOutput] : []));
  }

  async count(filter?: Filter, _call?: CallOptions): Promise<number> {
    const counts = await Promise.all(
      this.shards().map((shard) => this.db.readShard<number>(this.c, shard, { kind: "count", filter })),
    );
    return counts.reduce((a, b) => a + b, 0);
  }

  /** Shard by shard: the cursor is `<shard>:<that shard's cursor>`. */
  async scroll(req: ScrollRequest = {}): Promise<{ records: RecordOutput[]; nextCursor: string | null }> {
    const limit = req.limit ?? 100;
    let [shard, inner] = parseCursor(req.cursor, this.c.shards);
    const records: RecordOutput[] = [];
    while (shard < this.c.shards && records.length < limit) {
      const page = await this.db.readShard<{ records: RecordOutput[]; nextCursor: string | null }>(this.c, shard, {
        kind: "scroll",
        request: { ...req, cursor: inner, limit: limit - records.length },
      });
      records.push(...page.records);
      if (page.nextCursor === null) [shard, inner] = [shard + 1, undefined];
      else inner = page.nextCursor;
    }
    return { records, nextCursor: shard < this.c.shards ? `${shard}:${inner ?? ""}` : null };
  }

  async query(req: QueryRequest): Promise<ClusterQueryResult> {
    // The sources are chosen and a text in place of a vector is embedded here, as one node does
    // (src/database/collection.ts): the shards get the vector, never a text to embed.
    const { input, checkQueryText } = this.db.options;
    checkQueryText?.(req);
    req = applyQueryMode(req, this.c.schema, (name) => input?.canEmbed(name) ?? false);
    const embedded = input?.prepareQuery(req, this.c.schema, this);
    if (embedded) req = await embedded;
    const plan = planQuery(req, this.c);
    const missing = new Map<number, string>();
    const allowPartial = this.db.scope().allowPartial === true;
    /** A shard's read, or null (its reason noted) when allowPartial lets the answer go without it. */
    const fromShard = async <T>(shard: number, read: ShardRead): Promise<T | null> => {
      if (missing.has(shard)) return null;
      try {
        return await this.db.readShard<T>(this.c, shard, read);
      } catch (error) {
        if (!allowPartial || !isQuiverError(error, "UNAVAILABLE")) throw error;
        missing.set(shard, error.message);
        return null;
      }
    };
    // Phase 1 of a text query: every shard's BM25 statistics of its terms, summed for phase 2.
    let textStats: TermStats | undefined;
    if (plan.text) {
      const { query, fields } = plan.text;
      const parts = await Promise.all(
        this.shards().map((shard) => fromShard<TermStats>(shard, { kind: "textStats", text: query, fields })),
      );
      textStats = sumTermStats(parts.filter((p): p is TermStats => p !== null));
    }
    // Z-score and min-max: every shard's statistics of each source, alongside the lists.
    const fusionRead = (shard: number, wanted?: ScoresWanted) =>
      fromShard<FusionParts>(shard, {
        kind: "fusion",
        request: plan.fusion as QueryRequest,
        ...(textStats && { textStats }),
        ...(wanted && { wanted }),
      });
    const stats = plan.fusion ? Promise.all(this.shards().map((shard) => fusionRead(shard))) : undefined;
    // Awaited after the lists; a failure there must not leave this one unhandled.
    stats?.catch(() => {});
    const answers = await Promise.all(
      plan.requests.map((sub) =>
        Promise.all(
          this.shards().map((shard) =>
            fromShard<QueryResult>(shard, {
              kind: "query",
              request: sub,
              ...(textStats && sub.text !== undefined && { textStats }),
            }),
          ),
        ),
      ),
    );
    // A shard that failed any part of the query is left out of every part.
    const present = answers.map((perShard) =>
      perShard.filter((a, shard): a is QueryResult => a !== null && !missing.has(shard)),
    );
    let parts: FusionAnswers | undefined;
    if (stats && plan.wanted) {
      const got = await stats;
      // Last round: each source's scores of the documents only the other lists have, from their shards.
      const wanted = plan.wanted(present);
      const byShard = new Map<number, ScoresWanted>();
      for (const [source, ids] of Object.entries(wanted) as [SourceName, string[]][])
        for (const [shard, part] of groupByShard(ids, (id) => id, this.c.shards)) {
          const w = byShard.get(shard) ?? {};
          w[source] = part;
          byShard.set(shard, w);
        }
      const scores = new Map<SourceName, Map<string, number | null>>();
      await Promise.all(
        [...byShard].map(async ([shard, w]) => {
          const r = await fusionRead(shard, w);
          for (const [source, ids] of Object.entries(w) as [SourceName, string[]][]) {
            const map = scores.get(source) ?? new Map<string, number | null>();
            scores.set(source, map);
            ids.forEach((id, i) => {
              map.set(id, r?.scores?.[source]?.[i] ?? null);
            });
          }
        }),
      );
      parts = {
        stats: got.filter((p, shard): p is FusionParts => p !== null && !missing.has(shard)).map((p) => p.stats),
        scores,
      };
    }
    const result: ClusterQueryResult = plan.merge(present, parts);
    if (missing.size > 0) {
      const shards = [...missing.keys()].sort((a, b) => a - b);
      result.partial = { missingShards: shards, reasons: shards.map((s) => missing.get(s) as string) };
    }
    return result;
  }
}

function parseCursor(cursor: string | undefined, shards: number): [number, string | undefined] {
  if (cursor === undefined) return [0, undefined];
  const m = /^(\d+):(.*)$/.exec(cursor);
  const shard = m ? Number(m[1]) : Number.NaN;
  if (!m || shard >= shards)
    throw QuiverError.fromProblems("INVALID_ARGUMENT", [
      { path: "cursor", message: "not a cursor this collection gave" },
    ]);
  return [shard, m[2] === "" ? undefined : m[2]];
}
