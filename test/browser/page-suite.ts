/**
 * The browser suite's main-thread half, bundled by chromium.test.ts: directory conformance for the
 * memory and IndexedDB directories, the database basics in memory and on IndexedDB (through the web
 * entry's `open(name)`), the API conformance suite through the HTTP client (to the server app in the
 * page, and to a Node server over HTTP), then the Worker half (worker-suite.ts: OPFS).
 */
import { type BrowserTestResult, runRegistered } from "./shims/node-test.js";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
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
describe("IndexedDB directory: bytes of a file removed or replaced while open", () => {
  it("stay readable to nobody and are deleted when its last handle closes", async () => {
    const name = `unnamed-${Date.now()}`;
    const dir = await IndexedDbDirectory.open(name);
    try {
      const f = await dir.create("wal");
      await f.append(new Uint8Array(100));
      await f.sync();
      await dir.remove("wal");
      await f.append(new Uint8Array(50)); // the writer keeps going, as on POSIX
      await f.sync();
      const g = await dir.create("seg");
      await g.append(new Uint8Array(10));
      await g.sync();
      const h = await dir.create("seg.tmp");
      await h.close();
      await dir.rename("seg.tmp", "seg"); // replaces "seg" while g is open
      await g.close();
      await f.close();
      assert.deepEqual(await dir.list(), ["seg"]);
      const raw = await new Promise<IDBDatabase>((resolve, reject) => {
        const r = indexedDB.open(IndexedDbDirectory.databaseName(name));
        r.onsuccess = () => resolve(r.result);
        r.onerror = () => reject(r.error);
      });
      const chunks = await new Promise<number>((resolve, reject) => {
        const r = raw.transaction("chunks").objectStore("chunks").count();
        r.onsuccess = () => resolve(r.result);
        r.onerror = () => reject(r.error);
      });
      raw.close();
      assert.equal(chunks, 0, "chunks of unnamed files were left behind");
    } finally {
      dir.close();
      await IndexedDbDirectory.destroy(name);
    }
  });
});

const memory = new MemoryDirectory();
databaseBasics("Chromium main thread, memory", { open: () => open(memory), reopenable: true });
const idbName = `basics-${Date.now()}`;
databaseBasics("Chromium main thread, IndexedDB via open(name)", {
  open: () => open(idbName),
  reopenable: true,
  cleanup: () => IndexedDbDirectory.destroy(idbName),
});

describe("stop words on demand", () => {
  it("open(name) fetches the list a stored database's schema names, after a reopen too", async () => {
    const name = `stopwords-${Date.now()}`;
    const schema = {
      vectors: { v: { dim: 2, metric: "l2" as const } },
      text: { corps: { analyzer: "standard" as const, stopWords: "fr" } },
    };
    const hits = async (db: Awaited<ReturnType<typeof open>>, q: string) =>
      (await (await db.collection("t")).query({ text: q, limit: 5 })).hits.map((h) => h.id);
    try {
      const db = await open(name);
      await (await db.createCollection("t", schema)).upsert([
        { id: "a", vector: [1, 2], payload: { corps: "le chat dort" } },
      ]);
      await db.close();
      const reopened = await open(name); // a fresh database: its French list is loaded again, by open()
      assert.deepEqual(await hits(reopened, "le"), [], "a French stop word still matched");
      assert.deepEqual(await hits(reopened, "chat"), ["a"]);
      await reopened.close();
      // The list came as its own chunk, fetched on demand: the base bundle does not carry it.
      const fetched = performance.getEntriesByType("resource").map((e) => e.name);
      assert.ok(
        fetched.some((url) => /stopwords_fra/.test(url)),
        `no stop-word chunk fetched: ${fetched.join(", ")}`,
      );
    } finally {
      await IndexedDbDirectory.destroy(name);
    }
  });
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
