/**
 * Quiver in a Cloudflare-style worker (workerd): the server app's `fetch` answers the HTTP API from
 * an in-memory database, opened on the isolate's first request and kept while the isolate lives
 * (workerd may start a fresh isolate at any time: this is a cache or a per-request scratch space,
 * not storage). workerd forbids compiling WebAssembly from bytes, so the two modules come in as
 * `.wasm` module imports (already `WebAssembly.Module`s) and are passed to `open` through `wasm`.
 *
 * Imports the runtime-neutral layers by path: nothing here touches node:*. build.mjs bundles it.
 */
import kernels from "./kernels.wasm";
import hnsw from "./hnsw.wasm";
import { Database } from "../../dist/src/database/database.js";
import { MemoryDirectory } from "../../dist/src/storage/memory-directory.js";
import { startQuiverServer } from "../../dist/src/server/index.js";

/** @type {Promise<{ fetch(request: Request): Promise<Response> }> | undefined} */
let server;

/** The app over a fresh in-memory database; keys and usage live in the same memory directory. */
async function start(adminKey) {
  const dir = new MemoryDirectory();
  const db = await Database.openDirectory(dir, { wasm: { kernels, hnsw } });
  const quiver = await startQuiverServer({ db, dir, adminKey });
  return quiver.app;
}

export default {
  /** @param {Request} request @param {{ QUIVER_ADMIN_KEY: string }} env */
  async fetch(request, env) {
    server ??= start(env.QUIVER_ADMIN_KEY).catch((e) => {
      server = undefined; // the next request tries again
      throw e;
    });
    return (await server).fetch(request);
  },
};
