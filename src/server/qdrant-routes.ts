/**
 * Qdrant's REST API at the root of `quiver serve`, as `@qdrant/js-client-rest` calls it: the
 * translation is src/compat/qdrant/; this table adds what every route has (declared requirements,
 * the key in Qdrant's `api-key` header or `Authorization: Bearer`, scopes, quotas and metering
 * through the key's database view) and Qdrant's envelopes: `{ result, status: "ok", time }` and
 * `{ status: { error }, time }` with the catalog's status. docs/compat-qdrant.md lists what is supported.
 */
import { QuiverError } from "../core/errors/errors.js";
import type { CollectionApi } from "../api/types.js";
import { collectionInfo, schemaOf } from "../compat/qdrant/collections.js";
import {
  clearPayload,
  COMPLETED,
  countPoints,
  deletePayload,
  deletePoints,
  overwritePayload,
  retrievePoint,
  retrievePoints,
  scrollPoints,
  setPayload,
  upsertPoints,
} from "../compat/qdrant/points.js";
import { planQuery, planSearch, queryGroups, runSearch } from "../compat/qdrant/query.js";
import { Checker, isObject, type Json, unsupported } from "../compat/shape.js";
import { reaches } from "./keys.js";
import type { Dialect, Requirement, Route, RouteContext } from "./routes.js";

/** The Qdrant API release this translation follows; clients compare it with their own version. */
export const QDRANT_API_VERSION = "1.19.0";

const QDRANT: Dialect = {
  keyHeaders: ["api-key"],
  errorBody: (_code, message) => ({ status: { error: message }, time: 0 }),
};

const READ: Requirement = { kind: "collection", scope: "read" };
const WRITE: Requirement = { kind: "collection", scope: "write" };

type Handler = (ctx: RouteContext) => Promise<unknown>;

function route(method: Route["method"], path: string, summary: string, requires: Requirement, run: Handler): Route {
  return {
    method,
    path,
    summary,
    requires,
    dialect: QDRANT,
    ...(method === "GET" || method === "DELETE" ? {} : { body: "json" as const }),
    async handle(ctx) {
      const started = performance.now();
      const result = await run(ctx);
      return { json: { result, status: "ok", time: (performance.now() - started) / 1000 }, cost: { kind: "none" } };
    },
  };
}

/** A route on one collection: the handler gets it through the key's metered view. */
function onCollection(
  method: Route["method"],
  path: string,
  summary: string,
  requires: Requirement,
  run: (c: CollectionApi, body: Json, ctx: RouteContext) => Promise<unknown>,
): Route {
  return route(method, `/collections/{name}${path}`, summary, requires, async (ctx) => {
    const c = await ctx.keyDb().db.collection(ctx.params.name);
    return run(c, ctx.body, ctx);
  });
}

function refused(method: Route["method"], path: string, feature: string): Route {
  return route(method, path, `Not supported: ${feature} (501).`, { kind: "key" }, async () => {
    throw unsupported("Qdrant", feature);
  });
}

/** Several searches, each answered as `shape` makes it (query/batch wraps each in `{ points }`). */
async function batch(
  c: CollectionApi,
  body: Json,
  plan: typeof planQuery,
  shape: (points: Json[]) => unknown,
): Promise<unknown[]> {
  if (!Array.isArray(body.searches))
    throw QuiverError.fromProblems("INVALID_ARGUMENT", [{ path: "searches", message: "must be an array of searches" }]);
  const out: unknown[] = [];
  for (const [i, s] of body.searches.entries()) {
    const check = new Checker();
    if (!isObject(s)) check.fail(`searches[${i}]`, "must be an object");
    const { points } = await runSearch(c, plan(isObject(s) ? s : {}, check), check);
    out.push(shape(points));
  }
  return out;
}

export const QDRANT_ROUTES: Route[] = [
  {
    // Qdrant answers its root without the envelope.
    method: "GET",
    path: "/",
    summary: "Qdrant: version information.",
    requires: { kind: "public" },
    dialect: QDRANT,
    async handle() {
      return { json: { title: "quiver (Qdrant-compatible API)", version: QDRANT_API_VERSION }, cost: { kind: "none" } };
    },
  },
  route("GET", "/collections", "Qdrant: the collections this key reaches.", { kind: "key" }, async (ctx) => ({
    collections: (await ctx.keyDb().db.listCollections()).map((c) => ({ name: c.name })),
  })),
  route(
    "GET",
    "/collections/{name}/exists",
    "Qdrant: whether a collection exists (within the key's reach).",
    { kind: "key" },
    async (ctx) => {
      const name = ctx.params.name;
      if (!reaches(ctx.principal!, name)) return { exists: false };
      return { exists: (await ctx.db.listCollections()).some((c) => c.name === name) };
    },
  ),
  route("GET", "/collections/{name}", "Qdrant: a collection's configuration and count.", READ, async (ctx) => {
    const found = (await ctx.keyDb().db.listCollections()).find((c) => c.name === ctx.params.name);
    if (!found) throw new QuiverError("NOT_FOUND", `Collection \`${ctx.params.name}\` doesn't exist!`);
    return collectionInfo(found);
  }),
  route("PUT", "/collections/{name}", "Qdrant: create a collection.", WRITE, async (ctx) => {
    const check = new Checker();
    const schema = schemaOf(ctx.body, check);
    check.done();
    await ctx.keyDb().db.createCollection(ctx.params.name, schema);
    return true;
  }),
  route("DELETE", "/collections/{name}", "Qdrant: delete a collection.", WRITE, async (ctx) =>
    ctx.keyDb().db.dropCollection(ctx.params.name),
  ),
  refused("PATCH", "/collections/{name}", "updating a collection's parameters"),
  // Payload indexes only make filters faster in Quiver, never change their answers; Quiver declares
  // them at creation, so a later one is acknowledged and filters on that field scan (documented).
  onCollection(
    "PUT",
    "/index",
    "Qdrant: create a payload index (acknowledged; filters are exact without it).",
    WRITE,
    async () => COMPLETED,
  ),
  onCollection(
    "DELETE",
    "/index/{field}",
    "Qdrant: delete a payload index (acknowledged).",
    WRITE,
    async () => COMPLETED,
  ),
  onCollection("PUT", "/points", "Qdrant: upsert points (list or batch form).", WRITE, upsertPoints),
  onCollection("POST", "/points", "Qdrant: retrieve points by id.", READ, retrievePoints),
  onCollection("GET", "/points/{id}", "Qdrant: one point by id.", READ, async (c, _body, ctx) => {
    const p = await retrievePoint(c, ctx.params.id);
    if (!p) throw new QuiverError("NOT_FOUND", `No point with id ${ctx.params.id} found`);
    return p;
  }),
  onCollection("POST", "/points/delete", "Qdrant: delete points by ids or filter.", WRITE, deletePoints),
  onCollection(
    "POST",
    "/points/scroll",
    "Qdrant: one page of points; pass next_page_offset back as offset.",
    READ,
    scrollPoints,
  ),
  onCollection("POST", "/points/count", "Qdrant: count points, optionally filtered.", READ, countPoints),
  onCollection("POST", "/points/payload", "Qdrant: set payload keys.", WRITE, setPayload),
  onCollection("PUT", "/points/payload", "Qdrant: overwrite payloads.", WRITE, overwritePayload),
  onCollection("POST", "/points/payload/delete", "Qdrant: delete payload keys.", WRITE, deletePayload),
  onCollection("POST", "/points/payload/clear", "Qdrant: clear payloads.", WRITE, clearPayload),
  onCollection("POST", "/points/query", "Qdrant: nearest neighbours (universal query).", READ, async (c, body) => {
    const check = new Checker();
    return { points: (await runSearch(c, planQuery(body, check), check)).points };
  }),
  onCollection("POST", "/points/query/batch", "Qdrant: several queries.", READ, (c, body) =>
    batch(c, body, planQuery, (points) => ({ points })),
  ),
  onCollection(
    "POST",
    "/points/query/groups",
    "Qdrant: nearest neighbours grouped by a payload key.",
    READ,
    queryGroups,
  ),
  onCollection("POST", "/points/search", "Qdrant: nearest neighbours (older API).", READ, async (c, body) => {
    const check = new Checker();
    return (await runSearch(c, planSearch(body, check), check)).points;
  }),
  onCollection("POST", "/points/search/batch", "Qdrant: several searches (older API).", READ, (c, body) =>
    batch(c, body, planSearch, (points) => points),
  ),
  refused("POST", "/collections/{name}/points/search/groups", "search/groups (use query/groups)"),
  refused("PUT", "/collections/{name}/points/vectors", "updating vectors alone (upsert the whole point)"),
  refused("POST", "/collections/{name}/points/vectors/delete", "deleting vectors alone"),
  refused("POST", "/collections/{name}/points/batch", "batched point updates"),
  refused("POST", "/collections/{name}/points/recommend", "recommend"),
  refused("POST", "/collections/{name}/points/discover", "discover"),
  refused("POST", "/collections/{name}/facet", "facet"),
  refused("GET", "/collections/{name}/snapshots", "snapshots"),
  refused("GET", "/aliases", "aliases"),
  refused("POST", "/collections/aliases", "aliases"),
];
