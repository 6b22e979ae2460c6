/**
 * The Node adapter of the fetch app (src/server/app.ts): node:http requests become web Requests
 * whose body is pulled from the socket only when the app reads it (so a request rejected for its
 * key is answered before its body is received), and Responses are written back. `close()` stops
 * accepting, lets requests in flight finish, then ends the remaining connections.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

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

async function send(req: IncomingMessage, res: ServerResponse, response: Response): Promise<void> {
  const body = new Uint8Array(await response.arrayBuffer());
  const headers: Record<string, string> = {};
  response.headers.forEach((v, k) => (headers[k] = v));
  headers["content-length"] = String(body.byteLength);
  // A body the app never read (rejected before reading) cannot be skipped on a kept-alive connection.
  if (!req.complete) headers.connection = "close";
  res.writeHead(response.status, headers);
  res.end(body);
}

/**
 * Serves `fetch` on `host:port` (port 0 picks a free one). Binds 127.0.0.1 unless told otherwise.
 * @example
 * const http = await serveFetch(app.fetch, { port: 8080 });
 */
export async function serveFetch(fetch: (req: Request) => Promise<Response>, opts: { host?: string; port?: number } = {}): Promise<HttpServerHandle> {
  const host = opts.host ?? "127.0.0.1";
  const inFlight = new Set<Promise<void>>();
  const server = createServer((req, res) => {
    const p = (async () => {
      let request: Request;
      try {
        request = toRequest(req, base);
      } catch {
        res.writeHead(400, { "content-type": "application/json", connection: "close" });
        res.end(JSON.stringify({ code: "INVALID_ARGUMENT", message: "malformed request line or headers", path: "", problems: [] }));
        return;
      }
      try {
        await send(req, res, await fetch(request));
      } catch (e) {
        if (!res.headersSent) {
          res.writeHead(500, { "content-type": "application/json", connection: "close" });
          res.end(JSON.stringify({ code: "INTERNAL", message: "internal error", path: "", problems: [] }));
        } else res.destroy(e instanceof Error ? e : undefined);
      }
    })();
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  });
  server.keepAliveTimeout = 30_000;
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
