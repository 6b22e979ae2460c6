/**
 * What the Chromium tests serve: browser bundles built by esbuild from the compiled tests (dist/), and a
 * loopback HTTP server for them, started and stopped by the test. In the bundles `node:test` and
 * `node:assert/strict` are the stand-ins in shims/; any other `node:*` import fails the build.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build, type Plugin } from "esbuild";

const HERE = dirname(fileURLToPath(import.meta.url));

/** Maps the two Node test modules to the browser stand-ins and refuses every other node:* import. */
export const browserShims: Plugin = {
  name: "quiver-browser-shims",
  setup(b) {
    b.onResolve({ filter: /^node:/ }, (args) => {
      if (args.path === "node:test") return { path: join(HERE, "shims", "node-test.js") };
      if (args.path === "node:assert/strict") return { path: join(HERE, "shims", "node-assert.js") };
      return {
        errors: [{ text: `${args.path} imported by ${args.importer}: no node:* module may reach a browser bundle` }],
      };
    });
  },
};

/** Bundles `entries` (name -> compiled file under dist/test/browser) into in-memory ES modules, code-split. */
export async function bundle(entries: Record<string, string>): Promise<Map<string, Uint8Array>> {
  const result = await build({
    entryPoints: Object.fromEntries(Object.entries(entries).map(([name, file]) => [name, join(HERE, file)])),
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "browser",
    target: "chrome120",
    outdir: "/bundle",
    write: false,
    logLevel: "silent",
    plugins: [browserShims],
  });
  return new Map(result.outputFiles.map((f) => [f.path.slice("/bundle".length), f.contents]));
}

export interface LoopbackServer {
  url: string;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  ".js": "text/javascript",
  ".html": "text/html",
  ".css": "text/css",
  ".wasm": "application/wasm",
};

/**
 * Serves the files (path -> bytes) on 127.0.0.1 (a secure context, as OPFS needs). `/` is the files'
 * `/index.html` when there is one, otherwise a page loading the module `page`; other paths go to
 * `fallback` when given.
 */
export async function serveFiles(
  files: Map<string, Uint8Array>,
  page = "/page.js",
  fallback?: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<LoopbackServer> {
  const html = `<!doctype html><meta charset="utf-8"><title>quiver</title><script type="module" src="${page}"></script>`;
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    const body = files.get(path === "/" && files.has("/index.html") ? "/index.html" : path);
    if (path === "/" && !body) {
      res.writeHead(200, { "content-type": "text/html" }).end(html);
      return;
    }
    if (!body) {
      if (fallback) fallback(req, res);
      else res.writeHead(404).end();
      return;
    }
    const type = TYPES[path === "/" ? ".html" : extname(path)] ?? "application/octet-stream";
    res.writeHead(200, { "content-type": type, "cache-control": "no-store" }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Answers a Node request with a fetch-style handler (a Quiver server app, here). */
export async function answerWithFetch(
  req: IncomingMessage,
  res: ServerResponse,
  handler: (r: Request) => Promise<Response>,
): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers.set(k, v);
  const method = req.method ?? "GET";
  const body = method === "GET" || method === "HEAD" ? undefined : Buffer.concat(chunks);
  const response = await handler(new Request(`http://127.0.0.1${req.url}`, { method, headers, body }));
  response.headers.forEach((value, name) => {
    res.setHeader(name, value);
  });
  res.writeHead(response.status);
  res.end(Buffer.from(await response.arrayBuffer()));
}
