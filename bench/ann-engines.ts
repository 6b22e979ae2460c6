// The engines the ANN benchmark compares, behind one small interface: Quiver (int8, f32 and binary
// traversal; int8 with the f32 originals in a scratch file on disk; its exact scan), hnswlib-node (native),
// hnswlib-wasm, usearch (native) and Orama (brute-force vectors).
// Every engine is built with M = 16 and efConstruction = 200 and searched single-threaded.

import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadKernelFactory } from "../src/core/kernels/load.js";
import { VectorSlab, type RowFile } from "../src/core/vectors/slab.js";
import { NodeDirectory } from "../src/node/fs-directory.js";
import { HnswIndex, type Quantization } from "../src/core/index/hnsw/hnsw.js";
import { annSearch, type AnnStrategy } from "../src/core/query/plan/vector-plan.js";
import { flatSearch } from "../src/core/index/flat/flat-search.js";
import type { AnnDataset } from "./ann-data.js";

export const M = 16;
export const EF_CONSTRUCTION = 200;

export interface Engine {
  name: string;
  /** Whether search results are approximate with a tunable ef (Orama scans everything). */
  tunable: boolean;
  build(ds: AnnDataset): Promise<void>;
  setEf(ef: number): Promise<void> | void;
  /** Returns row ids, best first. */
  search(q: Float32Array, k: number): ArrayLike<number | bigint> | Promise<ArrayLike<number | bigint>>;
  /** Filtered search over rows whose allowed[row] = 1 (bits: the same as a bitmap). */
  searchFiltered?(
    q: Float32Array,
    k: number,
    allowed: Uint8Array,
    bits: Uint8Array,
  ): { ids: ArrayLike<number>; strategy?: AnnStrategy };
  /** A note printed beside the results (e.g. a metric the engine lacks). */
  note?: string;
  /** Engine-reported memory per vector, when it has one. */
  memory?(): Record<string, unknown>;
}

const require = createRequire(import.meta.url);

/** A scratch file in a temporary folder (as `originals: "disk"` gets), removed when the process exits. */
function scratchRows(): RowFile {
  const path = mkdtempSync(join(tmpdir(), "quiver-originals-"));
  const rows = new NodeDirectory(path).openScratch("bench.qscratch");
  process.on("exit", () => {
    rows.close();
    rmSync(path, { recursive: true, force: true });
  });
  return rows;
}

function quiver(name: string, quantization: Quantization, originals: "memory" | "disk" = "memory"): Engine {
  let index: HnswIndex;
  let ef = 64;
  return {
    name,
    tunable: true,
    async build(ds) {
      const slab = new VectorSlab(
        await loadKernelFactory(),
        ds.dim,
        ds.metric,
        originals === "disk" ? scratchRows() : null,
      );
      slab.ensureCapacity(ds.n);
      index = await HnswIndex.create(slab, { m: M, efConstruction: EF_CONSTRUCTION, quantization });
      for (let i = 0; i < ds.n; i++) {
        slab.set(i, ds.base.subarray(i * ds.dim, (i + 1) * ds.dim));
        index.insert(i);
      }
    },
    setEf(e) {
      ef = e;
    },
    search: (q, k) => index.search(q, k, { ef }).slots,
    searchFiltered(q, k, _allowed, bits) {
      const r = annSearch(index, q, { k, ef, filter: bits });
      return { ids: r.slots, strategy: r.plan.strategy };
    },
    memory: () => ({
      ...index.stats().bytesPerVector,
      originals,
      indexBytes: index.stats().indexBytes,
      slabBytes: index.slab.bytesUsed(),
    }),
  };
}

/** Quiver's exact scan (the plan for small collections and `exact: true`): recall 1, like Orama's. */
function quiverExact(): Engine {
  let slab: VectorSlab;
  let live: Uint8Array;
  let count = 0;
  return {
    name: "quiver-exact",
    tunable: false,
    async build(ds) {
      slab = new VectorSlab(await loadKernelFactory(), ds.dim, ds.metric);
      slab.ensureCapacity(ds.n);
      for (let i = 0; i < ds.n; i++) slab.set(i, ds.base.subarray(i * ds.dim, (i + 1) * ds.dim));
      live = new Uint8Array(ds.n).fill(1);
      count = ds.n;
    },
    setEf() {},
    search: (q, k) => flatSearch(slab, q, k, { count, live }).slots,
  };
}

interface HnswlibNodeIndex {
  initIndex(max: number, m: number, efc: number, seed: number): void;
  addPoint(p: number[], label: number): void;
  setEf(ef: number): void;
  searchKnn(q: number[], k: number, filter?: (label: number) => boolean): { neighbors: number[] };
}

/**
 * Each query as a plain array (what hnswlib-node's binding takes), converted once, so that the
 * conversion stays outside the timed loops.
 */
export function plainArrays(): (q: Float32Array) => number[] {
  const arrays = new Map<Float32Array, number[]>();
  return (q) => {
    let a = arrays.get(q);
    if (a === undefined) {
      a = Array.from(q);
      arrays.set(q, a);
    }
    return a;
  };
}

function hnswlibNode(): Engine {
  let index: HnswlibNodeIndex;
  const asArray = plainArrays();
  return {
    name: "hnswlib-node",
    tunable: true,
    async build(ds) {
      const { HierarchicalNSW } = require("hnswlib-node") as {
        HierarchicalNSW: new (s: string, d: number) => HnswlibNodeIndex;
      };
      index = new HierarchicalNSW(ds.metric === "l2" ? "l2" : "cosine", ds.dim);
      index.initIndex(ds.n, M, EF_CONSTRUCTION, 100);
      for (let i = 0; i < ds.n; i++) index.addPoint(Array.from(ds.base.subarray(i * ds.dim, (i + 1) * ds.dim)), i);
    },
    setEf: (ef) => index.setEf(ef),
    search: (q, k) => index.searchKnn(asArray(q), k).neighbors,
    searchFiltered: (q, k, allowed) => ({
      ids: index.searchKnn(asArray(q), k, (label) => allowed[label] === 1).neighbors,
    }),
  };
}

interface HnswlibWasmIndex {
  initIndex(max: number, m: number, efc: number, seed: number): void;
  addPoint(p: Float32Array, label: number, replaceDeleted: boolean): void;
  setEfSearch(ef: number): void;
  searchKnn(q: Float32Array, k: number, filter: undefined): { neighbors: number[] };
}

function hnswlibWasm(): Engine {
  let index: HnswlibWasmIndex;
  return {
    name: "hnswlib-wasm",
    tunable: true,
    async build(ds) {
      // The package is an Emscripten web build: it runs in Node once it believes it is in a worker.
      const g = globalThis as Record<string, unknown>;
      g.importScripts ??= () => {};
      g.self ??= globalThis;
      const log = console.log;
      console.log = () => {};
      const { loadHnswlib } = (await import("hnswlib-wasm/dist/hnswlib.js" as string)) as {
        loadHnswlib(): Promise<{ HierarchicalNSW: new (s: string, d: number, f: string) => HnswlibWasmIndex }>;
      };
      const lib = await loadHnswlib();
      console.log = log;
      index = new lib.HierarchicalNSW(ds.metric === "l2" ? "l2" : "cosine", ds.dim, "");
      index.initIndex(ds.n, M, EF_CONSTRUCTION, 100);
      for (let i = 0; i < ds.n; i++) index.addPoint(ds.base.subarray(i * ds.dim, (i + 1) * ds.dim), i, false);
    },
    setEf: (ef) => index.setEfSearch(ef),
    search: (q, k) => index.searchKnn(q, k, undefined).neighbors,
  };
}

interface UsearchIndex {
  add(keys: BigUint64Array, vectors: Float32Array, threads: number): void;
  search(q: Float32Array, k: number, threads: number): { keys: BigUint64Array };
  save(path: string): void;
  load(path: string): void;
}

function usearch(): Engine {
  let index: UsearchIndex;
  let ds: AnnDataset;
  const dir = mkdtempSync(join(tmpdir(), "quiver-usearch-"));
  const file = join(dir, "index.usearch");
  type Ctor = new (c: Record<string, unknown>) => UsearchIndex;
  const make = (ef: number): UsearchIndex => {
    const { Index } = require("usearch") as { Index: Ctor };
    return new Index({
      dimensions: ds.dim,
      metric: ds.metric === "l2" ? "l2sq" : "cos",
      connectivity: M,
      expansion_add: EF_CONSTRUCTION,
      expansion_search: ef,
    });
  };
  return {
    name: "usearch",
    tunable: true,
    async build(d) {
      ds = d;
      index = make(64);
      const keys = new BigUint64Array(ds.n);
      for (let i = 0; i < ds.n; i++) keys[i] = BigInt(i);
      index.add(keys, ds.base, 1);
      index.save(file);
    },
    setEf(ef) {
      // usearch fixes expansion_search at construction: reload the saved graph with the new value.
      index = make(ef);
      index.load(file);
    },
    search: (q, k) => index.search(q, k, 1).keys,
    note: "expansion_search changed by reloading the saved index",
    memory: () => {
      rmSync(dir, { recursive: true, force: true });
      return {};
    },
  };
}

function orama(): Engine {
  type Db = unknown;
  let db: Db;
  let search: (db: Db, p: Record<string, unknown>) => unknown;
  let metric: string;
  return {
    name: "orama",
    tunable: false,
    async build(ds) {
      metric = ds.metric;
      const o = (await import("@orama/orama")) as unknown as {
        create(p: Record<string, unknown>): Db;
        insertMultiple(db: Db, docs: unknown[], batch?: number): unknown;
        search(db: Db, p: Record<string, unknown>): unknown;
      };
      db = o.create({ schema: { v: `vector[${ds.dim}]` } });
      const docs = Array.from({ length: ds.n }, (_, i) => ({
        id: String(i),
        v: Array.from(ds.base.subarray(i * ds.dim, (i + 1) * ds.dim)),
      }));
      await o.insertMultiple(db, docs, 1000);
      search = o.search;
    },
    setEf() {},
    search(q, k) {
      type R = { hits: { id: string }[] };
      const r = search(db, {
        mode: "vector",
        vector: { value: Array.from(q), property: "v" },
        similarity: 0,
        limit: k,
      }) as R | Promise<R>;
      const ids = (x: R): number[] => x.hits.map((h) => Number(h.id));
      return r instanceof Promise ? r.then(ids) : ids(r);
    },
    get note() {
      return metric === "l2" ? "Orama has cosine similarity only; recall is against the L2 ground truth" : undefined;
    },
  };
}

export const ENGINE_NAMES = [
  "quiver",
  "quiver-f32",
  "quiver-binary",
  "quiver-int8-disk",
  "quiver-exact",
  "hnswlib-node",
  "hnswlib-wasm",
  "usearch",
  "orama",
];

export function makeEngine(name: string): Engine {
  switch (name) {
    case "quiver":
      return quiver(name, "int8");
    case "quiver-f32":
      return quiver(name, "none");
    case "quiver-binary":
      return quiver(name, "binary");
    case "quiver-int8-disk":
      return quiver(name, "int8", "disk");
    case "quiver-exact":
      return quiverExact();
    case "hnswlib-node":
      return hnswlibNode();
    case "hnswlib-wasm":
      return hnswlibWasm();
    case "usearch":
      return usearch();
    case "orama":
      return orama();
    default:
      throw new Error(`unknown engine ${name} (available: ${ENGINE_NAMES.join(", ")})`);
  }
}
