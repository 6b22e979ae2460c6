/**
 * `quiverdb/client`: the Database API over HTTP. `connect(url, { apiKey })` returns a database that
 * implements the same interface as the embedded one (src/api/types.ts): the same calls, results
 * and QuiverError codes with their paths. Uses only the web-standard fetch, so it runs everywhere.
 */
import { ERROR_CATALOG, QuiverError, type ErrorCode, type Problem } from "../core/errors/errors.js";
import type { CollectionApi, DatabaseApi } from "../api/types.js";
import type { Filter, QueryRequest, QueryResult, RecordOutput } from "../api/query.js";
import type { DatabaseStats, ReadOptions, RecordInput, ScrollRequest } from "../api/types.js";
import type { CollectionInfo, CollectionSchema } from "../core/schema/schema.js";

export type {
  CollectionApi,
  DatabaseApi,
  DatabaseStats,
  ReadOptions,
  RecordInput,
  ScrollRequest,
} from "../api/types.js";
export type { Filter, Hit, QueryPlan, QueryRequest, QueryResult, RecordOutput } from "../api/query.js";
export type { CollectionInfo, CollectionSchema } from "../core/schema/schema.js";

export interface ClientOptions {
  /** An API key: sent as `Authorization: Bearer <key>`. */
  apiKey?: string;
  /** A fetch implementation (default: the global one). */
  fetch?: typeof globalThis.fetch;
  /** Called with the units every request cost (from the quiver-read-units / quiver-write-units headers). */
  onUsage?: (usage: { readUnits: number; writeUnits: number; method: string; path: string }) => void;
}

/** Typed arrays become JSON arrays (JSON.stringify would write them as objects). */
function replacer(_key: string, value: unknown): unknown {
  return ArrayBuffer.isView(value) && !(value instanceof DataView)
    ? Array.from(value as unknown as ArrayLike<number>)
    : value;
}

/**
 * The code for an error answer without a Quiver body (from a proxy or gateway): the catalog's only
 * code with that status when there is one; otherwise UNAVAILABLE for 5xx (something between us and
 * the server failed, the operation may or may not have run) and INVALID_ARGUMENT for 4xx.
 */
function codeForStatus(status: number): ErrorCode {
  if (status >= 500) return "UNAVAILABLE";
  const codes = (Object.keys(ERROR_CATALOG) as ErrorCode[]).filter((c) => ERROR_CATALOG[c].status === status);
  return codes.length === 1 ? codes[0] : "INVALID_ARGUMENT";
}

function seg(name: string): string {
  return encodeURIComponent(name);
}

export class QuiverClient implements DatabaseApi {
  private closed = false;
  private readonly fetchFn: typeof globalThis.fetch;
  private readonly base: string;

  constructor(
    url: string,
    private readonly options: ClientOptions = {},
  ) {
    this.base = url.replace(/\/+$/, "");
    this.fetchFn = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  /**
   * Sends one request; rejects with the server's QuiverError (same code, message and problems).
   * A successful answer is parsed as JSON, or returned as it is with `as: "text"` (/metrics).
   */
  async request<T>(method: string, path: string, body?: unknown, as: "json" | "text" = "json"): Promise<T> {
    if (this.closed) throw new QuiverError("CLOSED", "the client is closed");
    const headers: Record<string, string> = { accept: "application/json" };
    if (this.options.apiKey) headers.authorization = `Bearer ${this.options.apiKey}`;
    let payload: string | undefined;
    if (body !== undefined) {
      headers["content-type"] = "application/json";
      payload = JSON.stringify(body, replacer);
    }
    let res: Response;
    let text: string;
    try {
      res = await this.fetchFn(this.base + path, { method, headers, body: payload });
      text = await res.text();
    } catch (e) {
      // The request may have reached the server and been applied before the connection failed.
      throw new QuiverError(
        "UNAVAILABLE",
        `cannot reach the Quiver server at ${this.base}: ${e instanceof Error ? e.message : String(e)}`,
        { cause: e },
      );
    }
    this.options.onUsage?.({
      readUnits: Number(res.headers.get("quiver-read-units") ?? 0),
      writeUnits: Number(res.headers.get("quiver-write-units") ?? 0),
      method,
      path,
    });
    if (res.ok && as === "text") return text as T;
    let json: unknown;
    try {
      json = text === "" ? undefined : JSON.parse(text);
    } catch {
      // Not the Quiver server's answer (a proxy's page, a cut connection): whether it acted is unknown.
      throw new QuiverError("UNAVAILABLE", `the server answered ${res.status} with a body that is not JSON`);
    }
    if (!res.ok) {
      const err = (json ?? {}) as { code?: unknown; message?: unknown; problems?: unknown };
      const code =
        typeof err.code === "string" && Object.hasOwn(ERROR_CATALOG, err.code) ? (err.code as ErrorCode) : null;
      throw new QuiverError(
        code ?? codeForStatus(res.status),
        typeof err.message === "string" ? err.message : `HTTP ${res.status}`,
        { problems: Array.isArray(err.problems) ? (err.problems as Problem[]) : [] },
      );
    }
    return json as T;
  }

  async createCollection(
    name: string,
    schema: CollectionSchema,
    opts: { ifNotExists?: boolean } = {},
  ): Promise<RemoteCollection> {
    const info = await this.request<CollectionInfo>("PUT", `/v1/collections/${seg(name)}`, {
      schema,
      ...(opts.ifNotExists !== undefined ? { ifNotExists: opts.ifNotExists } : {}),
    });
    return new RemoteCollection(this, info.name, info.schema);
  }

  async collection(name: string): Promise<RemoteCollection> {
    const info = await this.request<CollectionInfo>("GET", `/v1/collections/${seg(name)}`);
    return new RemoteCollection(this, info.name, info.schema);
  }

  async listCollections(): Promise<CollectionInfo[]> {
    return (await this.request<{ collections: CollectionInfo[] }>("GET", "/v1/collections")).collections;
  }

  async dropCollection(name: string): Promise<boolean> {
    return (await this.request<{ dropped: boolean }>("DELETE", `/v1/collections/${seg(name)}`)).dropped;
  }

  async stats(): Promise<DatabaseStats> {
    return this.request<DatabaseStats>("GET", "/v1/stats");
  }

  /** The server's Prometheus metrics as text (GET /metrics, admin key). */
  async metrics(): Promise<string> {
    return this.request<string>("GET", "/metrics", undefined, "text");
  }

  async checkpoint(): Promise<void> {
    await this.request("POST", "/v1/checkpoint");
  }

  /** Ends this client; the server and its database keep running. */
  async close(): Promise<void> {
    this.closed = true;
  }
}

export class RemoteCollection implements CollectionApi {
  private readonly path: string;

  constructor(
    private readonly client: QuiverClient,
    readonly name: string,
    readonly schema: CollectionSchema,
  ) {
    this.path = `/v1/collections/${seg(name)}`;
  }

  private post<T>(verb: string, body: unknown): Promise<T> {
    return this.client.request<T>("POST", `${this.path}/${verb}`, body);
  }

  upsert(records: RecordInput[]): Promise<{ upserted: number }> {
    return this.post("upsert", { records });
  }

  delete(ids: string[]): Promise<{ deleted: number }> {
    return this.post("delete", { ids });
  }

  deleteByFilter(filter: Filter): Promise<{ deleted: number }> {
    return this.post("delete-by-filter", { filter });
  }

  async get(ids: string[], opts: ReadOptions = {}): Promise<RecordOutput[]> {
    return (await this.post<{ records: RecordOutput[] }>("get", { ids, ...opts })).records;
  }

  async count(filter?: Filter): Promise<number> {
    return (await this.post<{ count: number }>("count", filter === undefined ? {} : { filter })).count;
  }

  scroll(req: ScrollRequest = {}): Promise<{ records: RecordOutput[]; nextCursor: string | null }> {
    return this.post("scroll", req);
  }

  query(req: QueryRequest): Promise<QueryResult> {
    return this.post("query", req);
  }
}

/**
 * Connects to a Quiver server. Exported by the package entry `quiverdb/client`.
 * @example
 * const db = connect("http://127.0.0.1:8080", { apiKey: process.env.QUIVER_KEY });
 * const docs = await db.collection("docs");
 * const { hits } = await docs.query({ vector: embedding, limit: 5 });
 */
export function connect(url: string, options: ClientOptions = {}): QuiverClient {
  return new QuiverClient(url, options);
}

export { QuiverError, isQuiverError, type ErrorCode, type Problem } from "../core/errors/errors.js";
