/**
 * The shared suites inside workerd, bundled by workerd.test.ts with the browser's node:test and
 * node:assert stand-ins (test/browser/shims): the database basics (HNSW against brute force, BM25,
 * hybrid, filters) in memory through the web entry's `open`, the memory directory's conformance, and
 * the API conformance through the HTTP client to the server app's `fetch`, all in the worker. workerd
 * refuses to compile WebAssembly from bytes, so the bundle's entry imports the two `.wasm` files as
 * modules and hands them here; every open passes them on.
 */
import { type BrowserTestResult, runRegistered } from "../browser/shims/node-test.js";
import { connect } from "../../src/client/index.js";
import { startQuiverServer } from "../../src/server/index.js";
import { MemoryDirectory } from "../../src/storage/memory-directory.js";
import { open } from "../../src/web.js";
import { databaseBasics } from "../browser/database-basics.js";
import { conformance } from "../server/conformance.js";
import { directoryConformance } from "../storage/directory-conformance.js";

export interface WasmModules {
  kernels: WebAssembly.Module;
  hnsw: WebAssembly.Module;
}

/** Marks each result line in workerd's output, for workerd.test.ts to find and parse. */
export const RESULT_MARK = "QUIVER_WORKERD_RESULT ";

const KEY = "qk_workerd_suite_admin_key_0123456789";

/** Registers the suites with `wasm` passed to every open; returns the worker whose `test` runs them. */
export function workerdSuite(wasm: WasmModules) {
  directoryConformance("memory (workerd)", async () => ({ dir: new MemoryDirectory() }), { scratch: false });
  const memory = new MemoryDirectory();
  databaseBasics("workerd, memory", { open: () => open(memory, { wasm }), reopenable: true });
  conformance("client -> server app's fetch, both in workerd", async () => {
    const db = await open(undefined, { wasm });
    const server = await startQuiverServer({ db, dir: new MemoryDirectory(), adminKey: KEY });
    const client = connect("http://quiver.test", {
      apiKey: KEY,
      fetch: (input, init) => server.app.fetch(new Request(input, init)),
    });
    return { db: client, teardown: () => db.close() };
  });

  return {
    /** `workerd test` calls this: one marked JSON line per result, and a throw if any failed. */
    async test(): Promise<void> {
      const results: BrowserTestResult[] = await runRegistered("workerd");
      for (const r of results) console.log(RESULT_MARK + JSON.stringify(r));
      const failed = results.filter((r) => !r.ok).length;
      if (failed > 0) throw new Error(`${failed} of ${results.length} workerd tests failed`);
    },
  };
}
