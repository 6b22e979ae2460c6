/**
 * Conversation and agent memory over any Quiver database (embedded or remote): memories scoped by
 * session, agent or user; recall ranked by similarity with an optional recency decay; time to
 * live honoured at read time (an expiry filter) and purged by deletes that compaction then drops;
 * near-duplicates merged on write. Everything goes through the public collection API.
 */
import type { CollectionApi, DatabaseApi } from "../api/types.js";
import { QuiverError, isQuiverError } from "../core/errors/errors.js";
import type { CollectionSchema } from "../core/schema/schema.js";
import type { Filter } from "../api/query.js";
import type { Embedder } from "../embed/embedder.js";
import { managedEmbedder } from "../embed/managed.js";

/** Who a memory belongs to. Given fields must all match; omitted ones match anything. */
export interface MemoryScope {
  session?: string;
  agent?: string;
  user?: string;
}

export interface RememberInput extends MemoryScope {
  text: string;
  /** Forget after this many milliseconds (default: the store's `defaultTtlMs`, else never). */
  ttlMs?: number;
  /** Extra JSON fields, filterable in recall (`filter: { "metadata.topic": "billing" }`). */
  metadata?: Record<string, unknown>;
  /** Caller-chosen id (default: random). */
  id?: string;
}

export interface MemoryRecord extends MemoryScope {
  id: string;
  text: string;
  createdAt: number;
  updatedAt: number;
  expiresAt?: number;
  /** How many writes were merged into this memory. */
  mentions: number;
  metadata?: Record<string, unknown>;
}

export interface RememberResult {
  id: string;
  /** True when the text was merged into an existing near-duplicate memory (`id` is that memory). */
  merged: boolean;
  /** Similarity to the memory it was merged into. */
  similarity?: number;
}

export interface RecallOptions extends MemoryScope {
  /** Memories to return (default 5). */
  limit?: number;
  /** Extra filter on the memory payload. */
  filter?: Filter;
  /** Drop memories below this similarity (default none). */
  minScore?: number;
  /** Recency decay: a memory `halfLifeMs` old weighs half as much in the recency part. */
  halfLifeMs?: number;
  /** Share of the score given to recency when `halfLifeMs` is set, 0 to 1 (default 0.3). */
  recencyWeight?: number;
}

export interface RecallHit extends MemoryRecord {
  /** The final score (similarity, blended with recency when asked). */
  score: number;
  /** Cosine similarity to the query. */
  similarity: number;
}

export interface MemoryOptions {
  /** Collection name (default "memory"); created on first use. */
  collection?: string;
  /**
   * Embed texts on this side with this embedder. Without it, the collection's vector must be bound
   * to an embedder of the database (`embedderName`) and the database embeds.
   */
  embedder?: Embedder;
  /** With no `embedder`: the database embedder to bind a new collection to (default "local"). */
  embedderName?: string;
  /** Dimension for a new collection (default the embedder's dim, else 512). */
  dim?: number;
  /** Similarity at or above which a new memory in the same scope is merged into an old one (default 0.9; 1 disables merging). */
  mergeThreshold?: number;
  /** Default time to live of every memory, in ms (default none). */
  defaultTtlMs?: number;
  /** Purge expired memories at most this often during writes (default 60 s; 0 = only on `purgeExpired()`). */
  purgeIntervalMs?: number;
  /** Clock, for tests (default Date.now). */
  now?: () => number;
}

const VECTOR = "text";

function randomId(): string {
  const b = new Uint8Array(12);
  crypto.getRandomValues(b);
  return `m_${Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("")}`;
}

function scopeFilter(scope: MemoryScope): Filter {
  const f: Filter = {};
  for (const k of ["session", "agent", "user"] as const) {
    const v = scope[k];
    if (v !== undefined) {
      if (typeof v !== "string" || v === "")
        throw QuiverError.fromProblems("INVALID_ARGUMENT", [{ path: k, message: "must be a non-empty string" }]);
      f[k] = v;
    }
  }
  return f;
}

function toRecord(id: string, p: Record<string, unknown> | undefined): MemoryRecord {
  const r: MemoryRecord = {
    id,
    text: String(p?.text ?? ""),
    createdAt: Number(p?.createdAt ?? 0),
    updatedAt: Number(p?.updatedAt ?? 0),
    mentions: Number(p?.mentions ?? 1),
  };
  for (const k of ["session", "agent", "user"] as const) if (typeof p?.[k] === "string") r[k] = p[k] as string;
  if (typeof p?.expiresAt === "number") r.expiresAt = p.expiresAt;
  if (p?.metadata && typeof p.metadata === "object") r.metadata = p.metadata as Record<string, unknown>;
  return r;
}

/**
 * Long-term memory for chatbots and agents.
 * @example
 * const db = await open("./data", { embedders: { local: localEmbedder() } });
 * const memory = await MemoryStore.open(db);
 * await memory.remember({ session: "s1", text: "The user prefers metric units.", ttlMs: 7 * 86_400_000 });
 * const hits = await memory.recall("what units does the user like?", { session: "s1" });
 */
export class MemoryStore {
  private lastPurge = 0;

  private constructor(
    readonly collection: CollectionApi,
    private readonly embedder: Embedder | null,
    private readonly opts: MemoryOptions,
  ) {}

  static schema(opts: { embedderName?: string; dim?: number; embedded?: boolean } = {}): CollectionSchema {
    const vector =
      opts.embedded === false
        ? { dim: opts.dim ?? 512, metric: "cosine" as const }
        : { dim: opts.dim ?? 512, metric: "cosine" as const, embedder: opts.embedderName ?? "local", source: "text" };
    return {
      vectors: { [VECTOR]: vector },
      indexes: { session: "keyword", agent: "keyword", user: "keyword", expiresAt: "number", updatedAt: "number" },
    };
  }

  /** Opens (creating when missing) the memory collection. */
  static async open(db: DatabaseApi, opts: MemoryOptions = {}): Promise<MemoryStore> {
    const name = opts.collection ?? "memory";
    const embedder = opts.embedder ? managedEmbedder(opts.embedder) : null;
    let coll: CollectionApi;
    try {
      coll = await db.collection(name);
    } catch (e) {
      if (!isQuiverError(e, "NOT_FOUND")) throw e;
      const dim = opts.dim ?? opts.embedder?.dim ?? 512;
      coll = await db.createCollection(
        name,
        MemoryStore.schema({ embedderName: opts.embedderName, dim, embedded: embedder === null }),
        { ifNotExists: true },
      );
    }
    const spec = coll.schema.vectors[VECTOR];
    if (!spec)
      throw new QuiverError(
        "INVALID_ARGUMENT",
        `collection "${name}" is not a memory collection (it has no vector "${VECTOR}")`,
      );
    if (!embedder && spec.embedder === undefined) {
      throw new QuiverError(
        "INVALID_ARGUMENT",
        `collection "${name}" has no embedder bound to its vector; pass { embedder } to MemoryStore.open`,
      );
    }
    return new MemoryStore(coll, embedder, opts);
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  /** What to send for a text: a vector embedded here, or the text for the database to embed. */
  private async vectorOf(text: string): Promise<number[] | Float32Array | string> {
    if (!this.embedder) return text;
    const [v] = await this.embedder.embed([text]);
    return v;
  }

  /** Live (unexpired) memories in a scope. */
  private liveFilter(scope: MemoryScope, extra?: Filter): Filter {
    const now = this.now();
    const parts: Filter[] = [
      scopeFilter(scope),
      { $or: [{ expiresAt: { $exists: false } }, { expiresAt: { $gt: now } }] },
    ];
    if (extra !== undefined) parts.push(extra);
    return { $and: parts };
  }

  /**
   * Stores a memory, or merges it into a near-duplicate in the same scope (the newer wording
   * replaces the older, `mentions` grows, the expiry extends).
   */
  async remember(input: RememberInput): Promise<RememberResult> {
    if (typeof input !== "object" || input === null || typeof input.text !== "string" || input.text.trim() === "") {
      throw QuiverError.fromProblems("INVALID_ARGUMENT", [{ path: "text", message: "must be non-empty text" }]);
    }
    const ttl = input.ttlMs ?? this.opts.defaultTtlMs;
    if (ttl !== undefined && (typeof ttl !== "number" || !(ttl > 0) || !Number.isFinite(ttl))) {
      throw QuiverError.fromProblems("INVALID_ARGUMENT", [
        { path: "ttlMs", message: "must be a positive number of milliseconds" },
      ]);
    }
    const scope = scopeFilter(input);
    const now = this.now();
    const vector = await this.vectorOf(input.text);
    const threshold = this.opts.mergeThreshold ?? 0.9;
    let target: { id: string; prev?: MemoryRecord; similarity?: number } = { id: input.id ?? randomId() };
    if (threshold < 1 && input.id === undefined) {
      const { hits } = await this.collection.query({
        vector: { [VECTOR]: vector } as Record<string, number[]>,
        limit: 1,
        filter: this.liveFilter(input),
      });
      if (hits[0] && hits[0].score >= threshold)
        target = { id: hits[0].id, prev: toRecord(hits[0].id, hits[0].payload), similarity: hits[0].score };
    } else if (input.id !== undefined) {
      const [old] = await this.collection.get([input.id]);
      if (old) target.prev = toRecord(old.id, old.payload);
    }
    const prev = target.prev;
    const expiresAt = ttl !== undefined ? now + ttl : undefined;
    const payload: Record<string, unknown> = {
      ...scope,
      text: input.text,
      createdAt: prev?.createdAt ?? now,
      updatedAt: now,
      mentions: (prev?.mentions ?? 0) + 1,
    };
    // A merge keeps the later expiry; a memory that never expired keeps never expiring.
    const keepForever = prev !== undefined && prev.expiresAt === undefined && target.similarity !== undefined;
    const exp = keepForever
      ? undefined
      : Math.max(expiresAt ?? -Infinity, target.similarity !== undefined ? (prev?.expiresAt ?? -Infinity) : -Infinity);
    if (exp !== undefined && Number.isFinite(exp)) payload.expiresAt = exp;
    const metadata = { ...(target.similarity !== undefined ? prev?.metadata : undefined), ...input.metadata };
    if (Object.keys(metadata).length > 0) payload.metadata = metadata;
    await this.collection.upsert([
      { id: target.id, vectors: { [VECTOR]: vector } as Record<string, number[]>, payload },
    ]);
    await this.maybePurge(now);
    return target.similarity !== undefined
      ? { id: target.id, merged: true, similarity: target.similarity }
      : { id: target.id, merged: false };
  }

  /** Memories most relevant to a query, in a scope; expired ones are never returned. */
  async recall(query: string, opts: RecallOptions = {}): Promise<RecallHit[]> {
    if (typeof query !== "string" || query.trim() === "")
      throw QuiverError.fromProblems("INVALID_ARGUMENT", [{ path: "query", message: "must be non-empty text" }]);
    const limit = opts.limit ?? 5;
    const decay = opts.halfLifeMs !== undefined;
    if (decay && !(opts.halfLifeMs! > 0))
      throw QuiverError.fromProblems("INVALID_ARGUMENT", [
        { path: "halfLifeMs", message: "must be a positive number" },
      ]);
    const weight = Math.min(1, Math.max(0, opts.recencyWeight ?? 0.3));
    const vector = await this.vectorOf(query);
    // With decay, a wider pool lets a recent, slightly less similar memory overtake.
    const pool = decay ? Math.min(1000, Math.max(limit * 5, 50)) : limit;
    const { hits } = await this.collection.query({
      vector: { [VECTOR]: vector } as Record<string, number[]>,
      limit: pool,
      filter: this.liveFilter(opts, opts.filter),
    });
    const now = this.now();
    const out = hits.map((h) => {
      const r = toRecord(h.id, h.payload);
      const recency = decay ? 0.5 ** (Math.max(0, now - r.updatedAt) / opts.halfLifeMs!) : 1;
      const score = decay ? (1 - weight) * h.score + weight * recency : h.score;
      return { ...r, similarity: h.score, score };
    });
    return out
      .filter((h) => opts.minScore === undefined || h.similarity >= opts.minScore)
      .sort((a, b) => b.score - a.score)
      .slice(0, limit);
  }

  /** Live memories of a scope, newest first. */
  async list(scope: MemoryScope = {}, limit = 100): Promise<MemoryRecord[]> {
    const out: MemoryRecord[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.collection.scroll({ cursor, limit: 1000, filter: this.liveFilter(scope) });
      for (const r of page.records) out.push(toRecord(r.id, r.payload));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return out.sort((a, b) => b.updatedAt - a.updatedAt).slice(0, limit);
  }

  /** Forgets memories by id, or every memory of a scope (at least one scope field is required). */
  async forget(what: { id?: string; ids?: string[] } & MemoryScope): Promise<{ deleted: number }> {
    const ids = what.ids ?? (what.id !== undefined ? [what.id] : undefined);
    const scope = scopeFilter(what);
    if (ids) {
      if (Object.keys(scope).length === 0) return this.collection.delete(ids);
      // Ids are not payload fields: check the scope on the records themselves.
      const found = await this.collection.get(ids);
      const inScope = found
        .filter((r) => Object.entries(scope).every(([k, v]) => r.payload?.[k] === v))
        .map((r) => r.id);
      return inScope.length > 0 ? this.collection.delete(inScope) : { deleted: 0 };
    }
    if (Object.keys(scope).length === 0) {
      throw QuiverError.fromProblems("INVALID_ARGUMENT", [
        {
          path: "forget",
          message: "give id, ids, or a scope (session, agent, user); forgetting everything takes dropCollection",
        },
      ]);
    }
    return this.collection.deleteByFilter(scope);
  }

  /** Deletes every expired memory (they are already invisible to recall); compaction then reclaims the space. */
  async purgeExpired(): Promise<{ deleted: number }> {
    const now = this.now();
    this.lastPurge = now;
    return this.collection.deleteByFilter({ expiresAt: { $lte: now } });
  }

  private async maybePurge(now: number): Promise<void> {
    const every = this.opts.purgeIntervalMs ?? 60_000;
    if (every > 0 && now - this.lastPurge >= every) await this.purgeExpired();
  }
}
