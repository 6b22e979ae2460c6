/**
 * Test support for the server: a real server on 127.0.0.1 with an ephemeral port over a database
 * in a memory (or given) Directory, its admin key, and a small raw HTTP helper.
 */
import { open, MemoryDirectory, type Database, type Directory, type OpenOptions } from "../../src/index.js";
import { serveApp, type ConnectionLimits, type HttpServerHandle } from "../../src/node/http-server.js";
import {
  startQuiverServer,
  type AppOptions,
  type QuiverServer,
  type RequestLog,
  type ServerLimits,
} from "../../src/server/index.js";
import { connect, type QuiverClient } from "../../src/client/index.js";

export const ADMIN_KEY = "test-admin-key-0123456789abcdef";

/** One raw response: status, the body parsed as JSON (undefined when it is not JSON), its text and headers. */
export interface CallResult {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: each route answers a different JSON shape, which the tests pick apart by path and assert on; a wrong path fails the test either way
  json: any;
  text: string;
  headers: Headers;
}

export interface TestServer {
  url: string;
  db: Database;
  dir: Directory;
  server: QuiverServer;
  http: HttpServerHandle;
  logs: RequestLog[];
  admin: QuiverClient;
  /** Raw request with an optional key; returns status, parsed JSON (or text) and headers. */
  call(method: string, path: string, opts?: { key?: string | null; body?: unknown; raw?: string }): Promise<CallResult>;
  close(): Promise<void>;
}

export async function startTestServer(
  opts: {
    dir?: Directory;
    dbOptions?: OpenOptions;
    serverLimits?: Partial<ServerLimits>;
    keepLogs?: boolean;
    adminKey?: string | null;
    mcp?: AppOptions["mcp"];
    connectionLimits?: Partial<ConnectionLimits>;
    /** The clock of request deadlines (AppOptions.now). */
    now?: () => number;
    /** The console's files, served at /console (AppOptions.console). */
    console?: AppOptions["console"];
    corsOrigins?: string[];
  } = {},
): Promise<TestServer> {
  const dir = opts.dir ?? new MemoryDirectory();
  const db = await open(dir, opts.dbOptions);
  const logs: RequestLog[] = [];
  const server = await startQuiverServer({
    db,
    dir,
    limits: opts.dbOptions?.limits,
    serverLimits: opts.serverLimits,
    adminKey: opts.adminKey === null ? undefined : (opts.adminKey ?? ADMIN_KEY),
    usageFlushMs: 200,
    log: opts.keepLogs ? (e) => logs.push(e) : undefined,
    mcp: opts.mcp,
    now: opts.now,
    console: opts.console,
    recovery: () => db.recovery,
    corsOrigins: opts.corsOrigins,
  });
  const http = await serveApp(server.app, { host: "127.0.0.1", port: 0, limits: opts.connectionLimits });
  const url = http.url;
  const admin = connect(url, {
    apiKey: opts.adminKey === null ? server.generatedAdminKey : (opts.adminKey ?? ADMIN_KEY),
  });
  return {
    url,
    db,
    dir,
    server,
    http,
    logs,
    admin,
    async call(method, path, o = {}) {
      const headers: Record<string, string> = {};
      const key = o.key === undefined ? ADMIN_KEY : o.key;
      if (key !== null) headers.authorization = `Bearer ${key}`;
      let body: string | undefined = o.raw;
      if (o.body !== undefined) {
        body = JSON.stringify(o.body);
        headers["content-type"] = "application/json";
      }
      const res = await fetch(url + path, { method, headers, body });
      const text = await res.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: res.status, json, text, headers: res.headers };
    },
    async close() {
      await http.close(1000);
      await server.flush();
      await db.close();
    },
  };
}
