/**
 * Quiver's tools for agents, independent of the transport: search (vector, text, hybrid, with
 * filters), remember, recall, forget, ingest and list_collections, as JSON-Schema tool
 * definitions and one dispatcher. `createMcpServer` puts them on an MCP `Server` of the official
 * SDK; stdio (src/mcp/stdio.ts) and streamable HTTP (`quiver serve`) only connect a transport.
 * A failing call becomes an MCP tool error (`isError: true`) naming the QuiverError code; it never
 * throws out of the server.
 */
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { CallToolRequestSchema, ListToolsRequestSchema, type CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { DatabaseApi } from "../api/types.js";
import { QuiverError, isQuiverError } from "../core/errors/errors.js";
import type { Filter, QueryRequest } from "../api/query.js";
import type { CollectionSchema } from "../core/schema/schema.js";
import { documentSchema, findDocuments, ingestDocuments, type DocumentInput } from "../embed/documents.js";
import { isImageCollection } from "../embed/image-collection.js";
import { modeOfPlan, textQuery, type SearchMode } from "../embed/text-query.js";
import { MemoryStore } from "../memory/memory.js";

export interface McpToolOptions {
  /** Embedder name (registered on the database) for collections the tools create (default "local"). */
  embedder?: string;
  /** Its dimension (default 512, the local model's). */
  dim?: number;
  /** Collection holding memories (default "memory"). */
  memoryCollection?: string;
  /**
   * Called before every tool runs with what it will touch; throw (e.g. a QuiverError FORBIDDEN) to
   * refuse. The HTTP mount passes the request's API key scopes through this.
   */
  authorize?: (access: { tool: string; collection: string | null; write: boolean }) => void | Promise<void>;
  /** A read-only caller: the tools that write (remember, forget, ingest) are not offered at all. */
  readOnly?: boolean;
  /**
   * Server name and version announced to clients. The `quiver` command passes the installed
   * package's version; without one the server says "unknown" rather than a number that goes stale.
   */
  name?: string;
  version?: string;
}

export interface ToolDefinition {
  name: string;
  description: string;
  inputSchema: {
    type: "object";
    properties: Record<string, unknown>;
    required?: string[];
    additionalProperties?: boolean;
  };
}

const scopeProps = {
  session: { type: "string", description: "Conversation or session id the memory belongs to." },
  agent: { type: "string", description: "Agent id the memory belongs to." },
  user: { type: "string", description: "End-user id the memory belongs to." },
};
const filterProp = {
  type: "object",
  description: 'Payload filter in Quiver\'s filter language, e.g. {"lang":"en","year":{"$gte":2020}}.',
};

/** The tools that write to the database; a read-only caller is not offered them. */
export const WRITE_TOOLS: ReadonlySet<string> = new Set(["remember", "forget", "ingest"]);

export const TOOLS: ToolDefinition[] = [
  {
    name: "list_collections",
    description:
      "List the collections of the database with their record counts, vectors (and the embedder each is bound to) and text fields.",
    inputSchema: { type: "object", properties: {}, additionalProperties: false },
  },
  {
    name: "search",
    description:
      "Search a collection. mode 'vector' embeds `query` with the collection's embedder (or takes `vector`), 'text' is BM25 full-text search, 'hybrid' fuses both (the default where the collection has text fields and an embedder, as ingest makes). `sparse` adds (or alone is) a sparse-vector search, fused with them. Returns the best records with scores and payloads, or on a document collection the best documents with their best chunks.",
    inputSchema: {
      type: "object",
      properties: {
        collection: { type: "string" },
        query: {
          type: "string",
          description:
            "Natural-language query. On an image collection, the words are embedded by its text-image model (CLIP-style) to find pictures.",
        },
        image: {
          type: "string",
          description:
            "On an image collection: a picture (JPEG, PNG or WebP file in base64, or a data: URL) to find the stored images most like it.",
        },
        vector: { type: "array", items: { type: "number" }, description: "A raw query vector instead of text." },
        sparse: {
          type: "object",
          description:
            'A sparse query vector, { "indices": [...], "values": [...] } or { "index": weight }, for the collection\'s sparse vector (e.g. SPLADE weights); alone, or fused with the text / vector search.',
        },
        sparseUsing: {
          type: "string",
          description: "Sparse vector to search (default: the collection's only sparse vector).",
        },
        mode: {
          type: "string",
          enum: ["vector", "text", "hybrid"],
          description: "Default: hybrid when the collection has text fields and an embedder, else what it supports.",
        },
        using: {
          type: "string",
          description: "Named vector to search (default: the only one, or the one bound to an embedder).",
        },
        filter: filterProp,
        limit: { type: "integer", minimum: 1, maximum: 100, description: "Default 5." },
        groupByDocument: {
          type: "boolean",
          description:
            "Answer documents, each with its best chunks (heading path, character offsets), instead of chunk hits. Default: true on a document collection (one made by ingest).",
        },
      },
      required: ["collection"],
      additionalProperties: false,
    },
  },
  {
    name: "remember",
    description:
      "Store a memory (a fact, preference or event) scoped by session, agent or user. A near-duplicate of an existing memory in the same scope is merged into it.",
    inputSchema: {
      type: "object",
      properties: {
        text: { type: "string" },
        ...scopeProps,
        ttlSeconds: { type: "number", exclusiveMinimum: 0, description: "Forget after this many seconds." },
        metadata: { type: "object" },
      },
      required: ["text"],
      additionalProperties: false,
    },
  },
  {
    name: "recall",
    description:
      "Recall the memories most relevant to a query within a scope, optionally favouring recent ones. Expired memories are never returned.",
    inputSchema: {
      type: "object",
      properties: {
        query: { type: "string" },
        ...scopeProps,
        limit: { type: "integer", minimum: 1, maximum: 50, description: "Default 5." },
        halfLifeHours: {
          type: "number",
          exclusiveMinimum: 0,
          description: "Recency decay half-life; omit to rank by relevance only.",
        },
        minScore: { type: "number", description: "Drop memories less similar than this (cosine, -1 to 1)." },
        filter: filterProp,
      },
      required: ["query"],
      additionalProperties: false,
    },
  },
  {
    name: "forget",
    description: "Delete memories by id (or ids), or every memory of a scope (session, agent or user).",
    inputSchema: {
      type: "object",
      properties: { id: { type: "string" }, ids: { type: "array", items: { type: "string" } }, ...scopeProps },
      additionalProperties: false,
    },
  },
  {
    name: "ingest",
    description:
      "Add or replace documents in a collection (created when missing): each is split into chunks on headings and paragraphs, embedded and stored with its document id. Reports duplicates and other quality problems.",
    inputSchema: {
      type: "object",
      properties: {
        collection: { type: "string" },
        documents: {
          type: "array",
          minItems: 1,
          items: {
            type: "object",
            properties: {
              id: { type: "string" },
              text: { type: "string" },
              format: { type: "string", enum: ["markdown", "text", "html"] },
              title: { type: "string" },
              source: { type: "string" },
              metadata: { type: "object" },
            },
            required: ["id", "text"],
          },
        },
        chunkSize: { type: "integer", minimum: 50, description: "Characters per chunk (default 1000)." },
        overlap: { type: "integer", minimum: 0, description: "Characters shared by consecutive chunks (default 100)." },
        duplicates: {
          type: "string",
          enum: ["keep", "skip", "reject"],
          description: "Duplicates of other documents' chunks: keep (default), skip, or reject the ingest.",
        },
      },
      required: ["collection", "documents"],
      additionalProperties: false,
    },
  },
];

type Args = Record<string, unknown>;

function str(a: Args, key: string, required = false): string | undefined {
  const v = a[key];
  if (v === undefined && !required) return undefined;
  if (typeof v !== "string" || v === "")
    throw QuiverError.fromProblems("INVALID_ARGUMENT", [
      { path: key, message: `must be a non-empty string${v === undefined ? " (required)" : ""}` },
    ]);
  return v;
}

function num(a: Args, key: string): number | undefined {
  const v = a[key];
  if (v === undefined) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v))
    throw QuiverError.fromProblems("INVALID_ARGUMENT", [{ path: key, message: "must be a number" }]);
  return v;
}

function obj(a: Args, key: string): Record<string, unknown> | undefined {
  const v = a[key];
  if (v === undefined) return undefined;
  if (typeof v !== "object" || v === null || Array.isArray(v))
    throw QuiverError.fromProblems("INVALID_ARGUMENT", [{ path: key, message: "must be an object" }]);
  return v as Record<string, unknown>;
}

function scopeOf(a: Args): { session?: string; agent?: string; user?: string } {
  return { session: str(a, "session"), agent: str(a, "agent"), user: str(a, "user") };
}

/** The tool set over one database. `call` never throws: failures come back as tool errors. */
export class QuiverTools {
  private memory: Promise<MemoryStore> | null = null;

  constructor(
    readonly db: DatabaseApi,
    readonly options: McpToolOptions = {},
  ) {}

  list(): ToolDefinition[] {
    return this.options.readOnly ? TOOLS.filter((t) => !WRITE_TOOLS.has(t.name)) : TOOLS;
  }

  private memoryStore(): Promise<MemoryStore> {
    this.memory ??= MemoryStore.open(this.db, {
      collection: this.options.memoryCollection ?? "memory",
      embedderName: this.options.embedder ?? "local",
      dim: this.options.dim ?? 512,
    }).catch((e) => {
      this.memory = null;
      throw e;
    });
    return this.memory;
  }

  /** Runs a tool; the result's text is JSON. */
  async call(name: string, args: unknown): Promise<CallToolResult> {
    try {
      const a = (args ?? {}) as Args;
      if (typeof a !== "object" || Array.isArray(a))
        throw QuiverError.fromProblems("INVALID_ARGUMENT", [{ path: "arguments", message: "must be an object" }]);
      const result = await this.run(name, a);
      return {
        content: [{ type: "text", text: JSON.stringify(result, null, 1) }],
        structuredContent: result as Record<string, unknown>,
      };
    } catch (e) {
      const text = isQuiverError(e)
        ? `${e.code}: ${e.message}`
        : `INTERNAL: ${e instanceof Error ? e.message : String(e)}`;
      return { content: [{ type: "text", text }], isError: true };
    }
  }

  private async authorize(tool: string, collection: string | null, write: boolean): Promise<void> {
    await this.options.authorize?.({ tool, collection, write });
  }

  private async run(name: string, a: Args): Promise<unknown> {
    if (this.options.readOnly && WRITE_TOOLS.has(name))
      throw new QuiverError("FORBIDDEN", `${name} writes, and this caller may only read`);
    const memoryName = this.options.memoryCollection ?? "memory";
    switch (name) {
      case "list_collections": {
        await this.authorize(name, null, false);
        const list = await this.db.listCollections();
        return {
          collections: list.map((c) => ({
            name: c.name,
            count: c.count,
            vectors: c.schema.vectors,
            text: c.schema.text ? Object.keys(c.schema.text) : [],
          })),
        };
      }
      case "search":
        return this.search(a);
      case "remember": {
        await this.authorize(name, memoryName, true);
        const ttl = num(a, "ttlSeconds");
        const mem = await this.memoryStore();
        return mem.remember({
          text: str(a, "text", true)!,
          ...scopeOf(a),
          ttlMs: ttl !== undefined ? ttl * 1000 : undefined,
          metadata: obj(a, "metadata"),
        });
      }
      case "recall": {
        await this.authorize(name, memoryName, false);
        const hl = num(a, "halfLifeHours");
        const mem = await this.memoryStore();
        const hits = await mem.recall(str(a, "query", true)!, {
          ...scopeOf(a),
          limit: num(a, "limit"),
          minScore: num(a, "minScore"),
          halfLifeMs: hl !== undefined ? hl * 3_600_000 : undefined,
          filter: obj(a, "filter"),
        });
        return { memories: hits };
      }
      case "forget": {
        await this.authorize(name, memoryName, true);
        const ids = a.ids;
        if (ids !== undefined && (!Array.isArray(ids) || !ids.every((x) => typeof x === "string")))
          throw QuiverError.fromProblems("INVALID_ARGUMENT", [{ path: "ids", message: "must be an array of strings" }]);
        const mem = await this.memoryStore();
        return mem.forget({ id: str(a, "id"), ids: ids as string[] | undefined, ...scopeOf(a) });
      }
      case "ingest":
        return this.ingest(a);
      default:
        throw new QuiverError(
          "NOT_FOUND",
          `unknown tool "${name}"; the tools are ${TOOLS.map((t) => t.name).join(", ")}`,
        );
    }
  }

  private async search(a: Args): Promise<unknown> {
    const collection = str(a, "collection", true)!;
    await this.authorize("search", collection, false);
    const coll = await this.db.collection(collection);
    const schema = coll.schema;
    const query = str(a, "query");
    const vector = a.vector;
    if (vector !== undefined && (!Array.isArray(vector) || !vector.every((x) => typeof x === "number"))) {
      throw QuiverError.fromProblems("INVALID_ARGUMENT", [{ path: "vector", message: "must be an array of numbers" }]);
    }
    const sparse = sparseQuery(schema, a);
    const image = str(a, "image");
    if (isImageCollection(schema) && vector === undefined && (image !== undefined || query !== undefined)) {
      // Words or a picture, embedded by the collection's image model (src/embed/image-query.ts).
      const { hits } = await coll.query({
        vector: { image: image !== undefined ? { base64: image } : query! },
        limit: num(a, "limit") ?? 5,
        filter: obj(a, "filter") as Filter | undefined,
      });
      return { mode: image !== undefined ? "image" : "text-to-image", hits };
    }
    if (image !== undefined)
      throw QuiverError.fromProblems("INVALID_ARGUMENT", [
        { path: "image", message: `"${collection}" is not an image collection (quiver ingest of images makes one)` },
      ]);
    const request: Pick<QueryRequest, "vector" | "text" | "mode"> =
      sparse && query === undefined && vector === undefined
        ? {}
        : textQuery(schema, {
            query,
            vector: vector as number[] | undefined,
            mode: str(a, "mode") as SearchMode | undefined,
            using: str(a, "using"),
          });
    // The sparse vector is checked in depth by the database (paths under vector.<name>).
    if (sparse)
      request.vector = { ...(request.vector as Record<string, unknown>), ...sparse } as QueryRequest["vector"];
    const req: QueryRequest = {
      ...request,
      limit: num(a, "limit") ?? 5,
      filter: obj(a, "filter") as Filter | undefined,
    };
    // A document collection answers documents with their best chunks (heading path, offsets), unless told not to.
    const grouped =
      a.groupByDocument === undefined ? schema.indexes?.documentId !== undefined : a.groupByDocument === true;
    if (grouped) {
      const { documents, plan } = await findDocuments(coll, req);
      return { mode: modeOfPlan(plan), documents };
    }
    const { hits, plan } = await coll.query(req);
    return { mode: modeOfPlan(plan), hits };
  }

  private async ingest(a: Args): Promise<unknown> {
    const collection = str(a, "collection", true)!;
    await this.authorize("ingest", collection, true);
    const docs = a.documents;
    if (!Array.isArray(docs) || docs.length === 0)
      throw QuiverError.fromProblems("INVALID_ARGUMENT", [
        { path: "documents", message: "must be a non-empty array of { id, text }" },
      ]);
    const coll = await this.db.createCollection(
      collection,
      documentSchema(this.options.embedder ?? "local", this.options.dim ?? 512),
      { ifNotExists: true },
    );
    const duplicates = str(a, "duplicates") as "keep" | "skip" | "reject" | undefined;
    const report = await ingestDocuments(this.db, coll, docs as DocumentInput[], {
      size: num(a, "chunkSize"),
      overlap: num(a, "overlap"),
      duplicates,
    });
    return report;
  }
}

/** The search tool's `sparse` argument as `{ name: vector }`, or undefined when not given. */
function sparseQuery(schema: CollectionSchema, a: Args): Record<string, unknown> | undefined {
  if (a.sparse === undefined) return undefined;
  if (typeof a.sparse !== "object" || a.sparse === null || Array.isArray(a.sparse))
    throw QuiverError.fromProblems("INVALID_ARGUMENT", [
      { path: "sparse", message: "must be { indices, values } or { index: weight }" },
    ]);
  const names = Object.keys(schema.vectors).filter((n) => schema.vectors[n].kind === "sparse");
  const using = str(a, "sparseUsing") ?? (names.length === 1 ? names[0] : undefined);
  if (using === undefined || !names.includes(using))
    throw QuiverError.fromProblems("INVALID_ARGUMENT", [
      {
        path: "sparseUsing",
        message:
          names.length === 0
            ? "this collection has no sparse vector"
            : `name one of the collection's sparse vectors (${names.join(", ")})`,
      },
    ]);
  return { [using]: a.sparse };
}

/**
 * An MCP server (official SDK) exposing the tools. Connect any transport:
 * `await createMcpServer(db).connect(new StdioServerTransport())`.
 */
export function createMcpServer(db: DatabaseApi, options: McpToolOptions = {}): Server {
  const tools = new QuiverTools(db, options);
  const server = new Server(
    { name: options.name ?? "quiver", version: options.version ?? "unknown" },
    { capabilities: { tools: {} } },
  );
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: tools.list() }));
  server.setRequestHandler(CallToolRequestSchema, async (req) => tools.call(req.params.name, req.params.arguments));
  return server;
}
