/**
 * The browser suite's main-thread half, bundled by chromium.test.ts: directory conformance for the
 * memory and IndexedDB directories, the database basics in memory and on IndexedDB (through the web
 * entry's `open(name)`), the API conformance suite through the HTTP client (to the server app in the
 * page, and to a Node server over HTTP), then the Worker half (worker-suite.ts: OPFS).
 */
import { type BrowserTestResult, runRegistered } from "./shims/node-test.js";
import { IndexedDbDirectory } from "../../src/browser/idb-directory.js";
import { MemoryDirectory } from "../../src/storage/memory-directory.js";
import { open } from "../../src/web.js";
import { connect } from "../../src/client/index.js";
import { startQuiverServer } from "../../src/server/index.js";
import { conformance } from "../server/conformance.js";
import { directoryConformance } from "../storage/directory-conformance.js";
import { databaseBasics } from "./database-basics.js";

let n = 0;
directoryConformance("memory (Chromium main thread)", async () => ({ dir: new MemoryDirectory() }), { scratch: false });
directoryConformance(
  "IndexedDB (Chromium main thread)",
  async () => {
    const name = `conformance-${Date.now()}-${n++}`;
    const dir = await IndexedDbDirectory.open(name);
    return {
      dir,
      cleanup: async () => {
        dir.close();
        await IndexedDbDirectory.destroy(name);
      },
    };
  },
  { scratch: false },
);
const memory = new MemoryDirectory();
databaseBasics("Chromium main thread, memory", { open: () => open(memory), reopenable: true });
const idbName = `basics-${Date.now()}`;
databaseBasics("Chromium main thread, IndexedDB via open(name)", {
  open: () => open(idbName),
  reopenable: true,
  cleanup: () => IndexedDbDirectory.destroy(idbName),
});

// The HTTP client against the server app, both in this page: requests go through the app's fetch.
const KEY = "qk_browser_suite_admin_key_0123456789";
conformance("client -> server app, both in Chromium", async () => {
  const db = await open();
  const server = await startQuiverServer({ db, dir: new MemoryDirectory(), adminKey: KEY });
  const client = connect("http://quiver.test", {
    apiKey: KEY,
    fetch: (input, init) => server.app.fetch(new Request(input, init)),
  });
  return { db: client, teardown: () => db.close() };
});
// The client over real HTTP, to a Node server on the page's own origin (/v1/... is proxied to it).
conformance("client in Chromium -> quiver server over HTTP", async () => {
  await fetch("/reset", { method: "POST" });
  return { db: connect(location.origin, { apiKey: KEY }), teardown: async () => {} };
});

/** Runs the Worker half and returns its results (or one failed result saying why it could not run). */
function workerResults(): Promise<BrowserTestResult[]> {
  return new Promise((resolve) => {
    const worker = new Worker("/worker.js", { type: "module" });
    const failed = (error: string) => resolve([{ name: "worker: the suite ran", ok: false, error, ms: 0 }]);
    worker.onmessage = (e: MessageEvent<BrowserTestResult[]>) => {
      worker.terminate();
      resolve(e.data);
    };
    worker.onerror = (e) => failed(`worker error: ${e.message}`);
  });
}

(globalThis as { runQuiverSuite?: () => Promise<BrowserTestResult[]> }).runQuiverSuite = async () => [
  ...(await runRegistered("main thread")),
  ...(await workerResults()),
];
