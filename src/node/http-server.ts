/**
 * The Node adapter of the server app (src/server/app.ts). node:http requests are handed to the app's
 * `exchange` seam directly (headers read in place, the body pulled from the socket only when the app
 * reads it, so a request rejected for its key is answered before its body is received) and complete
 * answers are written straight back; only MCP, which needs them, gets a web Request and Response.
 * `close()` stops accepting, lets requests in flight finish, then ends the remaining connections.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { ERROR_CATALOG, QuiverError } from "../core/errors/errors.js";
import { ClientDisconnected, type AppRequest, type AppResponse } from "../server/app.js";

/** What the adapter serves: the app's `exchange` (QuiverApp has it). */
export interface ExchangeApp {
  exchange(request: AppRequest): Promise<AppResponse | Response>;
}

export interface HttpServerHandle {
  server: Server;
  host: string;
  port: number;
  /** `http://host:port`, for clients. */
  url: string;
  /** Stops accepting, waits up to `graceMs` for requests in flight, then closes every connection. */
  close(graceMs?: number): Promise<void>;
}

/** The body as a pull stream: nothing is read from the socket until the app asks for a chunk. */
function lazyBody(req: IncomingMessage): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        req.on("data", (chunk: Buffer) => {
          controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
          req.pause();
        });
        req.on("end", () => controller.close());
        req.on("error", (e) => controller.error(e));
        req.pause();
      },
      pull() {
        req.resume();
      },
      cancel() {
        req.pause();
      },
    },
    { highWaterMark: 0 },
  );
}

function toRequest(req: IncomingMessage, base: string): Request {
  const headers = new Headers();
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) headers.append(raw[i], raw[i + 1]);
  const method = req.method ?? "GET";
  const init: RequestInit & { duplex?: "half" } = { method, headers };
  if (method !== "GET" && method !== "HEAD") {
    init.body = lazyBody(req);
    init.duplex = "half";
  }
  return new Request(new URL(req.url ?? "/", base), init);
}

/**
 * The body as a pull iterator over the message's own buffer: `read()` takes what has arrived and
 * waits for more only when asked, so an unread body stays in the socket (backpressure).
 */
function bodyChunks(req: IncomingMessage): AsyncIterator<Uint8Array> {
  return {
    async next(): Promise<IteratorResult<Uint8Array>> {
      for (;;) {
        const chunk = req.read() as Buffer | null;
        if (chunk !== null) return { done: false, value: chunk };
        // `complete`: the parser has seen the whole message, so nothing more will arrive. A small body
        // is usually whole by now, and this spares waiting a turn for the stream's 'end'.
        if (req.readableEnded || (req.complete && req.readableLength === 0)) return { done: true, value: undefined };
        if (req.destroyed) throw new ClientDisconnected();
        await new Promise<void>((resolve, reject) => {
          const settle = (e?: Error) => {
            req.off("readable", ok).off("end", ok).off("close", ok).off("error", settle);
            // The request stream only fails when the client's side of the connection does.
            if (e) reject(new ClientDisconnected());
            else resolve();
          };
          const ok = () => settle();
          req.once("readable", ok).once("end", ok).once("close", ok).once("error", settle);
        });
      }
    },
    async return(): Promise<IteratorResult<Uint8Array>> {
      return { done: true, value: undefined };
    },
  };
}

function appRequest(req: IncomingMessage, base: string): AppRequest {
  const method = req.method ?? "GET";
  return {
    method,
    url: req.url ?? "/",
    header(name) {
      const v = req.headers[name.toLowerCase()];
      return v === undefined ? null : Array.isArray(v) ? v.join(", ") : v;
    },
    body: () => (method === "GET" || method === "HEAD" ? null : bodyChunks(req)),
    toRequest: () => {
      try {
        return toRequest(req, base);
      } catch {
        throw new QuiverError("INVALID_ARGUMENT", "malformed request line or headers");
      }
    },
  };
}

/** Writes the app's answer; a body the app never read forces the connection closed. */
async function send(req: IncomingMessage, res: ServerResponse, answer: AppResponse | Response): Promise<void> {
  let status: number;
  let headers: Record<string, string>;
  let body: Uint8Array | string;
  if (answer instanceof Response) {
    status = answer.status;
    headers = {};
    answer.headers.forEach((v, k) => {
      headers[k] = v;
    });
    body = new Uint8Array(await answer.arrayBuffer());
  } else {
    status = answer.status;
    headers = answer.headers;
    // A string is written as it is (not encoded to bytes first): node:http joins it to the head in one chunk.
    body = answer.body;
  }
  headers["content-length"] = String(typeof body === "string" ? Buffer.byteLength(body) : body.byteLength);
  // An unread body (rejected before reading) cannot be skipped on a kept-alive connection.
  if (!req.complete) headers.connection = "close";
  res.writeHead(status, headers);
  res.end(body);
}

/**
 * Serves the app on `host:port` (port 0 picks a free one). Binds 127.0.0.1 unless told otherwise.
 * @example
 * const http = await serveApp(server.app, { port: 8080 });
 */
/** Bounds on connections and on how long a request may take to arrive (slow clients, slowloris). */
export interface ConnectionLimits {
  /** Most open connections; more are refused at accept (default 1,000). */
  maxConnections: number;
  /** Time to receive a request's headers (default 10 s). */
  headersTimeoutMs: number;
  /** Time to receive a whole request, headers and body: a body that trickles in is cut (default 60 s). */
  requestTimeoutMs: number;
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  maxConnections: 1_000,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 60_000,
};

export async function serveApp(
  app: ExchangeApp,
  opts: { host?: string; port?: number; limits?: Partial<ConnectionLimits> } = {},
): Promise<HttpServerHandle> {
  const limits = { ...DEFAULT_CONNECTION_LIMITS, ...opts.limits };
  // How often node:http checks the request deadlines (its default, 30 s, is coarser than the limits).
  const shortest = Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs);
  const checkEvery = Math.max(10, Math.min(1_000, Math.floor(shortest / 4)));
  const host = opts.host ?? "127.0.0.1";
  const inFlight = new Set<Promise<void>>();
  const server = createServer({ connectionsCheckingInterval: checkEvery }, (req, res) => {
    const p = (async () => {
      try {
        await send(req, res, await app.exchange(appRequest(req, base)));
      } catch (e) {
        if (!res.headersSent) {
          res.writeHead(ERROR_CATALOG.INTERNAL.status, { "content-type": "application/json", connection: "close" });
          res.end(JSON.stringify({ code: "INTERNAL", message: "internal error", path: "", problems: [] }));
        } else res.destroy(e instanceof Error ? e : undefined);
      }
    })();
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  });
  server.keepAliveTimeout = 30_000;
  // node:http enforces these itself: past them it answers 408 and closes the socket, and the body
  // iterator then ends with ClientDisconnected, so the handler stops waiting for the missing bytes.
  server.maxConnections = limits.maxConnections;
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const base = `http://${shownHost}:${address.port}`;
  return {
    server,
    host: address.address,
    port: address.port,
    url: base,
    async close(graceMs = 5_000) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), graceMs);
      await Promise.allSettled([...inFlight]);
      server.closeIdleConnections();
      await closed;
      clearTimeout(timer);
    },
  };
}
