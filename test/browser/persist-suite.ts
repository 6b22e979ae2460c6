/**
 * The workload of the persistence tests (persistence.test.ts), one bundle used both as the page and
 * as its Worker: `write` upserts batches up to a total, counting the acknowledged ones where the
 * test can read them (`globalThis.acked`); `check` reopens the database and reports what it holds;
 * `hold` keeps it open (its writer lock held) and `tryOpen` reports whether another context can open it.
 * On the main thread the database lives in IndexedDB; with `worker: true` in OPFS, inside a Worker.
 */
import { cosine } from "../../src/embed/embedder.js";
import { open } from "../../src/web.js";

export interface CheckReport {
  count: number;
  /** Ids below `expected` that are missing or whose payload or vector is not what was written. */
  damaged: string[];
  /** The nearest neighbour of record 7's own vector (must be r7). */
  nearest: string;
}

const DIM = 8;
const BATCH = 10;
const vectorOf = (i: number): number[] => Array.from({ length: DIM }, (_, j) => Math.sin(i * DIM + j + 1));
const SCHEMA = { vectors: { v: { dim: DIM, metric: "cosine" as const, index: { type: "hnsw" as const } } } };

/** Writes batches of BATCH records until `total`, reporting each acknowledged batch (the kill test stops it). */
async function write(name: string, total: number, report: (acked: number) => void): Promise<number> {
  const db = await open(name);
  const c = (await db.listCollections()).some((x) => x.name === "p")
    ? await db.collection("p")
    : await db.createCollection("p", SCHEMA);
  let acked = 0;
  while (acked < total) {
    const batch = Array.from({ length: BATCH }, (_, k) => acked + k).map((i) => ({
      id: `r${i}`,
      vector: vectorOf(i),
      payload: { i, text: `record number ${i}` },
    }));
    await c.upsert(batch);
    acked += BATCH;
    report(acked);
  }
  await db.close();
  return acked;
}

async function check(name: string, expected: number): Promise<CheckReport> {
  const db = await open(name);
  try {
    const c = await db.collection("p");
    const damaged: string[] = [];
    const ids = Array.from({ length: expected }, (_, i) => `r${i}`);
    const got = await c.get(ids, { withVectors: true });
    const byId = new Map(got.map((r) => [r.id, r]));
    for (let i = 0; i < expected; i++) {
      const r = byId.get(`r${i}`) as { payload?: { i?: number }; vectors?: Record<string, number[]> } | undefined;
      const v = r?.vectors?.v;
      // Cosine vectors are stored normalised: compare directions.
      const same = v !== undefined && cosine(vectorOf(i), v) > 0.99999;
      if (!r || r.payload?.i !== i || !same) damaged.push(`r${i}`);
    }
    const nearest = (await c.query({ vector: vectorOf(7), limit: 1 })).hits[0]?.id ?? "";
    return { count: await c.count(), damaged, nearest };
  } finally {
    await db.close();
  }
}

/** Opens the database and keeps it open (the writer lock held) for as long as this context lives. */
const held: unknown[] = [];
async function hold(name: string): Promise<string> {
  held.push(await open(name));
  return "held";
}

/** Tries to open the database: "opened" (then closes it) or the error's code. */
async function tryOpen(name: string): Promise<string> {
  try {
    await (await open(name)).close();
    return "opened";
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
}

type Request =
  | { op: "write"; name: string; total: number }
  | { op: "check"; name: string; expected: number }
  | { op: "hold" | "tryOpen"; name: string };

const inWorker = typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== "undefined";
if (inWorker) {
  self.onmessage = async (e: MessageEvent<Request>) => {
    const req = e.data;
    try {
      if (req.op === "write") {
        postMessage({ done: await write(req.name, req.total, (acked) => postMessage({ acked })) });
      } else if (req.op === "check") postMessage({ done: await check(req.name, req.expected) });
      else postMessage({ done: await (req.op === "hold" ? hold : tryOpen)(req.name) });
    } catch (err) {
      postMessage({ error: String(err) });
    }
  };
} else {
  const g = globalThis as Record<string, unknown>;
  g.acked = 0;
  // A Worker per request, ended with its answer, except a holding one, which lives as long as the page.
  const viaWorker = (req: Request): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const w = new Worker("/persist.js", { type: "module" });
      w.onmessage = (e: MessageEvent<{ acked?: number; done?: unknown; error?: string }>) => {
        if (e.data.acked !== undefined) g.acked = e.data.acked;
        else if (e.data.error !== undefined) reject(new Error(e.data.error));
        else {
          if (req.op !== "hold") w.terminate();
          resolve(e.data.done);
        }
      };
      w.onerror = (e) => reject(new Error(e.message));
      w.postMessage(req);
    });
  g.quiverWrite = (name: string, total: number, worker: boolean) =>
    worker ? viaWorker({ op: "write", name, total }) : write(name, total, (acked) => (g.acked = acked));
  g.quiverCheck = (name: string, expected: number, worker: boolean) =>
    worker ? viaWorker({ op: "check", name, expected }) : check(name, expected);
  g.quiverHold = (name: string, worker: boolean) => (worker ? viaWorker({ op: "hold", name }) : hold(name));
  g.quiverTryOpen = (name: string, worker: boolean) => (worker ? viaWorker({ op: "tryOpen", name }) : tryOpen(name));
  g.quiverReady = true;
}
