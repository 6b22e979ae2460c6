/**
 * The browser suite's main-thread half, bundled by chromium.test.ts: directory conformance for the
 * memory and IndexedDB directories and the database basics in memory and on IndexedDB (through the
 * web entry's `open(name)`), then the Worker half (worker-suite.ts: OPFS); all results to the page.
 */
import { type BrowserTestResult, runRegistered } from "./shims/node-test.js";
import { IndexedDbDirectory } from "../../src/browser/idb-directory.js";
import { MemoryDirectory } from "../../src/storage/memory-directory.js";
import { open } from "../../src/web.js";
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
