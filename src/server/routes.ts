/**
 * The route table: every HTTP operation, what it requires (a test fails if a route declares
 * nothing), its body schema, and its handler over the public database API. The app
 * (src/server/app.ts) runs auth, limits and validation before any handler.
 */
import { QuiverError, type ErrorCode } from "../core/errors/errors.js";
import type { Deadline } from "../core/util/deadline.js";
import type { CollectionApi, DatabaseApi } from "../api/types.js";
import type { BodySchemas } from "./bodies.js";
import { queryCost } from "./costs.js";
import { reaches, type KeyStore, type Principal, type Scope } from "./keys.js";
import type { Cost, Units, UsageMeter } from "./usage.js";

/**
 * What a route requires. `public`: nothing. `key`: any valid key (the handler shows only what the
 * key reaches). `admin`: an admin key. `collection`: the `{name}` collection within the key's reach
 * (else 404, as if it did not exist) and at least `scope` (else 403).
 */
export type Requirement =
  | { kind: "public" }
  | { kind: "key" }
  | { kind: "admin" }
  | { kind: "collection"; scope: Exclude<Scope, "admin"> };

export interface RouteContext {
  db: DatabaseApi;
  /** The request's time budget (ServerLimits.requestTimeoutMs), handed to the database's reads. */
  deadline: Deadline;
  params: Record<string, string>;
  /** The query string (`?limit=10`); Quiver's own routes take everything in the body. */
  search: URLSearchParams;
  // The body has passed the route's schema; handlers read the fields that schema declares.
  body: Record<string, unknown>;
  bodyBytes: number;
  principal: Principal | null;
  keys: KeyStore;
  usage: UsageMeter;
  /**
   * The database as this request's key sees it (src/server/scoped.ts), every call checked against the
   * key's quota and billed as the equivalent REST request (src/server/metered.ts); `tally` holds the
   * units billed so far. For routes that make several calls per request (the foreign-API dialects);
   * once it is used, the request is billed what these calls cost and the route's `cost` is ignored.
   */
  keyDb(): { db: DatabaseApi; tally: Units };
  metricsText: () => Promise<string>;
  openapi: () => unknown;
  docsHtml: () => string;
  /** The database's recovery report from its open (AppOptions.recovery), or null. */
  recovery: () => unknown;
}

export interface RouteResult {
  status?: number;
  json?: unknown;
  text?: string;
  contentType?: string;
  cost: Cost;
}

/**
 * A foreign HTTP API served beside Quiver's own (src/server/compat-routes.ts): the extra headers
 * its clients send the key in, and the shape of its error bodies. Keys, scopes, quotas and
 * metering are the app's, as on every route.
 */
export interface Dialect {
  /** Headers that carry the key besides `Authorization: Bearer` (e.g. Qdrant's `api-key`). */
  keyHeaders: readonly string[];
  /** The error body this API's clients read. */
  errorBody(code: ErrorCode, message: string, status: number): unknown;
}

export interface Route {
  method: "GET" | "POST" | "PUT" | "DELETE" | "PATCH";
  /** OpenAPI-style template: `/v1/collections/{name}/query`. */
  path: string;
  summary: string;
  requires: Requirement;
  /** The body's schema, or `json`: any JSON value, checked by the handler (foreign dialects). */
  body?: keyof BodySchemas | "json";
  /** Set on routes of a foreign API: its key headers and error shape. */
  dialect?: Dialect;
  /** The shape of a successful response, for the OpenAPI document. */
  response?: Record<string, unknown>;
  handle(ctx: RouteContext): Promise<RouteResult>;
}

const NONE: Cost = { kind: "none" };
const READ: Cost = { kind: "read" };
const RECORD = {
  type: "object",
  properties: { id: { type: "string" }, payload: { type: "object" }, vectors: { type: "object" } },
};
const INFO = {
  type: "object",
  properties: { name: { type: "string" }, schema: { type: "object" }, count: { type: "integer" } },
};

async function coll(ctx: RouteContext): Promise<CollectionApi> {
  return ctx.db.collection(ctx.params.name);
}

async function info(db: DatabaseApi, name: string): Promise<unknown> {
  const found = (await db.listCollections()).find((c) => c.name === name);
  if (!found) throw new QuiverError("NOT_FOUND", `collection "${name}" does not exist`);
  return found;
}

function readOpts(body: Record<string, unknown>): { withPayload?: boolean; withVectors?: boolean } {
  return { withPayload: body.withPayload as boolean | undefined, withVectors: body.withVectors as boolean | undefined };
}

export const ROUTES: Route[] = [
  {
    method: "GET",
    path: "/healthz",
    summary: "Liveness: 200 {ok:true} while the database is open; no details.",
    requires: { kind: "public" },
    async handle(ctx) {
      await ctx.db.listCollections();
      return { json: { ok: true }, cost: NONE };
    },
  },
  {
    method: "GET",
    path: "/openapi.json",
    summary: "This OpenAPI document, generated from the schemas that validate requests.",
    requires: { kind: "public" },
    async handle(ctx) {
      return { json: ctx.openapi(), cost: NONE };
    },
  },
  {
    method: "GET",
    path: "/docs",
    summary: "A readable page of every route.",
    requires: { kind: "public" },
    async handle(ctx) {
      return { text: ctx.docsHtml(), contentType: "text/html; charset=utf-8", cost: NONE };
    },
  },
  {
    method: "GET",
    path: "/metrics",
    summary: "Prometheus metrics (admin key).",
    requires: { kind: "admin" },
    async handle(ctx) {
      return { text: await ctx.metricsText(), contentType: "text/plain; version=0.0.4", cost: NONE };
    },
  },
  {
    method: "GET",
    path: "/v1/collections",
    summary: "The collections this key reaches, with schema and count.",
    requires: { kind: "key" },
    response: { type: "object", properties: { collections: { type: "array", items: INFO } } },
    async handle(ctx) {
      const all = await ctx.db.listCollections();
      return { json: { collections: all.filter((c) => reaches(ctx.principal!, c.name)) }, cost: READ };
    },
  },
  {
    method: "PUT",
    path: "/v1/collections/{name}",
    summary: "Create a collection (ifNotExists: succeed if it exists).",
    requires: { kind: "collection", scope: "write" },
    body: "createCollection",
    response: INFO,
    async handle(ctx) {
      const { schema, ifNotExists } = ctx.body as { schema: never; ifNotExists?: boolean };
      await ctx.db.createCollection(ctx.params.name, schema, { ifNotExists });
      return { json: await info(ctx.db, ctx.params.name), cost: { kind: "write", flat: true } };
    },
  },
  {
    method: "GET",
    path: "/v1/collections/{name}",
    summary: "A collection's schema and count.",
    requires: { kind: "collection", scope: "read" },
    response: INFO,
    async handle(ctx) {
      return { json: await info(ctx.db, ctx.params.name), cost: READ };
    },
  },
  {
    method: "DELETE",
    path: "/v1/collections/{name}",
    summary: "Drop a collection and all its records.",
    requires: { kind: "collection", scope: "write" },
    response: { type: "object", properties: { dropped: { type: "boolean" } } },
    async handle(ctx) {
      return { json: { dropped: await ctx.db.dropCollection(ctx.params.name) }, cost: { kind: "write", flat: true } };
    },
  },
  {
    method: "POST",
    path: "/v1/collections/{name}/upsert",
    summary: "Insert or wholly replace records; durable when answered.",
    requires: { kind: "collection", scope: "write" },
    body: "upsert",
    response: { type: "object", properties: { upserted: { type: "integer" } } },
    async handle(ctx) {
      const r = await (await coll(ctx)).upsert(ctx.body.records as never);
      return { json: r, cost: { kind: "write", bytesWritten: ctx.bodyBytes } };
    },
  },
  {
    method: "POST",
    path: "/v1/collections/{name}/delete",
    summary: "Delete records by id.",
    requires: { kind: "collection", scope: "write" },
    body: "ids",
    response: { type: "object", properties: { deleted: { type: "integer" } } },
    async handle(ctx) {
      const r = await (await coll(ctx)).delete(ctx.body.ids as string[]);
      return { json: r, cost: { kind: "write", deleted: r.deleted } };
    },
  },
  {
    method: "POST",
    path: "/v1/collections/{name}/delete-by-filter",
    summary: "Delete every record matching a filter.",
    requires: { kind: "collection", scope: "write" },
    body: "deleteByFilter",
    response: { type: "object", properties: { deleted: { type: "integer" } } },
    async handle(ctx) {
      const r = await (await coll(ctx)).deleteByFilter(ctx.body.filter as never, { deadline: ctx.deadline });
      return { json: r, cost: { kind: "write", deleted: r.deleted } };
    },
  },
  {
    method: "POST",
    path: "/v1/collections/{name}/get",
    summary: "Records by id, in the order asked; missing ids left out.",
    requires: { kind: "collection", scope: "read" },
    body: "get",
    response: { type: "object", properties: { records: { type: "array", items: RECORD } } },
    async handle(ctx) {
      const records = await (await coll(ctx)).get(ctx.body.ids as string[], readOpts(ctx.body));
      return { json: { records }, cost: READ };
    },
  },
  {
    method: "POST",
    path: "/v1/collections/{name}/count",
    summary: "Number of records, or of records matching a filter.",
    requires: { kind: "collection", scope: "read" },
    body: "count",
    response: { type: "object", properties: { count: { type: "integer" } } },
    async handle(ctx) {
      return {
        json: { count: await (await coll(ctx)).count(ctx.body.filter as never, { deadline: ctx.deadline }) },
        cost: READ,
      };
    },
  },
  {
    method: "POST",
    path: "/v1/collections/{name}/scroll",
    summary: "One page of records in id order; pass nextCursor back.",
    requires: { kind: "collection", scope: "read" },
    body: "scroll",
    response: {
      type: "object",
      properties: { records: { type: "array", items: RECORD }, nextCursor: { type: ["string", "null"] } },
    },
    async handle(ctx) {
      return { json: await (await coll(ctx)).scroll(ctx.body as never, { deadline: ctx.deadline }), cost: READ };
    },
  },
  {
    method: "POST",
    path: "/v1/collections/{name}/query",
    summary: "Nearest neighbours of a vector, optionally filtered.",
    requires: { kind: "collection", scope: "read" },
    body: "query",
    response: { type: "object", properties: { hits: { type: "array", items: RECORD }, plan: { type: "object" } } },
    async handle(ctx) {
      const c = await coll(ctx);
      // Every field the query schema declares is passed as it is: see src/server/bodies.ts.
      const r = await c.query(ctx.body as never, { deadline: ctx.deadline });
      return { json: r, cost: queryCost(c, ctx.body, r.plan) };
    },
  },
  {
    method: "GET",
    path: "/v1/stats",
    summary: "Database statistics (admin key).",
    requires: { kind: "admin" },
    async handle(ctx) {
      return { json: await ctx.db.stats(), cost: NONE };
    },
  },
  {
    method: "GET",
    path: "/v1/recovery",
    summary:
      "What opening the database found (admin key): segments loaded, WAL replayed, torn bytes cut, stale files removed, warnings, damage.",
    requires: { kind: "admin" },
    response: { type: "object", properties: { recovery: { type: ["object", "null"] } } },
    async handle(ctx) {
      return { json: { recovery: ctx.recovery() }, cost: NONE };
    },
  },
  {
    method: "POST",
    path: "/v1/checkpoint",
    summary: "Write a checkpoint now (admin key).",
    requires: { kind: "admin" },
    async handle(ctx) {
      await ctx.db.checkpoint();
      return { json: { ok: true }, cost: NONE };
    },
  },
  {
    method: "GET",
    path: "/v1/key",
    summary: "The key making this request: id, name, scope, the collections or prefix it reaches, its quota.",
    requires: { kind: "key" },
    response: {
      type: "object",
      properties: {
        id: { type: "string" },
        name: { type: "string" },
        scope: { type: "string", enum: ["admin", "write", "read"] },
        collections: { type: "array", items: { type: "string" } },
        prefix: { type: "string" },
        quota: { type: "object" },
      },
    },
    async handle(ctx) {
      // What a client (the console) needs to offer only what this key may do; nothing secret.
      const { id, name, scope, collections, prefix, quota } = ctx.principal!;
      return { json: { id, name, scope, collections, prefix, quota }, cost: NONE };
    },
  },
  {
    method: "GET",
    path: "/v1/keys",
    summary: "List API keys (never the keys or their hashes).",
    requires: { kind: "admin" },
    async handle(ctx) {
      return { json: { keys: ctx.keys.list() }, cost: NONE };
    },
  },
  {
    method: "POST",
    path: "/v1/keys",
    summary: "Create an API key; the key is returned once.",
    requires: { kind: "admin" },
    body: "createKey",
    async handle(ctx) {
      const r = await ctx.keys.create(ctx.body as never);
      return { status: 201, json: { key: r.key, ...r.record }, cost: NONE };
    },
  },
  {
    method: "DELETE",
    path: "/v1/keys/{id}",
    summary: "Revoke an API key at once.",
    requires: { kind: "admin" },
    async handle(ctx) {
      if (!(await ctx.keys.revoke(ctx.params.id)))
        throw new QuiverError("NOT_FOUND", `key "${ctx.params.id}" does not exist`);
      return { json: { revoked: true }, cost: NONE };
    },
  },
  {
    method: "GET",
    path: "/v1/usage",
    summary: "Units used: every key and collection (admin), or this key's own.",
    requires: { kind: "key" },
    async handle(ctx) {
      const p = ctx.principal!;
      return { json: p.scope === "admin" ? ctx.usage.all() : { keys: [ctx.usage.ofKey(p.id)] }, cost: NONE };
    },
  },
];
