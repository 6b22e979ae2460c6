/**
 * Crash images at every storage call (SQLite's crash-test method) for the workload of
 * fault-workload.ts: enumerate the calls a run makes, take the image a kill or a power loss at each
 * leaves, or fail the call and let the run go on; then recover each image and check it against the
 * acknowledged history (history.ts) and exact search (dense and sparse) against brute force.
 */
import type { Collection } from "../../src/database/collection.js";
import { Database } from "../../src/database/database.js";
import { isQuiverError, type QuiverError } from "../../src/core/errors/errors.js";
import { bruteTopK, rng } from "./brute.js";
import { FaultyDirectory, type FaultOp, injectedFault, type StorageCall } from "./faulty-directory.js";
import {
  DB_OPTIONS,
  DIM,
  makeSteps,
  METRIC,
  recordInput,
  runWorkload,
  SPARSE,
  sparseOf,
  WORDS,
  type WorkloadRun,
  type WorkloadSize,
} from "./fault-workload.js";
import { explainMismatch, History, type ModelOp, type ModelRecord, type ModelState, type Status } from "./history.js";

export type Files = Map<string, Uint8Array>;

/** A storage call of a run, with the workload step it happened in. */
export interface Point {
  index: number;
  op: FaultOp;
  /** File names with their numbers blanked (wal-#.log), so points compare across steps. */
  file: string;
  step: number;
  stepName: string;
}

/** A crash image: the files, and the outcome of every write at that moment. */
export interface Image {
  files: Files;
  ops: ModelOp[];
  status: Status[];
}

export const fileKind = (files: string[]): string =>
  files.map((f) => f.replace(/[0-9a-f]{16}/g, "<uid>").replace(/\d+/g, "#")).join(" -> ");

/** Calls whose failure ENOSPC can also explain (they may need space); every call can fail with EIO. */
export const SPACE_OPS: ReadonlySet<FaultOp> = new Set(["create", "append", "truncate", "openScratch", "scratchWrite"]);

const copy = (files: Files): Files => new Map([...files].map(([n, b]) => [n, b.slice()]));

/** A directory holding `files` as durable; each check gets its own so images stay untouched. */
export const directoryOf = (files: Files, seed = 1): FaultyDirectory =>
  FaultyDirectory.fromFiles(copy(files), { seed });

/**
 * Runs the workload once on a fresh directory. `onCall` sees every call first, labelled with its
 * step (it may take images, or return an error to fail the call).
 */
export async function runLabelled(
  size: WorkloadSize,
  onCall: (point: Point, dir: FaultyDirectory, run: WorkloadRun, files: string[]) => QuiverError | undefined,
): Promise<{ dir: FaultyDirectory; run: WorkloadRun; points: Point[] }> {
  const dir = new FaultyDirectory({ seed: 3 });
  const run: WorkloadRun = { history: new History(), step: { index: -1, name: "open" }, violations: [] };
  const points: Point[] = [];
  dir.onCall = (call: StorageCall) => {
    const point = {
      index: call.index,
      op: call.op,
      file: fileKind(call.files),
      step: run.step.index,
      stepName: run.step.name,
    };
    points.push(point);
    return onCall(point, dir, run, call.files);
  };
  // Opening the fresh directory makes calls too; if one fails, there is no workload to run.
  const db = await Database.openDirectory(dir, DB_OPTIONS).catch((e) => {
    if (isQuiverError(e, "IO")) return null;
    throw e;
  });
  if (db) await runWorkload(db, makeSteps(size), run);
  dir.onCall = undefined;
  return { dir, run, points };
}

/** The two images of the moment: a kill keeps every issued write, a power loss only what was synced (torn). */
export function imagesNow(dir: FaultyDirectory, run: WorkloadRun, seed: number): { kill: Image; power: Image } {
  const ops = [...run.history.ops];
  const status = [...run.history.status];
  return {
    kill: { files: dir.snapshot(), ops, status },
    power: { files: dir.crash(rng(seed)).snapshot(), ops, status },
  };
}

/**
 * Fails call `index` with `error` and lets the workload run on. Returns the images of a kill and a
 * power loss at each of the `follow` calls after it (where the failure is being handled) and at the end.
 */
export async function runWithFault(
  size: WorkloadSize,
  expected: Point,
  error: "EIO" | "ENOSPC",
  follow: number,
): Promise<{ images: { when: string; image: Image }[]; violations: string[]; mismatch: string | null }> {
  let mismatch: string | null = null;
  const images: { when: string; image: Image }[] = [];
  const { dir, run } = await runLabelled(size, (point, dir, run, files) => {
    const after = point.index - expected.index;
    if (after > 0 && after <= follow) {
      const { kill, power } = imagesNow(dir, run, 7919 * point.index + after);
      images.push(
        { when: `kill at call +${after}`, image: kill },
        { when: `power loss at call +${after}`, image: power },
      );
    }
    if (after !== 0) return undefined;
    // The script is deterministic: call i must be the same call as in the counting run.
    if (point.op !== expected.op || point.file !== expected.file || point.step !== expected.step)
      mismatch = `call ${point.index} is ${point.op} ${point.file} at step ${point.step}, was ${expected.op} ${expected.file} at step ${expected.step}`;
    return injectedFault(point.op, files, error);
  });
  const { kill, power } = imagesNow(dir, run, 7919 * (expected.index + 1));
  images.push({ when: "kill at the end", image: kill }, { when: "power loss at the end", image: power });
  return { images, violations: run.violations, mismatch };
}

/** Recovers `image`; returns null when the database opens and matches the history, else what is wrong. */
export async function checkImage(image: Image, seed: number): Promise<string | null> {
  let db: Database;
  try {
    db = await Database.openDirectory(directoryOf(image.files), { ...DB_OPTIONS, onWarning: () => undefined });
  } catch (e) {
    return `does not open: ${e instanceof Error ? e.message : String(e)}`;
  }
  try {
    const actual = await readAll(db);
    const why = explainMismatch(image.ops, image.status, actual, sameValue);
    if (why) return why;
    return (await checkSearches(db, actual, seed)) ?? (await checkWritable(db));
  } catch (e) {
    return `after opening: ${e instanceof Error ? e.message : String(e)}`;
  } finally {
    await db.close().catch(() => undefined);
  }
}

/**
 * Crashes the recovery of `image` at each of its own storage calls (kill and power loss), and fails
 * each call (EIO) then crashes; every image that leaves must recover and match the same history.
 * Returns the failures, and the number of recovery calls.
 */
export async function crashRecovery(
  image: Image,
  seed: number,
): Promise<{ failures: string[]; calls: number; trials: number }> {
  const taken: { label: string; files: Files }[] = [];
  const counting = directoryOf(image.files, seed);
  counting.onCall = (call) => {
    const label = `recovery call ${call.index} ${call.op} ${fileKind(call.files)}`;
    taken.push({ label: `${label} (kill)`, files: counting.snapshot() });
    taken.push({ label: `${label} (power loss)`, files: counting.crash(rng(seed + call.index)).snapshot() });
    return undefined;
  };
  const calls = await openAndClose(counting);
  for (let i = 0; i < calls; i++) {
    const failing = directoryOf(image.files, seed);
    failing.onCall = (call) => (call.index === i ? injectedFault(call.op, call.files, "EIO") : undefined);
    await openAndClose(failing);
    taken.push({
      label: `recovery call ${i} fails (EIO), then power loss`,
      files: failing.crash(rng(seed - i)).snapshot(),
    });
  }
  const failures: string[] = [];
  for (const t of taken) {
    const why = await checkImage({ ...image, files: t.files }, seed);
    if (why) failures.push(`${t.label}: ${why}`);
  }
  return { failures, calls, trials: taken.length };
}

/** Opens (recovery) and closes without writing; returns how many storage calls the directory saw. */
async function openAndClose(dir: FaultyDirectory): Promise<number> {
  let calls = 0;
  const hook = dir.onCall;
  dir.onCall = (call) => {
    calls++;
    return hook?.(call);
  };
  try {
    const db = await Database.openDirectory(dir, { ...DB_OPTIONS, onWarning: () => undefined });
    dir.onCall = undefined; // only recovery's own calls are crash points here
    await db.close();
  } catch (e) {
    if (!isQuiverError(e)) throw e;
  }
  dir.onCall = hook;
  return calls;
}

async function readAll(db: Database): Promise<ModelState> {
  const state: ModelState = new Map();
  for (const info of await db.listCollections()) {
    state.set(info.name, true);
    const c = await db.collection(info.name);
    let cursor: string | undefined;
    do {
      const page = await c.scroll({ cursor, limit: 200, withVectors: true });
      for (const r of page.records) {
        const payload = r.payload as ModelRecord["payload"];
        const sparse = r.vectors!.terms as ModelRecord["sparse"];
        const record: ModelRecord = { id: r.id, vector: [...(r.vectors!.v as number[])], payload };
        state.set(`${info.name}/${r.id}`, sparse ? { ...record, sparse } : record);
      }
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
  }
  return state;
}

function stored(coll: string, v: number[]): number[] {
  if (METRIC[coll] !== "cosine") return v;
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

function sameValue(key: string, want: ModelRecord | true, got: ModelRecord | true): boolean {
  if (want === true || got === true) return want === got;
  if (JSON.stringify(want.payload) !== JSON.stringify(got.payload)) return false;
  if (JSON.stringify(want.sparse) !== JSON.stringify(got.sparse)) return false;
  const w = stored(key.slice(0, key.indexOf("/")), want.vector);
  return w.every((x, i) => Math.abs(x - got.vector[i]) < 1e-6);
}

/** Exact search equals brute force; graph search returns live records with true scores; text finds what it should. */
async function checkSearches(db: Database, state: ModelState, seed: number): Promise<string | null> {
  const r = rng(seed);
  for (const info of await db.listCollections()) {
    const c = await db.collection(info.name);
    const live = [...state]
      .filter(([k, v]) => k.startsWith(`${info.name}/`) && v !== true)
      .map(([, v]) => v as ModelRecord);
    const metric = METRIC[info.name];
    for (let t = 0; t < 3; t++) {
      const q = Array.from({ length: DIM }, () => r() * 2 - 1);
      const want = bruteTopK(metric, live, q, 10);
      const exact = (await c.query({ vector: { v: q }, limit: 10, exact: true })).hits;
      if (exact.length !== want.length) return `${info.name}: exact search found ${exact.length} of ${want.length}`;
      for (let i = 0; i < want.length; i++)
        if (Math.abs(exact[i].score - want[i].score) > 1e-4)
          return `${info.name}: exact rank ${i} scores ${exact[i].score}, brute force ${want[i].score}`;
      const approx = (await c.query({ vector: { v: q }, limit: 10 })).hits;
      if (approx.length !== want.length) return `${info.name}: graph search found ${approx.length} of ${want.length}`;
      const byId = new Map(live.map((x) => [x.id, x]));
      for (const h of approx) {
        const m = byId.get(h.id);
        if (!m) return `${info.name}: search returned ${h.id}, which is not a live record`;
        const true_ = bruteTopK(metric, [m], q, 1)[0].score;
        if (Math.abs(h.score - true_) > 1e-4) return `${info.name}: ${h.id} scored ${h.score}, truly ${true_}`;
      }
    }
    if (SPARSE.has(info.name)) {
      const why = await checkSparse(c, live, r);
      if (why) return `${info.name}: ${why}`;
    }
    if (info.name === "notes") {
      const word = WORDS[Math.floor(r() * WORDS.length)];
      const having = live.filter((x) => x.payload.body.split(" ").includes(word)).map((x) => x.id);
      const hits = (await c.query({ text: word, limit: 1000 })).hits.map((h) => h.id);
      if (hits.length !== having.length || hits.some((id) => !having.includes(id)))
        return `notes: text "${word}" found [${hits.sort()}], records with it are [${having.sort()}]`;
    }
  }
  return null;
}

/** A sparse query's exact top 10 equals a brute-force dot product over the live records. */
async function checkSparse(c: Collection, live: ModelRecord[], r: () => number): Promise<string | null> {
  const q = sparseOf(r);
  const weight = new Map(q.indices.map((ix, i) => [ix, q.values[i]]));
  const want = live
    .map((x) => ({
      id: x.id,
      score: (x.sparse?.indices ?? []).reduce((s, ix, i) => s + (weight.get(ix) ?? 0) * (x.sparse?.values[i] ?? 0), 0),
    }))
    .filter((x) => x.score > 0)
    .sort((a, b) => b.score - a.score)
    .slice(0, 10);
  const hits = (await c.query({ vector: { terms: q }, limit: 10 })).hits;
  if (hits.length !== want.length) return `sparse search found ${hits.length} of ${want.length}`;
  for (let i = 0; i < want.length; i++)
    if (Math.abs(hits[i].score - want[i].score) > 1e-5)
      return `sparse rank ${i} scores ${hits[i].score}, brute force ${want[i].score}`;
  return null;
}

/** A recovered database takes writes again. */
async function checkWritable(db: Database): Promise<string | null> {
  const [first] = await db.listCollections();
  if (!first) return null;
  const c = await db.collection(first.name);
  await c.upsert([
    recordInput({
      id: "after-recovery",
      vector: Array(DIM).fill(0.25),
      ...(SPARSE.has(first.name) && { sparse: { indices: [1], values: [0.5] } }),
      payload: { op: -1, g: 0, body: "amber" },
    }),
  ]);
  return (await c.get(["after-recovery"])).length === 1
    ? null
    : `${first.name}: a write after recovery is not readable`;
}
