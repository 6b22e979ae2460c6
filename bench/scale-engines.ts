// The engines of the scale bench behind one interface. Quiver runs as a user runs it: a database on
// disk, records with a payload (`u` unindexed, `w` the same value with a number index), upserts and
// queries through the embedded API, checkpoints included. hnswlib-node and usearch are the native
// graphs (M 16 unless `--m`, efConstruction 200 for all three); usearch builds on all cores, the others on one.

import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { open, type Collection, type Database } from "../src/index.js";
import type { ScaleData } from "./scale-data.js";
import { plainArrays } from "./ann-engines.js";

export const M = 16;
export const EF_CONSTRUCTION = 200;
const BATCH = 1000;

export interface ScaleEngine {
  name: string;
  /** Threads the build used ("all" = every core). */
  buildThreads: string;
  build(d: ScaleData): Promise<void>;
  setEf(ef: number): void;
  search(q: Float32Array, k: number): Promise<number[]> | number[];
  /** Rows with u < selectivity, on the indexed or unindexed field; absent when the engine cannot filter. */
  searchFiltered?(
    q: Float32Array,
    k: number,
    selectivity: number,
    field: "indexed" | "unindexed",
  ): Promise<{ ids: number[]; strategy: string }>;
  /** Adds rows as new records with the given row numbers (ids). */
  insert(ids: number[], rows: Float32Array): Promise<void>;
  /** Gives existing ids new vectors. */
  replace(ids: number[], rows: Float32Array): Promise<void>;
  /** Persists, drops the in-memory index, opens it again: seconds to open and to the first answer. */
  reopen(q: Float32Array): Promise<{ openSeconds: number; firstQuerySeconds: number }>;
  /** Single-record upserts one after another: latencies (ms) alone and while a checkpoint runs. */
  writeLatency?(
    rows: Float32Array,
    dim: number,
  ): Promise<{ alone: number[]; duringCheckpoint: number[]; checkpointMs: number }>;
  /**
   * Runs `fn` with the index reopened to search on `threads` worker threads (0: the calling thread),
   * then reopens it as it was. Absent when the engine has no such setting.
   */
  withThreads?<T>(threads: number, fn: () => Promise<T>): Promise<T>;
  /** Engine-reported bytes per vector, when it reports one. */
  bytesPerVector?(): Promise<number>;
  close(): Promise<void>;
}

const require = createRequire(import.meta.url);
const seconds = (t0: number): number => (performance.now() - t0) / 1000;
const row = (rows: Float32Array, dim: number, i: number): Float32Array => rows.subarray(i * dim, (i + 1) * dim);

/** How Quiver is set up: f32 originals in memory (default) or on disk; threads that build the graph (0: none). */
export interface QuiverScaleOptions {
  /** Graph links per node for every engine (`--m`; default M). */
  m?: number;
  originals?: "memory" | "disk";
  buildThreads?: number;
  /** Prints records, seconds and RSS to stderr every this many records of the build (0: never). */
  progressEvery?: number;
}

function quiver(o: QuiverScaleOptions = {}): ScaleEngine {
  const dir = mkdtempSync(join(tmpdir(), "quiver-scale-"));
  const buildThreads = o.buildThreads ?? 0;
  let db: Database;
  let c: Collection;
  let ef = 64;
  let dim = 0;
  let u: Float64Array;
  const records = (ids: number[], rows: Float32Array) =>
    ids.map((id, i) => ({ id: String(id), vector: row(rows, dim, i), payload: { u: u[id] ?? 0.5, w: u[id] ?? 0.5 } }));
  const ids = (hits: { id: string }[]) => hits.map((h) => Number(h.id));
  return {
    name: "quiver",
    buildThreads: String(Math.max(1, buildThreads)),
    async build(d) {
      dim = d.dim;
      u = d.u;
      // With two or more threads a bulk upsert's graph is linked by all of them (parallel build).
      db = await open(dir, buildThreads >= 2 ? { threads: buildThreads } : {});
      const index = {
        type: "hnsw" as const,
        m: o.m ?? M,
        efConstruction: EF_CONSTRUCTION,
        originals: o.originals ?? "memory",
      };
      c = await db.createCollection("scale", {
        vectors: { v: { dim, metric: "l2", index } },
        indexes: { w: "number" },
      });
      const t0 = performance.now();
      for (let i = 0; i < d.n; i += BATCH) {
        if (o.progressEvery && i > 0 && i % o.progressEvery === 0) {
          const rss = Math.round(process.memoryUsage().rss / 2 ** 20);
          process.stderr.write(`quiver build: ${i} records, ${seconds(t0).toFixed(0)} s, RSS ${rss} MB\n`);
        }
        const n = Math.min(BATCH, d.n - i);
        await c.upsert(
          records(
            Array.from({ length: n }, (_, j) => i + j),
            d.base.subarray(i * dim, (i + n) * dim),
          ),
        );
      }
    },
    setEf(e) {
      ef = e;
    },
    search: async (q, k) => ids((await c.query({ vector: q, limit: k, ef, withPayload: false })).hits),
    async searchFiltered(q, k, s, field) {
      const filter = { [field === "indexed" ? "w" : "u"]: { $lt: s } };
      const r = await c.query({ vector: q, limit: k, ef, filter, withPayload: false });
      return { ids: ids(r.hits), strategy: r.plan.strategy };
    },
    insert: async (newIds, rows) => void (await c.upsert(records(newIds, rows))),
    replace: async (oldIds, rows) => void (await c.upsert(records(oldIds, rows))),
    async reopen(q) {
      await db.close();
      const t0 = performance.now();
      db = await open(dir);
      const openSeconds = seconds(t0);
      c = await db.collection("scale");
      await c.query({ vector: q, limit: 10, ef, withPayload: false });
      return { openSeconds, firstQuerySeconds: seconds(t0) - openSeconds };
    },
    async withThreads(threads, fn) {
      await db.close();
      db = await open(dir, { threads });
      c = await db.collection("scale");
      try {
        return await fn();
      } finally {
        await db.close();
        db = await open(dir);
        c = await db.collection("scale");
      }
    },
    async writeLatency(rows, d) {
      const one = async (i: number): Promise<number> => {
        const t0 = performance.now();
        await c.upsert(records([i * 7], row(rows, d, i % (rows.length / d))));
        return performance.now() - t0;
      };
      const alone: number[] = [];
      for (let i = 0; i < 500; i++) alone.push(await one(i));
      const duringCheckpoint: number[] = [];
      let done = false;
      const t0 = performance.now();
      let checkpointMs = 0;
      const cp = db.checkpoint().then(() => {
        checkpointMs = performance.now() - t0;
        done = true;
      });
      for (let i = 500; !done; i++) duringCheckpoint.push(await one(i));
      await cp;
      return { alone, duringCheckpoint, checkpointMs };
    },
    async bytesPerVector() {
      const s = (await db.stats()).collections[0];
      return s.vectorBytes / s.count;
    },
    async close() {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

interface HnswlibIndex {
  initIndex(max: number, m: number, efc: number, seed: number): void;
  addPoint(p: number[], label: number): void;
  setEf(ef: number): void;
  searchKnn(q: number[], k: number, filter?: (label: number) => boolean): { neighbors: number[] };
  writeIndexSync(file: string): void;
  readIndexSync(file: string): void;
}

function hnswlibNode(m: number): ScaleEngine {
  const dir = mkdtempSync(join(tmpdir(), "hnswlib-scale-"));
  const { HierarchicalNSW } = require("hnswlib-node") as {
    HierarchicalNSW: new (s: string, d: number) => HnswlibIndex;
  };
  let index: HnswlibIndex;
  let d: ScaleData;
  let ef = 64;
  const asArray = plainArrays();
  const add = (ids: number[], rows: Float32Array) => {
    for (let i = 0; i < ids.length; i++) index.addPoint(Array.from(row(rows, d.dim, i)), ids[i]);
  };
  return {
    name: "hnswlib-node",
    buildThreads: "1",
    async build(data) {
      d = data;
      index = new HierarchicalNSW("l2", d.dim);
      index.initIndex(d.n + d.extra.length / d.dim, m, EF_CONSTRUCTION, 100);
      add(
        Array.from({ length: d.n }, (_, i) => i),
        d.base,
      );
    },
    setEf(e) {
      ef = e;
      index.setEf(e);
    },
    search: (q, k) => index.searchKnn(asArray(q), k).neighbors,
    // No payloads: one filter callback on the row's u serves both fields.
    searchFiltered: async (q, k, s) => ({
      ids: index.searchKnn(asArray(q), k, (label) => d.u[label] < s).neighbors,
      strategy: "filter callback",
    }),
    insert: async (ids, rows) => add(ids, rows),
    // addPoint on an existing label updates that element in place (hnswlib's updatePoint).
    replace: async (ids, rows) => add(ids, rows),
    async reopen(q) {
      const file = join(dir, "index.bin");
      index.writeIndexSync(file);
      const t0 = performance.now();
      index = new HierarchicalNSW("l2", d.dim);
      index.readIndexSync(file);
      index.setEf(ef);
      const openSeconds = seconds(t0);
      index.searchKnn(asArray(q), 10);
      return { openSeconds, firstQuerySeconds: seconds(t0) - openSeconds };
    },
    async close() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

interface UsearchIndex {
  add(keys: BigUint64Array, vectors: Float32Array, threads: number): void;
  remove(keys: BigUint64Array): unknown;
  search(q: Float32Array, k: number, threads: number): { keys: BigUint64Array };
  save(path: string): void;
  load(path: string): void;
}

function usearch(m: number): ScaleEngine {
  const dir = mkdtempSync(join(tmpdir(), "usearch-scale-"));
  const file = join(dir, "index.usearch");
  const { Index } = require("usearch") as { Index: new (c: Record<string, unknown>) => UsearchIndex };
  let index: UsearchIndex;
  let dim = 0;
  let ef = 64;
  const make = (ef: number): UsearchIndex =>
    new Index({
      dimensions: dim,
      metric: "l2sq",
      connectivity: m,
      expansion_add: EF_CONSTRUCTION,
      expansion_search: ef,
    });
  const keys = (ids: number[]) => BigUint64Array.from(ids, (i) => BigInt(i));
  return {
    name: "usearch",
    buildThreads: "all",
    async build(d) {
      dim = d.dim;
      index = make(64);
      index.add(keys(Array.from({ length: d.n }, (_, i) => i)), d.base, 0);
    },
    setEf(e) {
      // expansion_search is fixed at construction: the graph is saved and loaded into a new index.
      ef = e;
      index.save(file);
      index = make(ef);
      index.load(file);
    },
    search: (q, k) => Array.from(index.search(q, k, 1).keys, Number),
    insert: async (ids, rows) => index.add(keys(ids), rows, 1),
    // No in-place update: the old vector is removed, the new one added under the same key.
    async replace(ids, rows) {
      index.remove(keys(ids));
      index.add(keys(ids), rows, 1);
    },
    async reopen(q) {
      index.save(file);
      const t0 = performance.now();
      index = make(ef);
      index.load(file);
      const openSeconds = seconds(t0);
      index.search(q, 10, 1);
      return { openSeconds, firstQuerySeconds: seconds(t0) - openSeconds };
    },
    async close() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const SCALE_ENGINES = ["quiver", "hnswlib-node", "usearch"];

export function makeScaleEngine(name: string, o: QuiverScaleOptions = {}): ScaleEngine {
  if (name === "quiver") return quiver(o);
  if (name === "hnswlib-node") return hnswlibNode(o.m ?? M);
  if (name === "usearch") return usearch(o.m ?? M);
  throw new Error(`unknown engine ${name} (available: ${SCALE_ENGINES.join(", ")})`);
}
