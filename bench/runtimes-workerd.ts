// workerd's share of `npm run bench -- runtimes`, bundled by runtimes.ts and served by `workerd serve`
// on loopback. In workerd, Date.now() and performance.now() only advance across I/O, so the worker
// cannot time itself: each phase of runtimes-workload.ts is its own request and runtimes.ts times the
// requests from outside. POST /prepare (body: the base rows, then the query rows) opens an in-memory
// database and creates the collection; POST /upsert, POST /query (answers the ranked ids) and
// POST /finish (answers the kernels) run the phases; GET /ping answers once the worker is up.

import { open } from "../src/web.js";
import { prepareWorkload, splitRows, type WorkloadPhases } from "./runtimes-workload.js";

export interface WasmModules {
  kernels: WebAssembly.Module;
  hnsw: WebAssembly.Module;
}

function json(body: unknown): Response {
  return new Response(JSON.stringify(body), { headers: { "content-type": "application/json" } });
}

/** The worker; `wasm` comes precompiled from the bundle's entry (workerd refuses to compile bytes). */
export function runtimesWorker(wasm: WasmModules) {
  let phases: WorkloadPhases | undefined;
  const ready = (): WorkloadPhases => {
    if (!phases) throw new Error("POST /prepare first");
    return phases;
  };
  return {
    async fetch(request: Request): Promise<Response> {
      const url = new URL(request.url);
      switch (`${request.method} ${url.pathname}`) {
        case "GET /ping":
          return new Response("pong");
        case "POST /prepare": {
          const dim = Number(url.searchParams.get("dim"));
          const baseRows = Number(url.searchParams.get("base"));
          const metric = url.searchParams.get("metric") === "l2" ? "l2" : "cosine";
          const bytes = await request.arrayBuffer();
          const split = baseRows * dim * 4;
          const base = splitRows(bytes.slice(0, split), dim, baseRows);
          const queries = splitRows(bytes.slice(split), dim, Number.MAX_SAFE_INTEGER);
          phases = await prepareWorkload(await open(undefined, { wasm }), base, queries, metric);
          return json({ base: base.length, queries: queries.length });
        }
        case "POST /upsert":
          await ready().upsert();
          return json({ ok: true });
        case "POST /query":
          return json(await ready().query());
        case "POST /finish":
          return json({ kernels: await ready().finish() });
        default:
          return new Response("not found", { status: 404 });
      }
    },
  };
}
