/**
 * Chroma's REST API (v2) under `/api/v2`, as the `chromadb` client calls it with embeddings it
 * supplies: the translation is src/compat/chroma/. Only the default tenant and database exist.
 * Collection paths name a collection by name or by its derived id, so they cannot be checked
 * against the key before the handler resolves them: these routes require a key, and the handler
 * works through the key's view of the database (src/server/scoped.ts, metered.ts), which applies
 * the same reach (404), scope (403) and quota (429) as Quiver's own routes. Errors take Chroma's
 * shape `{ error, message }`. docs/compat-chroma.md lists what is supported.
 */
import { isQuiverError, QuiverError, type ErrorCode } from "../core/errors/errors.js";
import type { CollectionApi, DatabaseApi } from "../api/types.js";
import { DEFAULT_LIMITS } from "../api/limits.js";
import { collectionModel, DATABASE, isChroma, resolve, schemaOf, TENANT } from "../compat/chroma/collections.js";
import { countRecords, deleteRecords, getRecords, queryRecords, writeRecords } from "../compat/chroma/records.js";
import { Checker, type Json, unsupported } from "../compat/shape.js";
import type { CollectionInfo, CollectionSchema } from "../core/schema/schema.js";
import { reaches } from "./keys.js";
import type { Dialect, Route, RouteContext } from "./routes.js";

/** The Chroma server release whose API this follows. */
export const CHROMA_API_VERSION = "1.0.0";

const ERROR_NAMES: Partial<Record<ErrorCode, string>> = {
  NOT_FOUND: "NotFoundError",
  ALREADY_EXISTS: "UniqueConstraintError",
  UNAUTHORIZED: "AuthError",
  FORBIDDEN: "PermissionError",
  QUOTA_EXCEEDED: "QuotaError",
  UNSUPPORTED: "NotImplementedError",
  DIMENSION_MISMATCH: "InvalidDimensionException",
};

const CHROMA: Dialect = {
  keyHeaders: ["x-chroma-token"],
  errorBody: (code, message, status) => ({
    error: ERROR_NAMES[code] ?? (status < 500 ? "InvalidArgumentError" : "InternalError"),
    message,
  }),
};

const BASE = "/api/v2";
const DB_PATH = `${BASE}/tenants/{tenant}/databases/{database}`;

function route(
  method: Route["method"],
  path: string,
  summary: string,
  kind: "public" | "key",
  run: (ctx: RouteContext) => Promise<unknown>,
): Route {
  return {
    method,
    path,
    summary,
    requires: { kind },
    dialect: CHROMA,
    ...(method === "POST" || method === "PUT" ? { body: "json" as const } : {}),
    async handle(ctx) {
      return { json: (await run(ctx)) ?? {}, cost: { kind: "none" } };
    },
  };
}

/** The default tenant and database are the only ones. */
function inDefault(ctx: RouteContext): void {
  if (ctx.params.tenant !== TENANT) throw new QuiverError("NOT_FOUND", `tenant ${ctx.params.tenant} not found`);
  if (ctx.params.database !== undefined && ctx.params.database !== DATABASE)
    throw new QuiverError("NOT_FOUND", `database ${ctx.params.database} not found`);
}

async function found(db: DatabaseApi, nameOrId: string): Promise<CollectionInfo> {
  const info = resolve(await db.listCollections(), nameOrId);
  if (!info) throw new QuiverError("NOT_FOUND", `Collection [${nameOrId}] does not exist`);
  return info;
}

/** Refuses a collection whose vectors are not Chroma's one named "embedding". */
function chromaOnly(name: string, schema: CollectionSchema): void {
  if (!isChroma(schema))
    throw unsupported(
      "Chroma",
      `records of "${name}", whose vectors are not one named "embedding" (a collection made outside this API)`,
    );
}

/**
 * The collection a path names, by name or else by its derived id, among those the key reaches.
 * A name (what the client sends) opens one handle; only an id lists the collections, since a
 * listing copies every collection's schema. The lookup is not billed: Quiver's own routes name
 * their collection in the path and pay nothing to find it.
 */
async function named(ctx: RouteContext, db: DatabaseApi): Promise<{ c: CollectionApi; schema: CollectionSchema }> {
  const param = ctx.params.collection;
  if (reaches(ctx.principal!, param)) {
    const c = await db.collection(param).catch((e: unknown) => {
      if (isQuiverError(e, "NOT_FOUND")) return undefined;
      throw e;
    });
    if (c) {
      // A handle copies its schema on every read: read once, and handed to the handler.
      const schema = c.schema;
      chromaOnly(c.name, schema);
      return { c, schema };
    }
  }
  const reachable = (await ctx.db.listCollections()).filter((c) => reaches(ctx.principal!, c.name));
  const info = resolve(reachable, param);
  if (!info) throw new QuiverError("NOT_FOUND", `Collection [${param}] does not exist`);
  chromaOnly(info.name, info.schema);
  return { c: await db.collection(info.name), schema: info.schema };
}

/** A route on one collection (see `named`), worked on through the key's metered view. */
function onCollection(
  method: Route["method"],
  path: string,
  summary: string,
  run: (c: CollectionApi, body: Json, db: DatabaseApi, schema: CollectionSchema) => Promise<unknown>,
): Route {
  return route(method, `${DB_PATH}/collections/{collection}${path}`, summary, "key", async (ctx) => {
    inDefault(ctx);
    const { db } = ctx.keyDb();
    const { c, schema } = await named(ctx, db);
    return run(c, ctx.body, db, schema);
  });
}

export const CHROMA_ROUTES: Route[] = [
  route("GET", `${BASE}/heartbeat`, "Chroma: heartbeat.", "public", async () => ({
    "nanosecond heartbeat": Date.now() * 1e6,
  })),
  route("GET", `${BASE}/version`, "Chroma: server version.", "public", async () => CHROMA_API_VERSION),
  route("GET", `${BASE}/pre-flight-checks`, "Chroma: client limits.", "public", async () => ({
    max_batch_size: DEFAULT_LIMITS.maxBatch,
    supports_base64_encoding: false,
  })),
  route("GET", `${BASE}/auth/identity`, "Chroma: who this key is.", "key", async (ctx) => ({
    user_id: ctx.principal!.id,
    tenant: TENANT,
    databases: [DATABASE],
  })),
  route("GET", `${BASE}/tenants/{tenant}`, "Chroma: the default tenant.", "key", async (ctx) => {
    inDefault(ctx);
    return { name: TENANT };
  }),
  route("GET", DB_PATH, "Chroma: the default database.", "key", async (ctx) => {
    inDefault(ctx);
    return { id: "00000000-0000-0000-0000-000000000000", name: DATABASE, tenant: TENANT };
  }),
  route("POST", `${BASE}/tenants`, "Not supported: creating tenants (501).", "key", async () => {
    throw unsupported("Chroma", "creating tenants (only default_tenant exists)");
  }),
  route("POST", `${BASE}/tenants/{tenant}/databases`, "Not supported: creating databases (501).", "key", async () => {
    throw unsupported("Chroma", "creating databases (only default_database exists)");
  }),
  route("GET", `${DB_PATH}/collections`, "Chroma: list collections.", "key", async (ctx) => {
    inDefault(ctx);
    const check = new Checker();
    const number = (name: string) => (ctx.search.has(name) ? Number(ctx.search.get(name)) : undefined);
    const limit = check.int(number("limit"), "limit") ?? Number.POSITIVE_INFINITY;
    const offset = check.int(number("offset"), "offset") ?? 0;
    check.done();
    const all = await ctx.keyDb().db.listCollections();
    return all.slice(offset, offset + limit).map(collectionModel);
  }),
  route("GET", `${DB_PATH}/collections_count`, "Chroma: number of collections.", "key", async (ctx) => {
    inDefault(ctx);
    return (await ctx.keyDb().db.listCollections()).length;
  }),
  route("POST", `${DB_PATH}/collections`, "Chroma: create a collection (get_or_create).", "key", async (ctx) => {
    inDefault(ctx);
    const check = new Checker();
    const name = check.string(ctx.body.name, "name");
    if (!name) check.fail("name", "must be a collection name");
    const schema = schemaOf(ctx.body, check);
    const getOrCreate = check.bool(ctx.body.get_or_create, "get_or_create") ?? false;
    check.done();
    const { db } = ctx.keyDb();
    const existing = (await db.listCollections()).find((c) => c.name === name);
    if (existing && getOrCreate) return collectionModel(existing);
    if (existing) throw new QuiverError("ALREADY_EXISTS", `Collection [${name}] already exists`);
    await db.createCollection(name as string, schema);
    return collectionModel(await found(db, name as string));
  }),
  route("GET", `${DB_PATH}/collections/{collection}`, "Chroma: a collection, by name or id.", "key", async (ctx) => {
    inDefault(ctx);
    return collectionModel(await found(ctx.keyDb().db, ctx.params.collection));
  }),
  route(
    "PUT",
    `${DB_PATH}/collections/{collection}`,
    "Not supported: modifying a collection (501).",
    "key",
    async () => {
      throw unsupported("Chroma", "modifying a collection (name, metadata or configuration)");
    },
  ),
  route("DELETE", `${DB_PATH}/collections/{collection}`, "Chroma: delete a collection.", "key", async (ctx) => {
    inDefault(ctx);
    const { db } = ctx.keyDb();
    await db.dropCollection((await found(db, ctx.params.collection)).name);
    return {};
  }),
  onCollection("POST", "/add", "Chroma: add records (existing ids are left unchanged).", (c, body, db) =>
    writeRecords(db, c, body, "add"),
  ),
  onCollection("POST", "/upsert", "Chroma: add or replace records.", (c, body, db) =>
    writeRecords(db, c, body, "upsert"),
  ),
  onCollection("POST", "/update", "Chroma: update existing records.", (c, body, db) =>
    writeRecords(db, c, body, "update"),
  ),
  onCollection("POST", "/get", "Chroma: records by ids and filters.", getRecords),
  onCollection("POST", "/query", "Chroma: nearest neighbours of embeddings.", (c, body, _db, schema) =>
    queryRecords(c, body, schema),
  ),
  onCollection("GET", "/count", "Chroma: number of records.", countRecords),
  onCollection("POST", "/delete", "Chroma: delete records by ids and filters.", deleteRecords),
  onCollection("POST", "/fork", "Not supported: fork (501).", async () => {
    throw unsupported("Chroma", "fork");
  }),
];
