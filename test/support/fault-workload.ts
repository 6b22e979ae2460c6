/**
 * The workload of the fault-point trials (test/crash/fault-points.test.ts): a fixed script of steps
 * that reaches every kind of storage call. Three collections (an HNSW graph whose f32 vectors live
 * in a scratch file, a flat one with a payload index, one with a text field and a sparse vector) go through concurrent
 * upserts, deletes, a delete by filter, automatic and explicit checkpoints, compactions, a drop and
 * re-create, and close. Every write is recorded in a History with its outcome.
 */
import type { Database } from "../../src/database/database.js";
import type { CollectionSchema } from "../../src/core/schema/schema.js";
import { rng } from "./brute.js";
import type { History, ModelOp, ModelRecord } from "./history.js";

export const DIM = 8;
export const WORDS = ["amber", "birch", "cedar", "delta", "ember", "fjord"];

export const SCHEMAS: Record<string, CollectionSchema> = {
  graph: {
    vectors: { v: { dim: DIM, metric: "l2", index: { type: "hnsw", m: 6, efConstruction: 24, originals: "disk" } } },
    indexes: { g: "number" },
  },
  flat: { vectors: { v: { dim: DIM, metric: "cosine", index: { type: "flat" } } }, indexes: { g: "number" } },
  notes: { vectors: { v: { dim: DIM, metric: "dot" }, terms: { kind: "sparse" } }, text: { body: {} } },
};
/** The collections whose records carry a sparse vector `terms`, and its indices' range. */
export const SPARSE: ReadonlySet<string> = new Set(["notes"]);
export const SPARSE_INDICES = 24;
export const METRIC: Record<string, "l2" | "cosine" | "dot"> = { graph: "l2", flat: "cosine", notes: "dot" };

/** Small checkpoints and few segments, so a short workload rotates the WAL and compacts. */
export const DB_OPTIONS = { walMaxBytes: 2048, maxSegments: 2 };

export interface WorkloadSize {
  rounds: number;
  /** Records per upsert batch. */
  batch: number;
}

/** Where the workload is, for labelling storage calls, and what it saw go wrong. */
export interface WorkloadRun {
  readonly history: History;
  step: { index: number; name: string };
  /** Broken promises of the API (not of durability), e.g. a checkpoint that claims success. */
  violations: string[];
}

interface Step {
  name: string;
  run(db: Database, run: WorkloadRun): Promise<unknown>;
}

/** 1 to 4 positive weights (multiples of 1/64: exact in float32) at distinct indices, ascending. */
export function sparseOf(r: () => number): { indices: number[]; values: number[] } {
  const indices = [...new Set(Array.from({ length: 1 + Math.floor(r() * 4) }, () => Math.floor(r() * SPARSE_INDICES)))];
  indices.sort((a, b) => a - b);
  return { indices, values: indices.map(() => (1 + Math.floor(r() * 64)) / 64) };
}

function records(r: () => number, coll: string, step: number, ids: number[]): ModelRecord[] {
  return ids.map((n) => ({
    id: `${coll[0]}${n}`,
    // Exactly representable in float32, so stored and model vectors compare equal.
    vector: Array.from({ length: DIM }, () => Math.round((r() * 2 - 1) * 1024) / 1024 || 1 / 1024),
    ...(SPARSE.has(coll) && { sparse: sparseOf(r) }),
    payload: { op: step, g: Math.floor(r() * 4), body: `${WORDS[step % 6]} ${WORDS[Math.floor(r() * 6)]}` },
  }));
}

/** A model record as the API takes it: the dense vector `v`, and `terms` where it has one. */
export function recordInput(x: ModelRecord) {
  return { id: x.id, vectors: { v: x.vector, ...(x.sparse && { terms: x.sparse }) }, payload: x.payload };
}

/** Submits logged writes through the API together (so they can share a group commit) and records them. */
async function write(db: Database, run: WorkloadRun, ...ops: ModelOp[]): Promise<unknown> {
  // Handles first: a write whose collection is gone is refused unlogged.
  const handles = await Promise.all(ops.map((op) => db.collection(op.coll).catch(() => null)));
  return Promise.all(
    ops.map((op, i) => {
      const c = handles[i];
      if (op.kind === "create") return run.history.track(op, db.createCollection(op.coll, SCHEMAS[op.coll]));
      if (op.kind === "drop") return run.history.track(op, db.dropCollection(op.coll));
      if (!c) return run.history.refuse(op);
      if (op.kind === "delete") return run.history.track(op, c.delete(op.ids));
      return run.history.track(op, c.upsert(op.records.map(recordInput)));
    }),
  );
}

/** Deletes by filter `{ g }`, logged in the model as the ids the live state matches. */
async function deleteByFilter(db: Database, run: WorkloadRun, coll: string, g: number): Promise<unknown> {
  const ids = [...run.history.live]
    .filter(([k, v]) => k.startsWith(`${coll}/`) && v !== true && v.payload.g === g)
    .map(([, v]) => (v as ModelRecord).id);
  const op: ModelOp = { kind: "delete", coll, ids };
  const c = await db.collection(coll).catch(() => null);
  if (!c) return run.history.refuse(op);
  const { deleted } = await run.history.track(op, c.deleteByFilter({ g }));
  if (deleted !== ids.length)
    run.violations.push(`deleteByFilter deleted ${deleted}, the live model has ${ids.length}`);
}

/** The script: the same for a given size, so call i of one run is call i of the next. */
export function makeSteps(size: WorkloadSize): Step[] {
  const r = rng(4242);
  const steps: Step[] = [];
  const add = (name: string, f: Step["run"]): void => void steps.push({ name, run: f });
  for (const coll of ["graph", "flat", "notes"])
    add(`create ${coll}`, (db, run) => write(db, run, { kind: "create", coll }));
  let next = 0;
  const overwrite = (n: number): number[] => Array.from({ length: n }, () => Math.floor(r() * Math.max(1, next)));
  // Half new ids, half overwrites of earlier ones.
  const mixed = (): number[] => {
    const fresh = Array.from({ length: size.batch - (size.batch >> 1) }, () => next++);
    return [...new Set([...fresh, ...overwrite(size.batch >> 1)])];
  };
  const upsert = (coll: string, step: number, ids: number[]): ModelOp => ({
    kind: "upsert",
    coll,
    records: records(r, coll, step, ids),
  });
  for (let round = 0; round < size.rounds; round++) {
    // Two writes in flight at once, so they share a group commit.
    const pair = [upsert("graph", steps.length, mixed()), upsert("flat", steps.length, mixed())];
    add("upsert graph + flat", (db, run) => write(db, run, ...pair));
    const notes = upsert("notes", steps.length, mixed());
    add("upsert notes", (db, run) => write(db, run, notes));
    const gone: ModelOp = { kind: "delete", coll: "graph", ids: [...new Set(overwrite(2).map((n) => `g${n}`))] };
    add("delete graph", (db, run) => write(db, run, gone));
    add("delete flat by filter", (db, run) => deleteByFilter(db, run, "flat", round % 4));
    if (round % 2 === 1) add("checkpoint", (db, run) => checkpoint(db, run));
  }
  add("drop notes", (db, run) => write(db, run, { kind: "drop", coll: "notes" }));
  add("create notes", (db, run) => write(db, run, { kind: "create", coll: "notes" }));
  const again = upsert("notes", steps.length, [0, 1, 2]);
  add("upsert notes", (db, run) => write(db, run, again));
  add("close", (db) => db.close());
  return steps;
}

/** An explicit checkpoint; if it resolves, the manifest must cover every write made before it. */
async function checkpoint(db: Database, run: WorkloadRun): Promise<void> {
  await db.checkpoint();
  const s = await db.stats();
  if (s.lastCheckpointSeq !== s.seq)
    run.violations.push(`checkpoint() resolved but the last checkpoint covers seq ${s.lastCheckpointSeq} of ${s.seq}`);
}

/** Runs every step; failures of a step are expected under faults and only end that step. */
export async function runWorkload(db: Database, steps: Step[], run: WorkloadRun): Promise<void> {
  for (let i = 0; i < steps.length; i++) {
    run.step = { index: i, name: steps[i].name };
    await steps[i].run(db, run).catch(() => undefined);
  }
}
