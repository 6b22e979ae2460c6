/**
 * The OpenAPI 3.1 document, generated from the route table and the very schemas that validate
 * request bodies, and a readable HTML page rendered from it (no scripts, no external assets).
 */
import { ERROR_CATALOG, type ErrorCode } from "../core/errors/errors.js";
import type { Limits } from "../api/limits.js";
import type { BodySchemas } from "./bodies.js";
import type { Route } from "./routes.js";
import { toJsonSchema } from "./schema.js";

interface ServerLimitsLike {
  maxBodyBytes: number;
}

const ERROR_SCHEMA = {
  type: "object",
  required: ["code", "message", "path"],
  properties: {
    code: { type: "string", enum: Object.keys(ERROR_CATALOG) },
    message: { type: "string" },
    path: {
      type: "string",
      description: "The first offending field, e.g. records[3].vectors.text ('' for the whole request).",
    },
    problems: {
      type: "array",
      items: { type: "object", properties: { path: { type: "string" }, message: { type: "string" } } },
    },
  },
};

const CODES = Object.keys(ERROR_CATALOG) as ErrorCode[];

/** `CODE (status): summary` for each code, from the catalog. */
function describeCodes(codes: readonly ErrorCode[]): string {
  return codes.map((c) => `${c} (${ERROR_CATALOG[c].status}): ${ERROR_CATALOG[c].summary}`).join(" ");
}

/**
 * The codes a route's own checks can answer with: bad path or body, key, scope, reach, quota, body
 * size. What the operation itself can meet (storage, memory, a closed database) is under `default`.
 */
function routeCodes(r: Route, hasParams: boolean): ErrorCode[] {
  const codes: ErrorCode[] = [];
  if (hasParams || r.body) codes.push("INVALID_ARGUMENT");
  if (r.requires.kind !== "public") codes.push("UNAUTHORIZED", "FORBIDDEN");
  if (r.requires.kind === "collection") codes.push("NOT_FOUND", "QUOTA_EXCEEDED");
  if (r.body) codes.push("PAYLOAD_TOO_LARGE");
  return codes;
}

/** One response per status, listing every catalog code with that status (a status can carry several). */
function errorResponses(codes: readonly ErrorCode[], note = ""): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const status of new Set(codes.map((c) => ERROR_CATALOG[c].status))) {
    const same = CODES.filter((c) => ERROR_CATALOG[c].status === status);
    out[String(status)] = {
      description: `${note}${describeCodes(same)}`,
      content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
    };
  }
  return out;
}

function requirementText(r: Route["requires"]): string {
  switch (r.kind) {
    case "public":
      return "no key";
    case "key":
      return "any key (shows only what the key reaches)";
    case "admin":
      return "admin key";
    case "collection":
      return `${r.scope} scope on {name}`;
  }
}

/**
 * /mcp, when the server mounts it: MCP's streamable HTTP transport, stateless (no session), JSON-RPC 2.0
 * in and a JSON answer out. Its tools (tools/list) act with the key's reach and scope.
 */
const MCP_PATH = {
  post: {
    summary: "Model Context Protocol (streamable HTTP): the database's tools for AI agents",
    description:
      "Requires: any key (tools see only what the key reaches; write tools need write scope). Stateless: " +
      "send initialize, tools/list or tools/call as one JSON-RPC 2.0 message per request, with " +
      "Accept: application/json, text/event-stream. Tool errors are MCP results with isError, not HTTP errors.",
    "x-quiver-requires": { kind: "key" },
    requestBody: {
      required: true,
      content: {
        "application/json": {
          schema: {
            type: "object",
            required: ["jsonrpc", "method"],
            properties: {
              jsonrpc: { const: "2.0" },
              id: { type: ["string", "integer"] },
              method: { type: "string", description: "initialize, tools/list, tools/call, ..." },
              params: { type: "object", additionalProperties: true },
            },
          },
        },
      },
    },
    responses: {
      "200": {
        description: "The JSON-RPC response (result or error).",
        content: { "application/json": { schema: { type: "object", additionalProperties: true } } },
      },
      ...errorResponses(["UNAUTHORIZED", "QUOTA_EXCEEDED"]),
      default: { $ref: "#/components/responses/Error" },
    },
  },
};

export function openApiDocument(
  routes: readonly Route[],
  schemas: BodySchemas,
  limits: Limits,
  serverLimits: ServerLimitsLike,
  options: { mcp?: boolean } = {},
): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const params = [...r.path.matchAll(/\{(\w+)\}/g)].map((m) => ({
      name: m[1],
      in: "path",
      required: true,
      schema: { type: "string" },
    }));
    const codes = routeCodes(r, params.length > 0);
    const responses: Record<string, unknown> = {
      "200": {
        description: "Success. Headers quiver-read-units / quiver-write-units report what it cost.",
        content: { "application/json": { schema: r.response ?? { type: "object" } } },
      },
      ...errorResponses(codes.filter((c) => c !== "NOT_FOUND")),
      ...(codes.includes("NOT_FOUND")
        ? errorResponses(
            ["NOT_FOUND"],
            "The collection does not exist, or is outside the key's reach (the two are indistinguishable). ",
          )
        : {}),
      default: { $ref: "#/components/responses/Error" },
    };
    paths[r.path] ??= {};
    paths[r.path][r.method.toLowerCase()] = {
      summary: r.summary,
      "x-quiver-requires": r.requires,
      description: `Requires: ${requirementText(r.requires)}.`,
      ...(r.requires.kind === "public" ? { security: [] } : {}),
      ...(params.length ? { parameters: params } : {}),
      ...(r.body && r.body !== "json"
        ? {
            requestBody: { required: true, content: { "application/json": { schema: toJsonSchema(schemas[r.body]) } } },
          }
        : {}),
      responses,
    };
  }
  if (options.mcp) paths["/mcp"] = MCP_PATH;
  return {
    openapi: "3.1.0",
    info: {
      title: "Quiver",
      version: "1",
      description:
        "The Quiver database API over HTTP: the same operations as the embedded API. Limits: " +
        JSON.stringify({ ...limits, ...serverLimits }),
    },
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: {
        bearer: {
          type: "http",
          scheme: "bearer",
          description: "An API key: the admin key, or one created with POST /v1/keys.",
        },
      },
      schemas: { Error: ERROR_SCHEMA },
      responses: {
        Error: {
          description: `An error: {code, message, path, problems}; the HTTP status is the code's. ${describeCodes(CODES)}`,
          content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
        },
      },
    },
  };
}

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** A plain HTML page listing every route, what it requires, and its body schema. */
export function docsPage(doc: Record<string, unknown>): string {
  const paths = doc.paths as Record<
    string,
    Record<
      string,
      { summary: string; description: string; requestBody?: { content: { "application/json": { schema: unknown } } } }
    >
  >;
  const rows: string[] = [];
  for (const [path, ops] of Object.entries(paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const body = op.requestBody
        ? `<details><summary>body schema</summary><pre>${esc(JSON.stringify(op.requestBody.content["application/json"].schema, null, 2))}</pre></details>`
        : "";
      rows.push(
        `<section><h3><code>${method.toUpperCase()} ${esc(path)}</code></h3><p>${esc(op.summary)} <em>${esc(op.description)}</em></p>${body}</section>`,
      );
    }
  }
  const info = doc.info as { description: string };
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Quiver API</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}code,pre{background:#f4f4f4}pre{padding:.5rem;overflow:auto}h3{margin-bottom:.2rem}</style></head>
<body><h1>Quiver API</h1><p>${esc(info.description)}</p>
<p>Send <code>Authorization: Bearer &lt;key&gt;</code>. Errors are <code>{code, message, path, problems}</code>. Every response carries
<code>quiver-read-units</code> and <code>quiver-write-units</code>. The machine-readable document is <a href="/openapi.json">/openapi.json</a>.</p>
${rows.join("\n")}</body></html>`;
}
