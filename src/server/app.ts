/**
 * The Quiver server as a web-standard `fetch(Request) => Response` app: it runs unchanged in
 * Bun, Deno and edge workers. Underneath, `exchange` works on a smaller seam (AppRequest ->
 * AppResponse) that a web Request satisfies through `fetch` and that the Node adapter
 * (src/node/http-server.ts) fills straight from node:http, because building a web Request and
 * Response per call (headers object, body stream, response body copy) cost Node about a fifth of
 * a small query's time. Every request goes
 * route -> key (401) -> reach (404) and scope (403) -> quota (429) -> body size (413) -> body
 * schema (400) -> handler, so no body is read before its key is checked and nothing invalid
 * reaches the database.
 */
import { ERROR_CATALOG, QuiverError, type ErrorCode, type Problem } from "../core/errors/errors.js";
import { Deadline } from "../core/util/deadline.js";
import type { DatabaseApi } from "../api/types.js";
import { DEFAULT_LIMITS, type Limits } from "../api/limits.js";
import { bodySchemas, type BodySchemas } from "./bodies.js";
import { docsPage, openApiDocument } from "./openapi.js";
import { allows, reaches, type KeyStore, type Principal } from "./keys.js";
import { corsPolicy, isPreflight } from "./cors.js";
import { Metrics } from "./metrics.js";
import { meteredDatabase } from "./metered.js";
import { scopedDatabase } from "./scoped.js";
import { ROUTES, type Dialect, type Route, type RouteContext } from "./routes.js";
import { COMPAT_ROUTES } from "./compat-routes.js";
import { validate } from "./schema.js";
import { consoleResponse, isConsolePath, type ConsoleAssets } from "./console.js";
import { unitsFor, utf8Size, type Units, type UsageMeter } from "./usage.js";

export interface ServerLimits {
  /** Largest request body in bytes (default 32 MiB); larger ones get 413 before they are read. */
  maxBodyBytes: number;
  /**
   * Time a request may take from its arrival to its answer (default 60 s): the database's read
   * loops check it and stop with TIMEOUT (504). A write is checked only before it is logged.
   */
  requestTimeoutMs: number;
}

export const DEFAULT_SERVER_LIMITS: ServerLimits = { maxBodyBytes: 32 << 20, requestTimeoutMs: 60_000 };

/** One structured log line per request. */
export interface RequestLog {
  time: string;
  requestId: string;
  method: string;
  route: string;
  status: number;
  ms: number;
  key?: string;
  collection?: string;
  readUnits: number;
  writeUnits: number;
  code?: string;
}

export interface AppOptions {
  db: DatabaseApi;
  keys: KeyStore;
  usage: UsageMeter;
  /** The database's limits (they bound bodies and appear in the OpenAPI document). */
  limits?: Partial<Limits>;
  serverLimits?: Partial<ServerLimits>;
  log?: (entry: RequestLog) => void;
  /**
   * Serves /mcp (Model Context Protocol over streamable HTTP) once a valid key is presented; the
   * handler gets the database as that key sees it (src/server/scoped.ts), metered and limited by its
   * quota like every route (src/server/metered.ts); `readOnly` keys are offered no write tools. Mounted by `quiver serve`,
   * which owns the MCP SDK dependency, so this app stays free of npm imports.
   */
  mcp?: (request: Request, db: DatabaseApi, access: { readOnly: boolean }) => Promise<Response>;
  /**
   * What opening the database found (the embedded Database's `recovery` report: WAL replayed, torn
   * bytes cut, warnings, damage), served to admin keys at /v1/recovery. A function so the app needs
   * no database type beyond the API; absent when the host has no report (the route answers null).
   */
  recovery?: () => unknown;
  /**
   * The console's built files (src/server/console.ts), served at /console without a key: it is the
   * sign-in page, and it reaches data only through the API with the key the user gives it.
   */
  console?: ConsoleAssets;
  /** The clock of request deadlines, in milliseconds (default `performance.now`; tests drive it). */
  now?: () => number;
  /**
   * Origins whose pages may call the server from a browser (`https://app.example.com`, or `*`);
   * none by default. Keys are still required on every request (src/server/cors.ts).
   */
  corsOrigins?: readonly string[];
  /** Extra gauges for /metrics, computed at scrape time (the Node adapter adds memory). */
  extraGauges?: () => Record<string, { help: string; samples: [Record<string, string>, number][] }>;
}

/**
 * What the app reads of a request. `fetch` adapts a web Request to it; the Node adapter builds one
 * from node:http directly.
 */
export interface AppRequest {
  readonly method: string;
  /** The request target: a full URL, or an origin-form path such as `/v1/collections?x=1`. */
  readonly url: string;
  /** A header's value (case-insensitive name), or null. */
  header(name: string): string | null;
  /** The body, chunk by chunk; nothing is read from the network before the first chunk is asked for. */
  body(): AsyncIterator<Uint8Array> | null;
  /** The request as a web Request, for handlers that need one (MCP); only called for them. */
  toRequest(): Request;
}

/**
 * Thrown by a request's body when the client went away before sending all of it: nobody is left to
 * answer, so it is logged and counted as 499 (nginx's "client closed request"), not as a server fault.
 */
export class ClientDisconnected extends QuiverError {
  constructor() {
    super("CLIENT_DISCONNECTED", "the client disconnected before its request was complete");
  }
}

/** A complete answer; streamed answers (MCP) are web Responses instead. */
export interface AppResponse {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array | string;
}

export interface QuiverApp {
  fetch(request: Request): Promise<Response>;
  /** The same app on the lighter seam (what `fetch` wraps). */
  exchange(request: AppRequest): Promise<AppResponse | Response>;
  readonly routes: readonly Route[];
  readonly metrics: Metrics;
  readonly openapi: Record<string, unknown>;
}

interface CompiledRoute {
  route: Route;
  pattern: RegExp;
  names: string[];
}

/** Decoding with `fatal` keeps no state between calls, so one decoder serves every request. */
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

function compile(route: Route): CompiledRoute {
  const names: string[] = [];
  const source = route.path
    .split("/")
    .map((seg) => {
      const m = /^\{(\w+)\}$/.exec(seg);
      if (!m) return seg.replace(/[.*+?^$()|[\]\\{}]/g, "\\$&");
      names.push(m[1]);
      return "([^/]+)";
    })
    .join("/");
  return { route, pattern: new RegExp(`^${source}$`), names };
}

/** An error response: `{ code, message, path, problems }`, with `path` naming the first bad field. */
function errorBody(
  code: ErrorCode,
  message: string,
  problems: Problem[],
): { code: ErrorCode; message: string; path: string; problems: Problem[] } {
  return { code, message, path: problems[0]?.path ?? "", problems };
}

/** A request-level error located at the whole request (path ""), such as a body that is not JSON. */
function requestError(code: ErrorCode, message: string, problem: string): QuiverError {
  return new QuiverError(code, message, { problems: [{ path: "", message: problem }] });
}

/** Reads at most `max` bytes of the body; a longer one is abandoned (never read further) and answered 413. */
async function readBody(req: AppRequest, max: number, metrics: Metrics): Promise<{ text: string; bytes: number }> {
  const declared = req.header("content-length");
  if (declared !== null && Number(declared) > max) {
    throw requestError(
      "PAYLOAD_TOO_LARGE",
      `the body is ${declared} bytes; the limit is ${max} (maxBodyBytes)`,
      `body larger than ${max} bytes`,
    );
  }
  const body = req.body();
  if (!body) return { text: "", bytes: 0 };
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await body.next();
    if (done) break;
    total += value.byteLength;
    metrics.addBodyBytes(value.byteLength);
    if (total > max) {
      await body.return?.().catch(() => undefined);
      throw requestError(
        "PAYLOAD_TOO_LARGE",
        `the body is larger than ${max} bytes (maxBodyBytes)`,
        `body larger than ${max} bytes`,
      );
    }
    chunks.push(value);
  }
  let all: Uint8Array;
  if (chunks.length === 1) all = chunks[0];
  else {
    all = new Uint8Array(total);
    let at = 0;
    for (const c of chunks) {
      all.set(c, at);
      at += c.byteLength;
    }
  }
  try {
    return { text: strictUtf8.decode(all), bytes: total };
  } catch {
    throw requestError("INVALID_ARGUMENT", "the body is not valid UTF-8", "not valid UTF-8");
  }
}

/** A path URL parsing leaves as it is: only letters, digits, `_`, `-` and single slashes between segments. */
const PLAIN_PATH = /^(?:\/[\w-]+)+\/?$|^\/$/;

/** Whitespace only (tested without copying the body, as `trim()` would). */
const BLANK = /^\s*$/;

function parseJson(text: string): unknown {
  if (BLANK.test(text)) return {};
  try {
    return JSON.parse(text);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw requestError("INVALID_ARGUMENT", `the body is not valid JSON: ${why}`, "not valid JSON");
  }
}

/** UNAUTHORIZED for a request that presented no key (`null`) or an unknown one. */
function unauthorized(presented: string | null): QuiverError {
  return new QuiverError(
    "UNAUTHORIZED",
    presented === null ? "an API key is required: Authorization: Bearer <key>" : "the API key is not valid",
  );
}

/** The key a request presents: `Authorization: Bearer`, else a dialect's own header, else `x-api-key`. */
function bearer(req: AppRequest, dialect?: Dialect): string | null {
  const h = req.header("authorization");
  if (h) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
    return m ? m[1] : null;
  }
  for (const name of dialect?.keyHeaders ?? []) {
    const k = req.header(name);
    if (k !== null) return k;
  }
  return req.header("x-api-key");
}

/** A web Request on the app's seam. */
function webRequest(req: Request): AppRequest {
  return {
    method: req.method,
    url: req.url,
    header: (name) => req.headers.get(name),
    body: () => {
      if (!req.body) return null;
      const reader = req.body.getReader();
      return {
        next: async () => {
          const r = await reader.read();
          return r.done ? { done: true, value: undefined } : { done: false, value: r.value };
        },
        return: async () => {
          await reader.cancel();
          return { done: true, value: undefined };
        },
      };
    },
    toRequest: () => req,
  };
}

/** `response` with `extra` headers added (a streamed web Response gets a copy with them). */
function withHeaders(response: AppResponse | Response, extra: Record<string, string>): AppResponse | Response {
  if (!(response instanceof Response)) {
    Object.assign(response.headers, extra);
    return response;
  }
  const headers = new Headers(response.headers);
  for (const [k, v] of Object.entries(extra)) headers.set(k, v);
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

/** Builds the app. Everything it needs comes in: the database, the key store and the meter. */
export function createApp(opts: AppOptions): QuiverApp {
  const limits: Limits = { ...DEFAULT_LIMITS, ...opts.limits };
  const serverLimits: ServerLimits = { ...DEFAULT_SERVER_LIMITS, ...opts.serverLimits };
  const cors = corsPolicy(opts.corsOrigins ?? []);
  const schemas: BodySchemas = bodySchemas(limits);
  // Quiver's own routes first: a foreign API's path never shadows one of them.
  const compiled = [...ROUTES, ...COMPAT_ROUTES].map(compile);
  const metrics = new Metrics();
  const openapi = openApiDocument(ROUTES, schemas, limits, serverLimits, { mcp: opts.mcp !== undefined });
  const docs = docsPage(openapi);
  let nextId = 0;
  const idPrefix = Math.random().toString(36).slice(2, 8);

  const metricsText = async () => {
    const collections = await opts.db.listCollections();
    return metrics.render({
      quiver_collection_records: {
        help: "Records per collection.",
        samples: collections.map((c) => [{ collection: c.name }, c.count]),
      },
      ...(opts.extraGauges?.() ?? {}),
    });
  };

  // The last routings, by method and path: a client asks for the same few paths over and over, and trying
  // every route's pattern in turn was most of the routing's cost. Bounded, as paths name collections.
  const routed = new Map<string, { c: CompiledRoute; params: Record<string, string> }>();

  function match(method: string, pathname: string): { c: CompiledRoute; params: Record<string, string> } {
    const key = `${method} ${pathname}`;
    let hit = routed.get(key);
    if (hit === undefined) {
      hit = matchRoute(method, pathname);
      if (routed.size >= 1_000) routed.clear();
      routed.set(key, hit);
    }
    return hit;
  }

  /** The route for a method and path, with its path parameters decoded (frozen: a routing is shared). */
  function matchRoute(method: string, pathname: string): { c: CompiledRoute; params: Record<string, string> } {
    let pathMatched = false;
    for (const c of compiled) {
      const m = c.pattern.exec(pathname);
      if (!m) continue;
      pathMatched = true;
      if (c.route.method !== method) continue;
      const params: Record<string, string> = {};
      try {
        c.names.forEach((n, i) => {
          params[n] = decodeURIComponent(m[i + 1]);
        });
      } catch {
        throw requestError("INVALID_ARGUMENT", "the path is not valid percent-encoding", "bad percent-encoding");
      }
      return { c, params: Object.freeze(params) };
    }
    if (pathMatched) throw new QuiverError("METHOD_NOT_ALLOWED", `${method} is not allowed on ${pathname}`);
    throw new QuiverError("NOT_FOUND", `no route ${method} ${pathname}; see /docs`);
  }

  const now = opts.now ?? (() => performance.now());

  async function handle(
    req: AppRequest,
    pathname: string,
    search: URLSearchParams,
    log: Partial<RequestLog>,
    deadline: Deadline,
    seen: { dialect?: Dialect },
  ): Promise<{ status: number; body: Uint8Array | string; type: string; read: number; write: number }> {
    const { c, params } = match(req.method, pathname);
    const route = c.route;
    log.route = route.path;
    seen.dialect = route.dialect;
    let principal: Principal | null = null;
    const need = route.requires;
    if (need.kind !== "public") {
      const presented = bearer(req, route.dialect);
      principal = presented === null ? null : await opts.keys.authenticate(presented);
      if (!principal) throw unauthorized(presented);
      log.key = principal.id;
      if (need.kind === "admin" && principal.scope !== "admin")
        throw new QuiverError("FORBIDDEN", "this route needs an admin key");
      if (need.kind === "collection") {
        log.collection = params.name;
        // Outside a key's reach a collection does not exist, whatever the operation or scope.
        if (!reaches(principal, params.name))
          throw new QuiverError("NOT_FOUND", `collection "${params.name}" does not exist`);
        if (!allows(principal, need.scope))
          throw new QuiverError(
            "FORBIDDEN",
            `this key may only ${principal.scope}; ${route.method} ${route.path} needs ${need.scope}`,
          );
        const over = opts.usage.quotaExceeded(principal);
        if (over) throw new QuiverError("QUOTA_EXCEEDED", over);
      }
    }
    let body: Record<string, unknown> = {};
    let bodyBytes = 0;
    if (route.body) {
      const raw = await readBody(req, serverLimits.maxBodyBytes, metrics);
      bodyBytes = raw.bytes;
      const parsed = parseJson(raw.text);
      if (route.body !== "json") {
        const invalid = validate(schemas[route.body], parsed);
        if (invalid) throw QuiverError.fromProblems(invalid.code, invalid.problems);
      }
      body = parsed as Record<string, unknown>;
    }
    // A body that took the whole budget to arrive gets no work done for it.
    deadline.check();
    // Units billed call by call through keyDb(), when the handler used it (they replace `cost`).
    let keyTally: Units | undefined;
    const ctx: RouteContext = {
      db: opts.db,
      deadline,
      params,
      search,
      body,
      bodyBytes,
      principal,
      keys: opts.keys,
      usage: opts.usage,
      keyDb: () => {
        if (!principal) throw new QuiverError("INTERNAL", `${route.path} asked for a key's database without a key`);
        const tally: Units = { readUnits: 0, writeUnits: 0 };
        const db = meteredDatabase(scopedDatabase(opts.db, principal), principal, {
          usage: opts.usage,
          metrics,
          tally,
          deadline,
        });
        keyTally = tally;
        return { db, tally };
      },
      metricsText,
      openapi: () => openapi,
      docsHtml: () => docs,
      recovery: () => opts.recovery?.() ?? null,
    };
    const result = await route.handle(ctx);
    // JSON stays a string: encoding it here would copy it for nothing, as node:http joins a string
    // body to the response head in one chunk (a byte body goes out as a second one).
    const json = result.text === undefined;
    const payload: string = json ? (JSON.stringify(result.json) ?? "") : result.text!;
    const size = json ? utf8Size(payload) : payload.length;
    const units = keyTally ?? unitsFor(result.cost, size);
    if (principal && !keyTally && (units.readUnits > 0 || units.writeUnits > 0)) {
      opts.usage.record(principal.id, need.kind === "collection" ? params.name : undefined, units);
      if (need.kind === "collection") metrics.addUnits(params.name, units.readUnits, units.writeUnits);
    }
    return {
      status: result.status ?? 200,
      body: payload,
      type: result.contentType ?? "application/json",
      read: units.readUnits,
      write: units.writeUnits,
    };
  }

  async function exchange(req: AppRequest): Promise<AppResponse | Response> {
    const started = performance.now();
    const requestId = req.header("x-request-id")?.slice(0, 64) || `${idPrefix}-${(nextId++).toString(36)}`;
    const log: Partial<RequestLog> = { requestId, method: req.method, route: "(none)" };
    const deadline = Deadline.after(serverLimits.requestTimeoutMs, now);
    let status: number;
    let response: AppResponse | Response;
    let read = 0;
    let write = 0;
    const seen: { dialect?: Dialect } = {};
    try {
      // Parsed against a base so that a path and a full URL give the same, normalised pathname; a plain
      // path (no query, dots, escapes or characters URL would encode) is its own pathname already.
      const plain = PLAIN_PATH.test(req.url);
      const { pathname, searchParams } = plain
        ? { pathname: req.url, searchParams: new URLSearchParams() }
        : new URL(req.url, "http://quiver.invalid");
      const origin = req.header("origin");
      if (cors && isPreflight(req.method, req.header("access-control-request-method"))) {
        // Answered before routing: a preflight carries no key, and reaches nothing behind one.
        log.route = "(preflight)";
        if (!cors.admits(origin))
          throw new QuiverError(
            "FORBIDDEN",
            `origin ${origin ?? "(none)"} is not allowed (quiver serve --cors-origin)`,
          );
        status = 204;
        response = { status, headers: { ...cors.preflightHeaders(origin), "x-request-id": requestId }, body: "" };
      } else if (opts.mcp && pathname === "/mcp") {
        log.route = "/mcp";
        const presented = bearer(req);
        const principal = presented === null ? null : await opts.keys.authenticate(presented);
        if (!principal) throw unauthorized(presented);
        log.key = principal.id;
        const over = opts.usage.quotaExceeded(principal);
        if (over) throw new QuiverError("QUOTA_EXCEEDED", over);
        // Tools are billed call by call, in the units of the equivalent REST request.
        const tally = { readUnits: 0, writeUnits: 0 };
        const db = meteredDatabase(scopedDatabase(opts.db, principal), principal, {
          usage: opts.usage,
          metrics,
          tally,
          deadline,
        });
        response = await opts.mcp(req.toRequest(), db, { readOnly: !allows(principal, "write") });
        status = response.status;
        read = tally.readUnits;
        write = tally.writeUnits;
      } else if (opts.console && isConsolePath(pathname)) {
        log.route = "/console";
        if (req.method !== "GET" && req.method !== "HEAD")
          throw new QuiverError("METHOD_NOT_ALLOWED", `${req.method} is not allowed on ${pathname}`);
        const file = consoleResponse(opts.console, pathname);
        if (!file) throw new QuiverError("NOT_FOUND", `no console file ${pathname}`);
        status = file.status;
        response = { ...file, headers: { ...file.headers, "x-request-id": requestId } };
      } else {
        const r = await handle(req, pathname, searchParams, log, deadline, seen);
        status = r.status;
        read = r.read;
        write = r.write;
        response = {
          status,
          headers: {
            "content-type": r.type,
            "quiver-read-units": String(read),
            "quiver-write-units": String(write),
            "x-request-id": requestId,
          },
          body: r.body,
        };
      }
    } catch (e) {
      // The status comes from the catalog alone; anything that is not a QuiverError is a bug (INTERNAL).
      const err =
        e instanceof QuiverError ? e : new QuiverError("INTERNAL", "internal error; see the server log", { cause: e });
      if (!(e instanceof QuiverError))
        log.code = `INTERNAL: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`;
      const { code, message, problems } = err;
      status = ERROR_CATALOG[code].status;
      log.code ??= code;
      const headers: Record<string, string> = {
        "content-type": "application/json",
        "quiver-read-units": "0",
        "quiver-write-units": "0",
        "x-request-id": requestId,
      };
      if (code === "UNAUTHORIZED") headers["www-authenticate"] = 'Bearer realm="quiver"';
      const shaped = seen.dialect ? seen.dialect.errorBody(code, message, status) : errorBody(code, message, problems);
      response = { status, headers, body: JSON.stringify(shaped) };
    }
    if (cors) response = withHeaders(response, cors.headersFor(req.header("origin")));
    const ms = performance.now() - started;
    metrics.observe(log.route!, req.method, status, ms / 1000);
    opts.log?.({
      time: new Date().toISOString(),
      requestId,
      method: req.method,
      route: log.route!,
      status,
      ms: Math.round(ms * 100) / 100,
      key: log.key,
      collection: log.collection,
      readUnits: read,
      writeUnits: write,
      code: log.code,
    });
    return response;
  }

  async function fetch(req: Request): Promise<Response> {
    const r = await exchange(webRequest(req));
    return r instanceof Response ? r : new Response(r.body as BodyInit, { status: r.status, headers: r.headers });
  }

  return { fetch, exchange, routes: ROUTES, metrics, openapi };
}
